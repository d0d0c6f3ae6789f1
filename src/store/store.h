/* The data directory as a whole (docs/design.md): opening it with the
 * writer's lock, constant-time recovery of `current`, the resumable seal
 * (rotation) sequence, retention and the durable watermark file.  The
 * commit engine (engine.c) drives it; appends themselves go through the
 * engine.  All file creation, writes, fsyncs, renames and unlinks go
 * through the fsops it is given (the io_uring in the daemon).
 *
 * struct store is opaque: its state is written by the store's own files
 * only (store.c, store_recover.c, store_seal.c, store_retention.c, which
 * share it through store_internal.h); the engine reports what it
 * committed (store_committed) and takes seqs (store_take_seq), everyone
 * else reads through store_get_status(). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cleanup.h"
#include "fsops.h"
#include "record.h"
#include "segdir.h"

enum {
	/* The engine never writes more than this in one commit, so at most
	 * this much plus one line at the end of `current` can be unsynced. */
	STORE_WRITE_MAX = 1 << 20,
};

struct store;

struct store_config {
	const char *dir;
	mode_t dir_mode;
	mode_t file_mode;
	uint32_t max_record; /* bounds the longest line recovery must expect */
	struct segdir_retention retention;
	/* the shipper's progress (store_set_ship), from the first retention
	 * on: recovery's runs it too */
	int (*shipped)(void *ctx, const struct store *s, uint64_t *ret_seq);
	void *ship_ctx;
	bool ship_wait;
};

size_t store_max_line(uint32_t max_record);

/* Opens (creating if needed, and fsyncing the parent) the directory,
 * takes the lock, runs retention, recovers `current`, makes what it
 * recovered durable (fdatasync) and writes DIR/watermark.  Logs what it
 * finds and decides (torn tails, stale files, an empty current) and every
 * fatal problem with the path involved.
 *
 * A full disk is not fatal: if the torn tail cannot be copied to
 * quarantine/ (or the new current cannot be created) for lack of space,
 * the store opens with that step pending (store_repair_pending()); the
 * engine holds every commit and retries store_repair() with backoff. */
int store_open(const struct store_config *cfg, const struct fsops *ops, struct store **ret);
struct store *store_free(struct store *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct store *, store_free)

/* Recovery steps that store_open() could not finish (full disk): the
 * quarantine copy and cut of a torn tail, moving an empty current aside,
 * the fdatasync of current, then the watermark.  Runs retention first.
 * 0 when nothing is pending any more. */
int store_repair(struct store *s);
bool store_repair_pending(const struct store *s);

/* Seals current (if it holds records) and creates the next one.
 * Resumable: after an error, calling it again continues with the step
 * that failed.  Returns 0 when current is open and writable again. */
int store_seal(struct store *s, uint64_t now_us);
bool store_seal_pending(const struct store *s);
/* True when records may be written to current (store_cur_fd()). */
bool store_writable(const struct store *s);

/* Removes the oldest sealed segments the retention rules want gone.
 * max_age compares now_us with each sealed segment's st_mtime. */
int store_retention(struct store *s, uint64_t now_us);
void store_set_retention(struct store *s, const struct segdir_retention *r);
/* The shipper's progress for retention: shipped() gives the last seq shipped
 * (0) or fails (< 0: nothing known, retention as without a shipper); it may
 * use store_dir_id() and store_next_seq() of the store it is given.  With
 * wait, retention keeps every segment holding seqs past it, except for
 * keep_free; without, it removes them with a warning.  NULL: no shipper. */
void store_set_ship(struct store *s, int (*shipped)(void *ctx, const struct store *s,
						  uint64_t *ret_seq),
		    void *ctx, bool wait);

/* What store_vacuum() did. */
struct store_vacuum_result {
	uint64_t removed, bytes;   /* segments removed, and their bytes */
	uint64_t first, last;	   /* the seqs they held (removed > 0) */
	uint64_t kept_unshipped;   /* segments the vacuum wanted but keep_from kept */
};
/* Removes the oldest sealed segments over the limits v gives, now, as
 * retention does (each removal durable before the next), but never one
 * holding a seq >= keep_from (0: no such bound; the shipper's cursor + 1). */
int store_vacuum(struct store *s, const struct segdir_vacuum *v, uint64_t keep_from,
		 struct store_vacuum_result *ret);
/* Free bytes available to us on the data directory's file system. */
uint64_t store_disk_free(const struct store *s);

/* The seq the next record gets, and takes it. */
uint64_t store_take_seq(struct store *s);
uint64_t store_next_seq(const struct store *s);
/* The engine made bytes (records) durable at the end of current. */
void store_committed(struct store *s, uint64_t bytes, uint64_t records);
int store_cur_fd(const struct store *s);
uint64_t store_cur_size(const struct store *s);
uint64_t store_cur_records(const struct store *s);
uint64_t store_cur_first_seq(const struct store *s);
/* Wall-clock creation time of current, from its header line. */
uint64_t store_cur_created_us(const struct store *s);

/* DIR/watermark, open for writing in place (WATERMARK_LEN bytes at 0). */
int store_watermark_fd(const struct store *s);
/* Rewrites DIR/watermark in place (WATERMARK_LEN bytes at offset 0, not
 * fsynced) with seq, through the store's file operations; the engine calls
 * it after each commit, before the acknowledgements go out, so a record a
 * client saw acknowledged is visible to readers (docs/format.md). */
int store_publish_watermark(struct store *s, uint64_t seq);
/* True if DIR/watermark had been removed or replaced (our descriptor's file
 * has no name any more) and was recreated: publish again.  The engine
 * checks once a second, so readers are not left blind until a restart. */
bool store_check_watermark(struct store *s);
/* What is durable of what recovery found: its last seq once the repair
 * (quarantine, fsync) is done, and until then no more than the watermark
 * found at open (records recovered from the page cache after a crash are
 * not durable before the repair's fsync).  The engine's durable seq starts
 * there. */
uint64_t store_durable_seq(const struct store *s);
const uint8_t *store_dir_id(const struct store *s);
const char *store_path(const struct store *s);
/* The sealed segments, oldest first (mtime_us: st_mtime after the seal). */
const struct segdir_entry *store_sealed(const struct store *s, size_t *ret_n);

/* Replaces the file operations (tests inject faults with it). */
void store_set_fsops(struct store *s, const struct fsops *ops);

/* What the server and the daemon may show of the store (read-only view). */
struct store_status {
	const char *path;	     /* the data directory */
	uint64_t next_seq;	     /* the seq the next record gets */
	uint64_t segment_first_seq; /* first seq of `current` */
	size_t sealed_segments;
	uint64_t removed_segments;  /* by retention, since open */
	uint64_t quarantined_bytes; /* torn tails cut at start-up */
	bool have_ship;		    /* a shipper's progress is known: */
	uint64_t shipped_seq;	    /* ... the last seq it shipped */
	uint64_t ship_lag_bytes;    /* ... bytes of the segments past it (an estimate) */
	uint64_t oldest_seq;	    /* the first seq still on disk (where lag can start) */
	uint64_t unshipped_removed; /* seqs retention removed before they were shipped */
};
void store_get_status(const struct store *s, struct store_status *ret);

/* Wall-clock time (record stamps, file times); never for intervals. */
uint64_t store_now_us(void);
