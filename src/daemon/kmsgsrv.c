/* The kernel log input: /dev/kmsg to records (kmsgsrv.h).  The ABI is the
 * kernel's Documentation/ABI/testing/dev-kmsg: every read() returns one
 * whole record or fails with EINVAL if the buffer is too small; EPIPE
 * means records were overwritten since the last read, and the next read()
 * returns the oldest one still there. */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "atomicfile.h"
#include "kmsg.h"
#include "kmsgsrv.h"
#include "log.h"
#include "now.h"

enum {
	KMSGSRV_BUF = 2 * KMSG_RECORD_MAX, /* one record, with room to spare */
	KMSGSRV_BATCH = 256,		   /* reads per wake-up */
	KMSGSRV_MARKS = 64,		   /* (daemon seq, kmsg seq) pairs awaiting commit */
	KMSGSRV_BOOT_ID_LEN = 36,
	KMSGSRV_RETRY_US = 10000,
};

/* "the record with daemon seq `seq` carried kmsg seq `kseq`" */
struct kmsgsrv_mark {
	uint64_t seq;
	uint64_t kseq;
};

struct kmsgsrv {
	struct event_base *base;
	kmsgsrv_append_fn append;
	void *userdata;
	int fd;
	int dir_fd;
	struct event *read_ev;
	struct event *retry_ev; /* retries a held record after -ENOBUFS */
	struct event *state_ev; /* the rate-limited state write */
	char boot_id[KMSGSRV_BOOT_ID_LEN + 1];
	bool have_boot_id;
	uint64_t skip_seq; /* records <= this (same boot) are stored already */
	bool have_skip;
	uint64_t next_seq; /* the kmsg seq expected next: a larger one is a gap */
	bool paused;
	bool eof;
	size_t held; /* bytes of a record in buf not yet appended (-ENOBUFS) */
	struct kmsgsrv_mark marks[KMSGSRV_MARKS];
	size_t mark_head, n_marks;
	uint64_t written_seq; /* what DIR/kmsg says */
	bool have_written;
	uint64_t state_interval_us;
	uint64_t last_write_mono;
	struct kmsgsrv_stats st;
	char buf[KMSGSRV_BUF];
	char scratch[KMSGSRV_BUF];
};

static void kmsgsrv_readcb(evutil_socket_t fd, short what, void *arg);
static void kmsgsrv_retrycb(evutil_socket_t fd, short what, void *arg);
static void kmsgsrv_statecb(evutil_socket_t fd, short what, void *arg);

/* Reads this boot's id (a UUID, random(4)); a missing one disables the
 * skip, which can duplicate but never lose. */
static void
kmsgsrv_read_boot_id(struct kmsgsrv *k, const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0) {
		log_warning_errno(errno, "Cannot read the boot id from %s: %m; kernel log records "
				  "may be stored twice across a restart", path);
		return;
	}
	n = read(fd, k->boot_id, KMSGSRV_BOOT_ID_LEN);
	if (n != KMSGSRV_BOOT_ID_LEN) {
		log_warning("Unexpected boot id in %s; kernel log records may be stored twice "
			    "across a restart", path);
		return;
	}
	k->boot_id[KMSGSRV_BOOT_ID_LEN] = '\0';
	k->have_boot_id = true;
}

/* Reads DIR/kmsg, "seglog-kmsg 1 BOOTID SEQ\n".  The seq counts only for
 * the boot that wrote it: the kernel numbers records from 0 at each boot. */
