/* seglog ship's cursor file (ship_internal.h, cursor.h): opened once with
 * a lock (one shipper per cursor file), checked against the directory it
 * ships (a cursor of another directory starts over; one past the newest
 * record is refused), and saved through the atomic-file guard at most
 * every 100 ms.  A save that fails is retried at that pace, logged once
 * when it starts failing and once when it works again, and shown in the
 * status meanwhile. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <dirent.h>
#include <limits.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"
#include "cleanup.h"
#include "log.h"
#include "ship_internal.h"

/* CURSOR.lock beside the cursor, flock'ed for as long as we run: the
 * cursor itself is replaced on every save, so it cannot carry the lock. */
static int
ship_cursor_lock(struct ship *s)
{
	const char *path = s->cfg->cursor_path;
	_cleanup_free_ char *lock = NULL;

	if (asprintf(&lock, "%s.lock", s->cf.name) < 0)
		return log_error_errno(-ENOMEM, "Out of memory");
	s->lock_fd = openat(s->cf.dir_fd, lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (s->lock_fd < 0)
		return log_error_errno(-EINVAL, "Cursor file %s: cannot create its lock %s.lock: %s",
				       path, path, strerror(errno));
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0)
		return log_error_errno(-EINVAL, "Cursor file %s is in use by another seglog ship "
				       "(it holds %s.lock): run one shipper per cursor file, or give "
				       "this one its own with --cursor-file", path, path);
	return 0;
}

/* The lock file still there, and still ours?  Removed or replaced (by
 * hand), another shipper could take the cursor: take it again, and if
 * that fails, someone did.  From the tick; 0, or -EBUSY (logged). */
int
ship_cursor_relock(struct ship *s)
{
	_cleanup_free_ char *lock = NULL;
	struct stat a, b;

	if (s->lock_fd < 0 || asprintf(&lock, "%s.lock", s->cf.name) < 0)
		return 0;
	if (fstat(s->lock_fd, &a) == 0 &&
	    fstatat(s->cf.dir_fd, lock, &b, AT_SYMLINK_NOFOLLOW) == 0 && a.st_dev == b.st_dev &&
	    a.st_ino == b.st_ino)
		return 0;
	log_warning("Cursor file %s: its lock %s.lock was removed or replaced; taking it again",
		    s->cfg->cursor_path, s->cfg->cursor_path);
	s->lock_fd = safe_close(s->lock_fd);
	if (ship_cursor_lock(s) < 0)
		return -EBUSY;
	return 0;
}

/* Temporaries of the atomic-file guard that a kill -9 left mid-save
 * (".tmp." NAME "." 16 hex digits): ours alone, since we hold the lock. */
static void
ship_cursor_sweep(struct ship *s)
{
	_cleanup_(closedirp) DIR *d = NULL;
	char prefix[NAME_MAX + 16];
	struct dirent *de;
	size_t n;
	int fd;

	n = (size_t)snprintf(prefix, sizeof(prefix), ATOMIC_FILE_PREFIX "%s.", s->cf.name);
	fd = openat(s->cf.dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || !(d = fdopendir(fd))) {
		safe_close(fd);
		return;
	}
	while ((de = readdir(d)))
		if (strncmp(de->d_name, prefix, n) == 0 && strlen(de->d_name + n) == 16 &&
		    strspn(de->d_name + n, "0123456789abcdef") == 16 &&
		    unlinkat(s->cf.dir_fd, de->d_name, 0) == 0)
			log_info("Removed %s, left by a shipper killed while it saved the cursor",
				 de->d_name);
}

/* Opens, locks and reads the cursor.  None yet, or one of another data
 * directory (recreated: its seqs start at 1 again), means: from the first
 * retained record. */
int
ship_cursor_open(struct ship *s, uint64_t *ret_seq)
{
	const char *path = s->cfg->cursor_path;
	struct cursor c;
	int k;

	*ret_seq = 0;
	k = cursor_file_open(&s->cf, path, s->cfg->dir, SHIPQ_SAVE_PERIOD_US);
	if (k == -EROFS)
		return log_error_errno(-EINVAL, "Cursor file %s: not inside the data directory",
				       path);
	if (k < 0)
		/* the configuration names a place that cannot hold it: exit 2 */
		return log_error_errno(k == -EISDIR || k == -ENOENT || k == -ENOTDIR ||
						       k == -EACCES || k == -ENAMETOOLONG ||
						       k == -ELOOP ? -EINVAL : k,
				       "Cursor file %s: %s: create its directory (writable by the "
				       "shipper) or set cursor_file / --cursor-file elsewhere",
				       path, strerror(-k));
	k = ship_cursor_lock(s);
	if (k < 0)
		return k;
	ship_cursor_sweep(s);
	k = cursor_file_load(&s->cf, &c);
	if (k == -ENOENT) {
		log_info("No cursor file %s yet: shipping from the first retained record", path);
		return 0;
	}
	if (k == -EBADMSG)
		return log_error_errno(-EINVAL, "Cursor file %s does not hold a cursor (remove it to "
				       "ship from the first retained record)", path);
	if (k == -ELOOP)
		return log_error_errno(-EINVAL, "Cursor file %s is a symbolic link: name the file "
				       "itself (the cursor is replaced on every save)", path);
	if (k < 0)
		return log_error_errno(k, "Cannot read cursor file %s: %m", path);
	if (cursor_check_dir(&c, s->dir_id) < 0) {
		log_notice("Cursor file %s belongs to another data directory (recreated?): "
			   "shipping %s from its first retained record", path, s->cfg->dir);
		return 0;
	}
	*ret_seq = c.seq;
	s->start_time_us = c.time_us;
	return 0;
}

