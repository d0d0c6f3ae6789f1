/* The kernel log input (like rsyslog's imklog): reads /dev/kmsg, one record
 * per read(), and hands each one as a struct record to a callback the
 * daemon gives, so this module knows nothing of the server or the engine.
 *
 * Mapping (docs/syslog.md, "The kernel log"): tag "kernel"; trusted
 * pid/uid/gid 0/0/0 (the kernel); facility and severity as the kernel
 * reports them (kern for the kernel's own messages, user for what userspace
 * wrote into /dev/kmsg; a facility above 23 becomes user); receive time now;
 * claimed time the printk's CLOCK_MONOTONIC stamp plus the current
 * realtime - monotonic offset; the message unescaped; the SUBSYSTEM=/DEVICE=
 * continuation lines dropped.
 *
 * No duplicates after a restart: the daemon tells kmsgsrv_committed() which
 * of its seqs are durable; the kmsg seq of the last durable kernel record
 * is kept in DIR/kmsg ("seglog-kmsg 1 BOOTID SEQ"), written through the
 * atomic-file guard at most once per state_interval_us and at
 * kmsgsrv_free().  On start, records of the same boot (boot id from
 * /proc/sys/kernel/random/boot_id) at or below SEQ are skipped.  After a
 * crash the records committed since the last state write are read again:
 * at most state_interval_us (1 s) worth of kernel records are duplicated;
 * none is lost unless the kernel's ring buffer overwrote it meanwhile
 * (which the seq gap shows and is logged). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "cleanup.h"
#include "record.h"

struct event_base;
struct kmsgsrv;

#define KMSGSRV_DEVICE "/dev/kmsg"
#define KMSGSRV_BOOT_ID "/proc/sys/kernel/random/boot_id"
#define KMSGSRV_STATE_FILE "kmsg"
#define KMSGSRV_TAG "kernel"

/* Appends r (r->seq is then the daemon's seq for it).  0 on success;
 * -ENOBUFS: no room now, kmsgsrv keeps the record and retries it (after
 * 10 ms, or at kmsgsrv_pause(false)); any other error: the record is
 * dropped and counted. */
typedef int (*kmsgsrv_append_fn)(void *userdata, struct record *r);

struct kmsgsrv_config {
	const char *device;	    /* NULL: /dev/kmsg */
	int fd;			    /* >= 0: read this instead of opening device (taken over) */
	const char *dir;	    /* the data directory, for DIR/kmsg */
	const char *boot_id_path;   /* NULL: /proc/sys/kernel/random/boot_id */
	uint64_t state_interval_us; /* least time between state writes; 0: 1 s */
};

struct kmsgsrv_stats {
	uint64_t records;   /* appended */
	uint64_t skipped;   /* at or below the persisted seq: already stored */
	uint64_t lost;	    /* seq gaps: overwritten in the kernel before we read them */
	uint64_t overruns;  /* read() returned EPIPE */
	uint64_t malformed; /* not parseable; dropped */
	uint64_t dropped;   /* refused by the append callback (e.g. too large) */
	uint64_t state_writes;
	uint64_t state_errors;
	uint64_t committed_seq; /* kmsg seq of the last durable kernel record */
	bool have_committed;
};

/* Opens the device (O_RDONLY|O_NONBLOCK|O_CLOEXEC) and reads DIR/kmsg.
 * Returns -errno if the device cannot be opened (EACCES, EPERM with
 * kernel.dmesg_restrict=1 and no CAP_SYSLOG, ENOENT in some containers),
 * after logging why the kernel log input is off; the daemon runs on
 * without it. */
int kmsgsrv_new(struct event_base *base, const struct kmsgsrv_config *cfg,
		kmsgsrv_append_fn append, void *userdata, struct kmsgsrv **ret);
/* Writes DIR/kmsg if it is behind (clean shutdown: call it after the last
 * commit was reported, i.e. after the drain), closes the device. */
struct kmsgsrv *kmsgsrv_free(struct kmsgsrv *k);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct kmsgsrv *, kmsgsrv_free)

/* The engine's committed() report: every daemon seq <= durable_seq is
 * durable.  Schedules the state write. */
void kmsgsrv_committed(struct kmsgsrv *k, uint64_t durable_seq);
/* stop: read nothing more (engine backpressure, or the drain); !stop:
 * resume. */
void kmsgsrv_pause(struct kmsgsrv *k, bool stop);
/* Writes DIR/kmsg now if it is behind; 0 or -errno. */
int kmsgsrv_flush(struct kmsgsrv *k);
const struct kmsgsrv_stats *kmsgsrv_stats(const struct kmsgsrv *k);