static void
kmsgsrv_read_state(struct kmsgsrv *k)
{
	_cleanup_close_ int fd = openat(k->dir_fd, KMSGSRV_STATE_FILE,
					O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	char line[128], boot[KMSGSRV_BOOT_ID_LEN + 1];
	unsigned long long seq;
	unsigned version;
	ssize_t n;

	if (fd < 0) {
		if (errno != ENOENT)
			log_warning_errno(errno, "Cannot read %s: %m; reading the whole kernel log",
					  KMSGSRV_STATE_FILE);
		return;
	}
	n = read(fd, line, sizeof(line) - 1);
	if (n <= 0)
		return;
	line[n] = '\0';
	if (sscanf(line, "seglog-kmsg %u %36s %llu", &version, boot, &seq) != 3 || version != 1) {
		log_warning("Ignoring malformed %s; reading the whole kernel log", KMSGSRV_STATE_FILE);
		return;
	}
	k->written_seq = seq;
	k->have_written = true;
	if (k->have_boot_id && strcmp(boot, k->boot_id) == 0) {
		k->skip_seq = seq;
		k->have_skip = true;
		k->next_seq = seq + 1;
		k->st.committed_seq = seq;
		k->st.have_committed = true;
	}
}

int
kmsgsrv_flush(struct kmsgsrv *k)
{
	char line[128];
	int n, r;

	if (!k->st.have_committed || !k->have_boot_id ||
	    (k->have_written && k->written_seq == k->st.committed_seq))
		return 0;
	n = snprintf(line, sizeof(line), "seglog-kmsg 1 %s %" PRIu64 "\n", k->boot_id,
		     k->st.committed_seq);
	r = atomic_file_write_all(&fsops_syscall, k->dir_fd, KMSGSRV_STATE_FILE, 0640, line,
				  (size_t)n);
	k->last_write_mono = now_us(CLOCK_MONOTONIC);
	if (r < 0) {
		if (k->st.state_errors++ == 0)
			log_warning_errno(r, "Cannot write %s: %m; retrying (kernel log records "
					  "may be stored twice after a restart)", KMSGSRV_STATE_FILE);
		return r;
	}
	k->written_seq = k->st.committed_seq;
	k->have_written = true;
	k->st.state_writes++;
	return 0;
}

/* Writes the state now if the last write is state_interval_us old, else
 * once it is. */
static void
kmsgsrv_schedule_state(struct kmsgsrv *k)
{
	uint64_t now = now_us(CLOCK_MONOTONIC);
	uint64_t due = k->last_write_mono + k->state_interval_us;
	struct timeval tv;

	if (evtimer_pending(k->state_ev, NULL))
		return;
	if (k->last_write_mono == 0 || now >= due) {
		if (kmsgsrv_flush(k) == 0)
			return;
		due = now + k->state_interval_us;
	}
	tv.tv_sec = (time_t)((due - now) / 1000000);
	tv.tv_usec = (suseconds_t)((due - now) % 1000000);
	evtimer_add(k->state_ev, &tv);
}

static void
kmsgsrv_statecb(evutil_socket_t fd, short what, void *arg)
{
	struct kmsgsrv *k = arg;

	(void)fd;
	(void)what;
	kmsgsrv_schedule_state(k);
}

void
kmsgsrv_committed(struct kmsgsrv *k, uint64_t durable_seq)
{
	bool advanced = false;

	while (k->n_marks > 0 && k->marks[k->mark_head].seq <= durable_seq) {
		k->st.committed_seq = k->marks[k->mark_head].kseq;
		k->st.have_committed = true;
		k->mark_head = (k->mark_head + 1) % KMSGSRV_MARKS;
		k->n_marks--;
		advanced = true;
	}
	if (advanced)
		kmsgsrv_schedule_state(k);
}

/* Remembers that daemon seq `seq` carries kmsg seq `kseq`.  When the ring is
 * full the newest mark is moved forward instead: the state then advances
 * a little later, never too early. */
static void
kmsgsrv_mark(struct kmsgsrv *k, uint64_t seq, uint64_t kseq)
{
	size_t i;

	if (k->n_marks == KMSGSRV_MARKS) {
		i = (k->mark_head + KMSGSRV_MARKS - 1) % KMSGSRV_MARKS;
	} else {
		i = (k->mark_head + k->n_marks) % KMSGSRV_MARKS;
		k->n_marks++;
	}
	k->marks[i] = (struct kmsgsrv_mark){ .seq = seq, .kseq = kseq };
}

/* Counts and logs a seq gap: records the kernel overwrote before we read
 * them (or while the daemon was down). */
static void
kmsgsrv_check_gap(struct kmsgsrv *k, uint64_t seq)
{
	if (seq > k->next_seq) {
		uint64_t n = seq - k->next_seq;
		k->st.lost += n;
		log_warning("%" PRIu64 " kernel log records (seq %" PRIu64 "..%" PRIu64 ") were "
			    "overwritten in the kernel's buffer before seglogd read them",
			    n, k->next_seq, seq - 1);
	}
	k->next_seq = seq + 1;
}

/* Turns the record in buf (held bytes) into a struct record and appends
 * it.  Returns -ENOBUFS if it must be retried, else 0. */
static int
kmsgsrv_deliver(struct kmsgsrv *k, uint64_t now_us, uint64_t offset_us)
{
	struct kmsg_record m;
	struct record r;
	int ret;

	if (kmsg_parse(k->buf, k->held, k->scratch, &m) < 0) {
		if (k->st.malformed++ == 0)
			log_warning("Dropping a malformed record from %s", KMSGSRV_DEVICE);
		k->held = 0;
		return 0;
	}
	if (k->have_skip && m.seq <= k->skip_seq) {
		k->st.skipped++;
		k->held = 0;
		return 0;
	}
	r = (struct record){
		.time_us = now_us,
		.pid = 0,
		.uid = 0,
		.gid = 0,
		.facility = m.facility <= 23 ? m.facility : 1,
		.severity = m.severity,
		.tag = KMSGSRV_TAG,
		.tag_len = sizeof(KMSGSRV_TAG) - 1,
		.msg = m.msg,
		.msg_len = m.msg_len,
		.claimed_pid = RECORD_NO_CLAIMED_PID,
		.claimed_time_us = m.ts_us + offset_us,
	};
	ret = k->append(k->userdata, &r);
	if (ret == -ENOBUFS)
		return ret;
	kmsgsrv_check_gap(k, m.seq);
	k->held = 0;
	if (ret < 0) {
		k->st.dropped++;
		return 0;
	}
	k->st.records++;
	kmsgsrv_mark(k, r.seq, m.seq);
	return 0;
}

static void
kmsgsrv_hold(struct kmsgsrv *k)
{
	struct timeval tv = { 0, KMSGSRV_RETRY_US };

	event_del(k->read_ev);
	evtimer_add(k->retry_ev, &tv);
}

/* Reads up to a batch of records.  The realtime - monotonic offset is
 * taken once per wake-up: a printk stamp is CLOCK_MONOTONIC, which stops
 * during suspend and is not stepped by settimeofday, so the claimed time
 * of a record is off by any suspend or clock step between the printk and
 * the read (docs/syslog.md). */
static void
kmsgsrv_readcb(evutil_socket_t fd, short what, void *arg)
{
	struct kmsgsrv *k = arg;
	uint64_t now = now_us(CLOCK_REALTIME);
	uint64_t offset = now - now_us(CLOCK_MONOTONIC);

	(void)what;
	if (k->held > 0 && kmsgsrv_deliver(k, now, offset) == -ENOBUFS) {
		kmsgsrv_hold(k);
		return;
	}
	for (int i = 0; i < KMSGSRV_BATCH && !k->paused; i++) {
		ssize_t n = read(fd, k->buf, sizeof(k->buf));

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			if (errno == EPIPE) {
				k->st.overruns++; /* the seq gap of the next read says how many */
				continue;
			}
			log_error_errno(errno, "Reading %s: %m; kernel log input stopped",
					KMSGSRV_DEVICE);
			event_del(k->read_ev);
			return;
		}
		if (n == 0) {
			k->eof = true; /* not /dev/kmsg: a test's stand-in was closed */
			event_del(k->read_ev);
			return;
		}
		k->held = (size_t)n;
		if (kmsgsrv_deliver(k, now, offset) == -ENOBUFS) {
			kmsgsrv_hold(k);
			return;
		}
	}
}