/* The cursor as it stands: the last confirmed seq and its record's time. */
static struct cursor
ship_cursor_now(struct ship *s)
{
	struct cursor c = { .seq = shipq_confirmed(s->q), .time_us = shipq_confirmed_time(s->q) };

	if (!c.time_us)
		c.time_us = s->start_time_us; /* nothing confirmed since the start */
	memcpy(c.dir_id, s->dir_id, sizeof(c.dir_id));
	return c;
}

/* The record the cursor names, if it is still there, must be the one
 * shipped: same seq, same receive time.  Another one means a directory
 * restored from an older copy to which seglogd has written since: its
 * seqs after the copy name other records than those shipped. */
static int
ship_cursor_check_record(struct ship *s, uint64_t seq)
{
	struct reader_event ev;
	int k;

	if (!s->start_time_us)
		return 0; /* a version 1 cursor: nothing to compare */
	k = reader_seek_seq(s->rd, seq);
	while (k >= 0 && (k = reader_next(s->rd, &ev)) == READER_NEXT_EVENT)
		if (ev.type == READER_RECORD)
			break;
	if (k != READER_NEXT_EVENT || ev.rec.seq != seq || ev.rec.time_us == s->start_time_us)
		return 0; /* gone (retention), or the same record */
	return log_error_errno(-EINVAL, "Cursor file %s names seq %" PRIu64 " received at %" PRIu64
			       " us, but seq %" PRIu64 " of %s was received at %" PRIu64 " us: "
			       "another record. The directory was restored from an older copy and "
			       "seglogd wrote to it since: its seqs after the copy reuse seqs "
			       "already shipped, which consumers that dedup drop (docs/shipping.md). "
			       "To ship anyway, remove the cursor file",
			       s->cfg->cursor_path, seq, s->start_time_us, seq, s->cfg->dir,
			       ev.rec.time_us);
}

/* A cursor of this directory past its newest record would skip every
 * record up to it: the directory was restored from an older copy, or a
 * power loss took back records already shipped (durability = write).
 * Refused, as seglogd refuses it for retention. */
int
ship_cursor_check_end(struct ship *s, uint64_t seq)
{
	uint64_t newest = 0;

	if (seq == 0)
		return 0;
	(void)reader_last_seq(s->rd, &newest);
	newest = ship_durable_seq(s) > newest ? ship_durable_seq(s) : newest;
	if (seq <= newest)
		return ship_cursor_check_record(s, seq);
	return log_error_errno(-EINVAL, "Cursor file %s is at seq %" PRIu64 ", past the newest "
			       "record of %s (%" PRIu64 "): the directory was restored from an "
			       "older copy, or records already shipped were lost (a power loss "
			       "with durability = write). New records will reuse seqs %" PRIu64
			       "..%" PRIu64 ", which consumers that dedup drop; see "
			       "docs/shipping.md. To ship anyway, remove the cursor file",
			       s->cfg->cursor_path, seq, s->cfg->dir, newest, newest + 1, seq);
}

/* Writes the confirmed seq through the atomic-file guard, at most once
 * per SHIPQ_SAVE_PERIOD_US unless forced; a failure is logged when saving
 * starts to fail, and retried at the next save (the old cursor stays
 * valid: at worst more resends). */
int
ship_cursor_save(struct ship *s, bool force)
{
	struct cursor c = ship_cursor_now(s);
	uint64_t now = ship_now_us();
	int k;

	k = cursor_file_save(&s->cf, &c, now, force);
	if (k < 0) {
		if (s->save_err != k)
			log_warning_errno(k, "Cannot write cursor file %s: %m (retrying every "
					  "%u ms; until then a restart ships again from seq %" PRIu64 ")",
					  s->cfg->cursor_path, SHIPQ_SAVE_PERIOD_US / 1000,
					  s->saved_seq + 1);
		snprintf(s->save_why, sizeof(s->save_why), "cannot write cursor file %s: %s",
			 s->cfg->cursor_path, strerror(-k));
		s->save_err = k;
		s->save_fail_us = now;
		return k;
	}
	if (s->save_err && k > 0) {
		log_info("Cursor file %s written again (seq %" PRIu64 ")", s->cfg->cursor_path, c.seq);
		s->save_err = 0;
		s->save_why[0] = '\0';
	}
	if (k > 0)
		s->saved_seq = c.seq;
	return 0;
}

/* Schedules the cursor write the 100 ms rule allows (after a failure too). */
void
ship_schedule_save(struct ship *s)
{
	struct cursor c = ship_cursor_now(s);
	uint64_t now = ship_now_us();
	struct timeval tv;
	int64_t due;

	due = cursor_file_due_in(&s->cf, &c, now);
	if (due < 0 || evtimer_pending(s->save_ev, NULL))
		return;
	if (s->save_err && now - s->save_fail_us < SHIPQ_SAVE_PERIOD_US &&
	    due < (int64_t)(SHIPQ_SAVE_PERIOD_US - (now - s->save_fail_us)))
		due = (int64_t)(SHIPQ_SAVE_PERIOD_US - (now - s->save_fail_us));
	if (due == 0) {
		(void)ship_cursor_save(s, false);
		return;
	}
	tv = (struct timeval){ .tv_sec = (time_t)(due / 1000000),
			       .tv_usec = (suseconds_t)(due % 1000000) };
	evtimer_add(s->save_ev, &tv);
}

void
ship_save_timercb(evutil_socket_t fd, short what, void *arg)
{
	struct ship *s = arg;

	/* forced after a failure: the timer kept the pace; and while saving
	 * fails, the next try is scheduled even if no report comes */
	if (ship_cursor_save(s, s->save_err != 0) < 0)
		ship_schedule_save(s);
}