static void
kmsgsrv_retrycb(evutil_socket_t fd, short what, void *arg)
{
	struct kmsgsrv *k = arg;

	(void)fd;
	(void)what;
	if (k->paused)
		return;
	event_add(k->read_ev, NULL);
	kmsgsrv_readcb(k->fd, EV_READ, k);
}

void
kmsgsrv_pause(struct kmsgsrv *k, bool stop)
{
	if (k->paused == stop)
		return;
	k->paused = stop;
	if (stop) {
		event_del(k->read_ev);
		event_del(k->retry_ev);
	} else if (!k->eof) {
		event_add(k->read_ev, NULL);
		event_active(k->read_ev, EV_READ, 0);
	}
}

int
kmsgsrv_new(struct event_base *base, const struct kmsgsrv_config *cfg,
	    kmsgsrv_append_fn append, void *userdata, struct kmsgsrv **ret)
{
	const char *dev = cfg->device ? cfg->device : KMSGSRV_DEVICE;
	_cleanup_(kmsgsrv_freep) struct kmsgsrv *k = NULL;
	_cleanup_close_ int fd = cfg->fd;

	if (fd < 0) {
		fd = open(dev, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			return log_warning_errno(errno, "Kernel log input off: cannot open %s: %m%s",
						 dev, errno == EPERM || errno == EACCES ?
						 " (reading it needs CAP_SYSLOG when "
						 "kernel.dmesg_restrict=1)" : "");
	}
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->fd = -EBADF;
	k->base = base;
	k->append = append;
	k->userdata = userdata;
	k->state_interval_us = cfg->state_interval_us ? cfg->state_interval_us : 1000000;
	k->dir_fd = open(cfg->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (k->dir_fd < 0)
		return log_error_errno(errno, "Cannot open %s for the kernel log state: %m",
				       cfg->dir);
	k->read_ev = event_new(base, fd, EV_READ | EV_PERSIST, kmsgsrv_readcb, k);
	k->retry_ev = evtimer_new(base, kmsgsrv_retrycb, k);
	k->state_ev = evtimer_new(base, kmsgsrv_statecb, k);
	if (!k->read_ev || !k->retry_ev || !k->state_ev)
		return -ENOMEM;
	kmsgsrv_read_boot_id(k, cfg->boot_id_path ? cfg->boot_id_path : KMSGSRV_BOOT_ID);
	kmsgsrv_read_state(k);
	if (event_add(k->read_ev, NULL) < 0)
		return log_error_errno(EINVAL, "Cannot watch %s", dev);
	k->fd = TAKE_FD(fd);
	event_active(k->read_ev, EV_READ, 0); /* records already in the buffer */
	if (k->have_skip)
		log_info("Kernel log input from %s, after seq %" PRIu64 " of this boot", dev,
			 k->skip_seq);
	else
		log_info("Kernel log input from %s, from its oldest record", dev);
	*ret = TAKE_PTR(k);
	return 0;
}

struct kmsgsrv *
kmsgsrv_free(struct kmsgsrv *k)
{
	if (!k)
		return NULL;
	if (k->dir_fd >= 0)
		(void)kmsgsrv_flush(k);
	if (k->read_ev)
		event_free(k->read_ev);
	if (k->retry_ev)
		event_free(k->retry_ev);
	if (k->state_ev)
		event_free(k->state_ev);
	safe_close(k->fd);
	safe_close(k->dir_fd);
	free(k);
	return NULL;
}

const struct kmsgsrv_stats *
kmsgsrv_stats(const struct kmsgsrv *k)
{
	return &k->st;
}
