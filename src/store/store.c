#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "ackaudit.h"
#include "atomicfile.h"
#include "crashpoint.h"
#include "log.h"
#include "recover.h"
#include "segfile.h"
#include "store.h"
#include "watermark.h"

enum store_seal_step {
	STORE_SEAL_IDLE,     /* `current` is open and writable */
	STORE_SEAL_RENAME,   /* next: rename current to its sealed name */
	STORE_SEAL_SYNC,     /* next: fsync the directory */
	STORE_SEAL_CREATE,   /* next: create the new current */
	STORE_SEAL_SYNC_NEW, /* next: fsync the directory after creating it */
};

/* What recovery still has to do before records may be written; the steps
 * run in this order, each once (store_repair). */
enum store_repair_step {
	STORE_REPAIR_TORN,	/* copy [torn_cut, torn_end) to quarantine/, then cut it */
	STORE_REPAIR_EMPTY,	/* move the empty current into quarantine/ */
	STORE_REPAIR_CREATE,	/* create current (first seq: next_seq) */
	STORE_REPAIR_SYNC,	/* fdatasync current: what survived the crash is durable */
	STORE_REPAIR_UPGRADE,	/* current in an older format version: seal or replace it */
	STORE_REPAIR_WATERMARK, /* publish the recovered seq in DIR/watermark */
	STORE_REPAIR_DONE,
};

struct store {
	char *path;
	const struct fsops *ops;
	int dir_fd, lock_fd, cur_fd, wm_fd;
	uint8_t dir_id[RECORD_DIR_ID_LEN];
	struct segment_header cur_hdr;
	uint64_t cur_size;    /* bytes of current that are committed */
	uint64_t cur_records; /* records in current */
	uint64_t next_seq;	/* the seq the next record gets */
	uint64_t recovered_seq; /* the last seq recovery found (durable once repaired) */
	uint64_t open_wm_seq;	/* DIR/watermark as found at open (this directory's) */
	struct segdir_entry *sealed; /* oldest first */
	size_t n_sealed, cap_sealed;
	enum store_seal_step seal_step;
	enum store_repair_step repair;
	uint64_t torn_cut, torn_end;
	int repair_err; /* the last failure of store_repair, logged once */
	struct store_config cfg;
	uint64_t removed_segments; /* by retention, since open */
	/* the shipper's progress (store_set_ship): retention keeps what it has
	 * not shipped if ship_wait, and counts what it removes unshipped */
	int (*ship_fn)(void *ctx, const struct store *s, uint64_t *ret_seq);
	void *ship_ctx;
	bool ship_wait;
	uint64_t ship_held;	    /* first seq of the segment last reported kept (0: none) */
	uint64_t unshipped_removed; /* seqs removed before they were shipped */
	uint64_t quarantined_bytes;
	bool creating_for_seal; /* store_create_current() runs for a seal */
};

uint64_t
store_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

size_t
store_max_line(uint32_t max_record)
{
	return record_line_max(RECORD_TAG_MAX, max_record);
}

/* Bytes from the end of current that a crash may have torn: one commit
 * (STORE_WRITE_MAX plus the line that overflowed it). */
static uint64_t
store_unsynced_max(const struct store *s)
{
	return STORE_WRITE_MAX + store_max_line(s->cfg.max_record);
}

static bool
store_no_space(int err)
{
	return err == -ENOSPC || err == -EDQUOT;
}

struct store *
store_free(struct store *s)
{
	if (!s)
		return NULL;
	safe_close(s->cur_fd);
	safe_close(s->wm_fd);
	safe_close(s->dir_fd);
	safe_close(s->lock_fd); /* releases the flock */
	free(s->sealed);
	free(s->path);
	free(s);
	return NULL;
}

/* Opens the data directory, creating it if missing, and refuses one that
 * others may write to: anyone who can write there can forge records.  The
 * parent is fsynced before anything inside is relied on: a directory
 * created by mkdir() can vanish in a power cut with everything in it. */
static int
store_open_dir(struct store *s)
{
	struct stat st;
	bool created = mkdir(s->path, s->cfg.dir_mode) == 0;
	int r;

	if (!created && errno != EEXIST)
		return log_error_errno(errno, "Failed to create data directory %s: %m", s->path);
	r = segdir_sync_parent(s->ops, s->path);
	if (r < 0 && created)
		return log_error_errno(r, "Failed to sync the parent of the new data directory %s: "
				       "%m", s->path);
	if (r < 0)
		log_internal(LOG_DEBUG, r, "Could not sync the parent directory of %s: %m", s->path);
	s->dir_fd = open(s->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (s->dir_fd < 0)
		return log_error_errno(errno, "Failed to open data directory %s: %m", s->path);
	if (fstat(s->dir_fd, &st) < 0)
		return log_error_errno(errno, "Failed to stat %s: %m", s->path);
	if (st.st_mode & S_IWOTH)
		return log_error_errno(EPERM,
				       "Data directory %s is writable by others (mode %04o); "
				       "refusing to start. Fix it with: chmod o-w %s",
				       s->path, st.st_mode & 07777, s->path);
	return 0;
}

/* Reads DIR/dir-id by the one rule readers and verify use too
 * (segfile_read_dir_id), or creates it (atomically) on first start. */
static int
store_load_dir_id(struct store *s)
{
	char hex[2 * RECORD_DIR_ID_LEN + 1];
	const char *reason = NULL;
	int r = segfile_read_dir_id(s->dir_fd, s->dir_id, &reason);

	if (r == -EBADMSG)
		return log_error_errno(r, "%s/" SEGDIR_DIR_ID " is damaged (%s); refusing to start: "
				       "restore it from a segment header (its 5th field)",
				       s->path, reason ? reason : "not 32 lowercase hex digits");
	if (r < 0 && r != -ENOENT)
		return log_error_errno(r, "Failed to read %s/" SEGDIR_DIR_ID ": %m", s->path);
	if (r == 0)
		return 0;
	r = segdir_create_dir_id(s->ops, s->dir_fd, s->cfg.file_mode & 0444, s->dir_id);
	if (r < 0)
		return log_error_errno(r, "Failed to create %s/" SEGDIR_DIR_ID ": %m", s->path);
	segdir_id_to_hex(s->dir_id, hex);
	log_info("Initialised data directory %s (id %s)", s->path, hex);
	return 0;
}

/* Stale temporaries from the atomic-file guard are what a crash leaves
 * behind while creating a segment or state file, or while recovery copies
 * a torn tail into quarantine/; they never hold acknowledged data.  sub is
 * NULL for the directory itself, else a subdirectory (absent: nothing to
 * do). */
static int
store_remove_temporaries_in(struct store *s, const char *sub)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	char where[PATH_MAX];
	int k;

	snprintf(where, sizeof(where), "%s%s%s", s->path, sub ? "/" : "", sub ? sub : "");
	k = segdir_opendir(s->dir_fd, sub, &d);
	if (k == -ENOENT && sub)
		return 0;
	if (k < 0)
		return log_error_errno(k, "Failed to list %s: %m", where);
	while ((de = readdir(d))) {
		if (!atomic_file_is_temporary(de->d_name))
			continue;
		int r = s->ops->unlinkat(s->ops->ctx, dirfd(d), de->d_name, 0);
		if (r < 0)
			return log_error_errno(r, "Failed to remove stale %s/%s: %m", where,
					       de->d_name);
		log_notice("Removed stale temporary file %s/%s", where, de->d_name);
	}
	return 0;
}

static int
store_remove_temporaries(struct store *s)
{
	int r = store_remove_temporaries_in(s, NULL);
	return r < 0 ? r : store_remove_temporaries_in(s, SEGDIR_QUARANTINE);
}

/* Opens (creating if needed) DIR/watermark as a regular file: a FIFO or
 * device there is refused (O_NONBLOCK so that opening one cannot block). */
static int
store_open_watermark_fd(struct store *s, int *ret_fd)
{
	_cleanup_close_ int fd = openat(s->dir_fd, WATERMARK_FILE,
					O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
					s->cfg.file_mode);
	struct stat st;

	if (fd < 0)
		return log_error_errno(errno, "Failed to open %s/" WATERMARK_FILE ": %m", s->path);
	if (fstat(fd, &st) < 0)
		return log_error_errno(errno, "Failed to stat %s/" WATERMARK_FILE ": %m", s->path);
	if (!S_ISREG(st.st_mode))
		return log_error_errno(EINVAL, "%s/" WATERMARK_FILE " is not a regular file; remove "
				       "it (seglogd recreates it)", s->path);
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0)
		return log_error_errno(errno, "Failed to set up %s/" WATERMARK_FILE ": %m", s->path);
	*ret_fd = TAKE_FD(fd);
	return 0;
}

uint64_t
store_durable_seq(const struct store *s)
{
	if (s->repair != STORE_REPAIR_DONE)
		return s->open_wm_seq < s->recovered_seq ? s->open_wm_seq : s->recovered_seq;
	return s->recovered_seq;
}

bool
store_check_watermark(struct store *s)
{
	struct stat st;
	int fd = -EBADF;

	if (s->wm_fd >= 0 && fstat(s->wm_fd, &st) == 0 && st.st_nlink > 0)
		return false;
	if (store_open_watermark_fd(s, &fd) < 0)
		return false; /* said why; tried again at the next check */
	log_warning("%s/" WATERMARK_FILE " was removed or replaced while seglogd runs; recreated "
		    "it (readers saw no new records meanwhile)", s->path);
	safe_close(s->wm_fd);
	s->wm_fd = fd;
	return true;
}

/* Opens (creating if needed) DIR/watermark and returns the seq it holds
 * for this directory, 0 if it holds none (new, torn, foreign). */
static int
store_open_watermark(struct store *s, uint64_t *ret_seq)
{
	char buf[WATERMARK_LEN];
	uint8_t id[RECORD_DIR_ID_LEN];
	ssize_t n;
	int r;

	*ret_seq = 0;
	r = store_open_watermark_fd(s, &s->wm_fd);
	if (r < 0)
		return r;
	n = pread(s->wm_fd, buf, sizeof(buf), 0);
	if (n == WATERMARK_LEN && watermark_parse(buf, (size_t)n, id, ret_seq) == 0 &&
	    memcmp(id, s->dir_id, sizeof(id)) != 0)
		*ret_seq = 0;
	return 0;
}

/* Reads and checks the header line of an open segment (segfile: the rule
 * readers and verify use), with the daemon's messages. */
static int
store_read_header(struct store *s, int fd, const char *name, struct segment_header *ret,
		  uint64_t *ret_len)
{
	struct segfile f;
	const char *reason = NULL;
	char hex[2 * RECORD_DIR_ID_LEN + 1];
	int r = segfile_borrow(fd, name, &f);

	if (r < 0)
		return log_error_errno(r, "Failed to read %s/%s: %m", s->path, name);
	r = segfile_read_header(&f, s->dir_id, &reason);
	if (r == -EXDEV) {
		segdir_id_to_hex(f.hdr.dir_id, hex);
		return log_error_errno(EXDEV,
				       "%s/%s was created in another data directory (id %s); "
				       "refusing to start. Move it out of %s",
				       s->path, name, hex, s->path);
	}
	/* the next seq is derived from the newest sealed segment: if it is not
	 * the one its name says, going on would give out seqs twice */
	if (r == -EBADMSG && f.hdr_len && !f.is_current && f.hdr.first_seq != f.name_seq)
		return log_error_errno(EBADMSG,
				       "%s/%s: its header says it starts at seq %llu, not at the seq "
				       "of its name; it was renamed or copied in.  Refusing to "
				       "start: move it out of the directory and run 'seglog verify'",
				       s->path, name, (unsigned long long)f.hdr.first_seq);
	if (r == -EBADMSG || r == -ENODATA)
		return log_error_errno(EBADMSG,
				       "%s/%s: the header line is damaged (%s); refusing to "
				       "start, since the records in it cannot be placed. Move "
				       "the file aside (mkdir -p %s/" SEGDIR_QUARANTINE " && mv "
				       "%s/%s %s/" SEGDIR_QUARANTINE "/%s.damaged), check it with "
				       "'seglog verify', and start again",
				       s->path, name, reason ? reason : "no complete first line",
				       s->path, s->path, name, s->path, name);
	if (r < 0)
		return log_error_errno(r, "Failed to read %s/%s: %m", s->path, name);
	*ret = f.hdr;
	*ret_len = f.hdr_len;
	return 0;
}

/* Scans the tail of an open segment (segfile_scan_tail over recover.c's
 * pure scanner: a window widened until it holds a valid line, bounded). */
static int
store_scan_tail(struct store *s, int fd, const char *name, uint64_t size, uint64_t unsynced,
		struct recover_result *ret)
{
	struct segfile f;
	const char *reason = NULL;
	int r = segfile_borrow(fd, name, &f);

	if (r >= 0)
		r = segfile_read_header(&f, NULL, &reason);
	if (r < 0)
		return r;
	return segfile_scan_tail(&f, size, unsynced, store_max_line(s->cfg.max_record), ret);
}

/* Last seq of the newest sealed segment (0 if there is none). */
static int
store_sealed_last_seq(struct store *s, uint64_t *ret)
{
	_cleanup_close_ int fd = -EBADF;
	struct segment_header h;
	struct recover_result res;
	char name[SEGDIR_NAME_LEN + 1];
	uint64_t hdr_len;
	struct segdir_entry *e;
	int r;

	*ret = 0;
	if (s->n_sealed == 0)
		return 0;
	e = &s->sealed[s->n_sealed - 1];
	segdir_name(e->first_seq, name);
	fd = openat(s->dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return log_error_errno(errno, "Failed to open %s/%s: %m", s->path, name);
	segdir_make_read_only(fd);
	r = store_read_header(s, fd, name, &h, &hdr_len); /* also checks name = first seq */
	if (r < 0)
		return r;
	r = store_scan_tail(s, fd, name, e->size, 0, &res);
	if (r < 0)
		return log_error_errno(r, "Failed to read %s/%s: %m", s->path, name);
	*ret = res.have_last ? res.last_seq : h.first_seq - 1;
	return 0;
}

/* Copies the torn tail [cut, end) of current to quarantine/ through the
 * atomic-file guard, then truncates current to cut and syncs it.  A crash
 * in between repeats the whole step on the next start (the quarantine
 * then holds the bytes twice, never zero times). */
static int
store_quarantine_tail(struct store *s)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_close_ int qfd = -EBADF;
	uint64_t cut = s->torn_cut, end = s->torn_end;
	char name[64];
	int r;

	r = segdir_read_range(s->cur_fd, cut, end, &buf);
	if (r < 0)
		return log_error_errno(r, "Failed to read the torn tail of %s/current: %m",
				       s->path);
	r = segdir_open_quarantine(s->ops, s->dir_fd, s->cfg.dir_mode, &qfd);
	if (r < 0)
		return r;
	segdir_quarantine_name(store_now_us(), "torn", name, sizeof(name));
	CRASH_POINT("recover-quarantine");
	r = atomic_file_write_all(s->ops, qfd, name, s->cfg.file_mode & 0444, buf, end - cut);
	if (r < 0)
		return r;
	CRASH_POINT("recover-truncate");
	if (ftruncate(s->cur_fd, (off_t)cut) < 0)
		return -errno;
	CRASH_POINT("recover-sync");
	r = s->ops->fsync(s->ops->ctx, s->cur_fd, false);
	if (r < 0)
		return r;
	log_warning("Cut a torn tail of %llu bytes off %s/current at offset %llu; "
		    "kept in %s/" SEGDIR_QUARANTINE "/%s",
		    (unsigned long long)(end - cut), s->path, (unsigned long long)cut, s->path,
		    name);
	s->quarantined_bytes += end - cut;
	return 0;
}

/* An empty current (`: > current`, logrotate's copytruncate) keeps no
 * records but is evidence: it moves into quarantine/ under a name that
 * says so, both directories synced, before a new current replaces it. */
static int
store_quarantine_empty(struct store *s)
{
	_cleanup_close_ int qfd = -EBADF;
	char name[64];
	int r;

	r = segdir_open_quarantine(s->ops, s->dir_fd, s->cfg.dir_mode, &qfd);
	if (r < 0)
		return r;
	segdir_quarantine_name(store_now_us(), "empty", name, sizeof(name));
	r = s->ops->renameat(s->ops->ctx, s->dir_fd, SEGDIR_CURRENT, qfd, name, RENAME_NOREPLACE);
	if (r == -ENOENT) /* moved by an earlier attempt whose fsync failed */
		name[0] = 0;
	else if (r < 0)
		return r;
	r = s->ops->fsync(s->ops->ctx, qfd, false);
	if (r >= 0)
		r = s->ops->fsync(s->ops->ctx, s->dir_fd, false);
	if (r < 0)
		return r;
	if (name[0])
		log_warning("%s/current was empty (truncated from outside?); moved it to "
			    "%s/" SEGDIR_QUARANTINE "/%s and starting a new current at seq %llu",
			    s->path, s->path, name, (unsigned long long)s->next_seq);
	return 0;
}

/* Creates a new current whose first record will be first_seq. */
#if defined(SEGLOG_CRASH_POINTS) || defined(SEGLOG_ACK_AUDIT)
#define STORE_WRAP_CREATE 1
/* Crash-point and audit builds only: the file operations of
 * store_create_current(), forwarding to the store's own, with the crash
 * point "seal-sync-new" (for a seal) between the rename that puts the new
 * current in place and the directory fsync that follows it (inside
 * atomic_file_commit()), both reported to the ack audit. */
static int
store_cp_openat(void *ctx, int dir_fd, const char *path, int flags, mode_t mode)
{
	const struct fsops *o = ((struct store *)ctx)->ops;
	return o->openat(o->ctx, dir_fd, path, flags, mode);
}

static ssize_t
store_cp_pwrite(void *ctx, int fd, const void *buf, size_t n, off_t off)
{
	const struct fsops *o = ((struct store *)ctx)->ops;
	return o->pwrite(o->ctx, fd, buf, n, off);
}

static int
store_cp_fsync(void *ctx, int fd, bool datasync)
{
	const struct fsops *o = ((struct store *)ctx)->ops;
	int r = o->fsync(o->ctx, fd, datasync);

	ack_audit_dir_synced(fd, r);
	return r;
}

static int
store_cp_renameat(void *ctx, int old_dir, const char *old_path, int new_dir,
		  const char *new_path, unsigned flags)
{
	struct store *s = ctx;
	const struct fsops *o = s->ops;
	int r = o->renameat(o->ctx, old_dir, old_path, new_dir, new_path, flags);

	if (r >= 0) {
		ack_audit_dir_renamed(new_dir);
		if (s->creating_for_seal)
			CRASH_POINT("seal-sync-new");
	}
	return r;
}

static int
store_cp_unlinkat(void *ctx, int dir_fd, const char *path, int flags)
{
	const struct fsops *o = ((struct store *)ctx)->ops;
	return o->unlinkat(o->ctx, dir_fd, path, flags);
}
#endif

/* Creates current holding only its header, first_seq next; for_seal
 * marks the seal's creation (crash point "seal-sync-new"); replace puts it
 * over a current that holds no record (store_upgrade), else an existing
 * current is never replaced. */
static int
store_create_current(struct store *s, uint64_t first_seq, uint64_t now_us, bool for_seal,
		     bool replace)
{
#ifdef STORE_WRAP_CREATE
	/* declared before f: its cleanup may still call through it */
	const struct fsops cp_ops = {
		.openat = store_cp_openat, .pwrite = store_cp_pwrite, .fsync = store_cp_fsync,
		.renameat = store_cp_renameat, .unlinkat = store_cp_unlinkat, .ctx = s,
	};
#endif
	_cleanup_atomic_file_ struct atomic_file f = ATOMIC_FILE_INIT;
	char buf[RECORD_HEADER_MAX];
	struct segment_header h = {
		.version = RECORD_FORMAT_VERSION,
		.first_seq = first_seq,
		.created_us = now_us,
	};
	size_t n;
	int r, fd = -EBADF;

	const struct fsops *ops = s->ops;

#ifdef STORE_WRAP_CREATE
	ops = &cp_ops;
#endif
	s->creating_for_seal = for_seal;
	memcpy(h.dir_id, s->dir_id, sizeof(h.dir_id));
	n = record_header_encode(&h, buf);
	r = atomic_file_begin(&f, ops, s->dir_fd, SEGDIR_CURRENT, s->cfg.file_mode);
	if (r >= 0)
		r = atomic_file_write(&f, buf, n);
	if (r >= 0)
		r = atomic_file_commit(&f, replace ? ATOMIC_FILE_REPLACE : ATOMIC_FILE_NOREPLACE,
				       &fd);
	if (r < 0 && !f.linked && f.fd >= 0) {
		/* in place under its name, but the directory sync failed: keep
		 * it and retry only the sync */
		fd = TAKE_FD(f.fd);
		s->seal_step = STORE_SEAL_SYNC_NEW;
	} else if (r < 0) {
		return log_error_errno(r, "Failed to create %s/current: %m", s->path);
	}
	s->cur_fd = fd;
	s->cur_hdr = h;
	s->cur_size = n;
	s->cur_records = 0;
	if (r < 0)
		return log_error_errno(r, "Failed to sync directory %s after creating current: %m",
				       s->path);
	return 0;
}

static int
store_add_sealed(struct store *s, const struct segdir_entry *e)
{
	if (s->n_sealed == s->cap_sealed) {
		size_t ncap = s->cap_sealed ? s->cap_sealed * 2 : 64;
		struct segdir_entry *v = realloc(s->sealed, ncap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		s->sealed = v;
		s->cap_sealed = ncap;
	}
	s->sealed[s->n_sealed++] = *e;
	return 0;
}

/* No usable current (none, or an empty one): the next one starts after
 * the newest sealed segment, and after the watermark, so that a seq a
 * reader may have seen is never given to another record. */
static void
store_plan_new_current(struct store *s, uint64_t sealed_last, uint64_t wm_seq,
		       enum store_repair_step first)
{
	s->next_seq = (sealed_last > wm_seq ? sealed_last : wm_seq) + 1;
	s->cur_hdr.first_seq = s->next_seq;
	s->cur_size = 0;
	s->cur_records = 0;
	s->recovered_seq = s->next_seq - 1;
	s->repair = first;
}

/* Recovers `current`: header, torn tail, next seq; decides which repair
 * steps store_repair() must run.  Every state that a crash during
 * rotation or first start can leave is handled here: no current (sealed
 * but not yet recreated), a header-only current, and a current whose
 * sealing rename was lost (it is simply still current). */
static int
store_recover(struct store *s, uint64_t sealed_last, uint64_t wm_seq)
{
	struct stat st;
	struct recover_result res;
	uint64_t hdr_len, size;
	int r;

	s->cur_fd = openat(s->dir_fd, SEGDIR_CURRENT, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (s->cur_fd < 0 && errno != ENOENT)
		return log_error_errno(errno, "Failed to open %s/current: %m", s->path);
	if (s->cur_fd < 0) {
		store_plan_new_current(s, sealed_last, wm_seq, STORE_REPAIR_CREATE);
		return 0;
	}
	if (fstat(s->cur_fd, &st) < 0)
		return log_error_errno(errno, "Failed to stat %s/current: %m", s->path);
	if (!S_ISREG(st.st_mode))
		return log_error_errno(EINVAL, "%s/current is not a regular file", s->path);
	size = (uint64_t)st.st_size;
	if (size == 0) {
		s->cur_fd = safe_close(s->cur_fd);
		store_plan_new_current(s, sealed_last, wm_seq, STORE_REPAIR_EMPTY);
		return 0;
	}
	r = store_read_header(s, s->cur_fd, SEGDIR_CURRENT, &s->cur_hdr, &hdr_len);
	if (r < 0)
		return r;
	r = store_scan_tail(s, s->cur_fd, SEGDIR_CURRENT, size, store_unsynced_max(s), &res);
	if (r < 0)
		return log_error_errno(r, "Failed to read %s/current: %m", s->path);
	s->repair = res.cut < size ? STORE_REPAIR_TORN : STORE_REPAIR_SYNC;
	s->torn_cut = res.cut;
	s->torn_end = size;
	if (res.damaged)
		log_warning("%s/current has %llu damaged line(s) before its tail; left in place, "
			    "run 'seglog verify' for details",
			    s->path, (unsigned long long)res.damaged);
	s->cur_size = res.cut;
	s->next_seq = res.have_last ? res.last_seq + 1 : s->cur_hdr.first_seq;
	/* records in current: exact, from the seqs */
	s->cur_records = res.have_last ? res.last_seq - s->cur_hdr.first_seq + 1 : 0;
	if (sealed_last && s->cur_hdr.first_seq != sealed_last + 1)
		log_warning("%s/current starts at seq %llu but the newest sealed segment ends at "
			    "%llu; run 'seglog verify'",
			    s->path, (unsigned long long)s->cur_hdr.first_seq,
			    (unsigned long long)sealed_last);
	if (s->next_seq <= sealed_last)
		s->next_seq = sealed_last + 1; /* never reuse a seq */
	if (wm_seq >= s->next_seq)
		log_warning("%s/" WATERMARK_FILE " says seq %llu was durable, but the records end "
			    "at seq %llu: durable records were lost or cut; run 'seglog verify'",
			    s->path, (unsigned long long)wm_seq,
			    (unsigned long long)(s->next_seq - 1));
	s->recovered_seq = s->next_seq - 1;
	return 0;
}

int
store_publish_watermark(struct store *s, uint64_t seq)
{
	char buf[WATERMARK_LEN];
	ssize_t n;

	if (s->wm_fd < 0)
		return -EBADF;
	watermark_format(s->dir_id, seq, buf);
	n = s->ops->pwrite(s->ops->ctx, s->wm_fd, buf, sizeof(buf), 0);
	return n == WATERMARK_LEN ? 0 : n < 0 ? (int)n : -EIO;
}

/* The recovered end, written in place; readers treat a missing or torn
 * file as "nothing durable yet", so a failure here is not fatal (the
 * engine rewrites it after its next commit). */
static void
store_write_watermark(struct store *s)
{
	/* not next_seq - 1: records queued while the repair was pending have
	 * seqs but are not durable yet */
	int r = store_publish_watermark(s, s->recovered_seq);

	if (r < 0)
		log_warning_errno(r, "Failed to write %s/" WATERMARK_FILE ": %m; readers wait for "
				     "the next commit", s->path);
}

/* A current in an older format version (a directory written before an
 * upgrade) is never appended to in the new one: one file, one version.
 * With records it is sealed as it is (readers keep reading it in its own
 * version); holding none, it is replaced by a current in
 * RECORD_FORMAT_VERSION with the same first seq.  A failure leaves the
 * step (or the seal) pending, retried like any repair; nothing is written
 * into current until it is done. */
static int
store_upgrade(struct store *s)
{
	if (store_seal_pending(s))
		return store_seal(s, store_now_us());
	if (s->cur_fd >= 0 && s->cur_hdr.version >= RECORD_FORMAT_VERSION)
		return 0;
	if (s->cur_fd >= 0 && s->cur_records > 0) {
		log_notice("%s/current is in format version %u: sealing it as it is; new records "
			   "go into a version %d segment",
			   s->path, (unsigned)s->cur_hdr.version, RECORD_FORMAT_VERSION);
		return store_seal(s, store_now_us());
	}
	if (s->repair_err == 0) /* once, not at every retry */
		log_notice("%s/current (format version %u) holds no record: replacing it with a "
			   "version %d current",
			   s->path, (unsigned)s->cur_hdr.version, RECORD_FORMAT_VERSION);
	s->cur_fd = safe_close(s->cur_fd);
	/* not next_seq: records queued while this step was pending have taken
	 * seqs from there (the new current's first is the recovered end + 1) */
	return store_create_current(s, s->recovered_seq + 1, store_now_us(), false, true);
}

/* One repair step; 0 when it is done. */
static int
store_repair_step(struct store *s)
{
	int r;

	switch (s->repair) {
	case STORE_REPAIR_TORN:
		r = store_quarantine_tail(s);
		s->repair = r < 0 ? STORE_REPAIR_TORN : STORE_REPAIR_UPGRADE;
		return r;
	case STORE_REPAIR_EMPTY:
		r = store_quarantine_empty(s);
		s->repair = r < 0 ? STORE_REPAIR_EMPTY : STORE_REPAIR_CREATE;
		return r;
	case STORE_REPAIR_CREATE:
		r = store_create_current(s, s->recovered_seq + 1, store_now_us(), false, false);
		if (r < 0 && s->cur_fd < 0)
			return r;
		/* a failed directory sync is the seal sequence's to retry */
		s->repair = STORE_REPAIR_WATERMARK;
		return 0;
	case STORE_REPAIR_SYNC:
		r = s->ops->fsync(s->ops->ctx, s->cur_fd, true);
		s->repair = r < 0 ? STORE_REPAIR_SYNC : STORE_REPAIR_UPGRADE;
		return r;
	case STORE_REPAIR_UPGRADE:
		r = store_upgrade(s);
		s->repair = r < 0 ? STORE_REPAIR_UPGRADE : STORE_REPAIR_WATERMARK;
		return r;
	case STORE_REPAIR_WATERMARK:
		store_write_watermark(s);
		s->repair = STORE_REPAIR_DONE;
		return 0;
	case STORE_REPAIR_DONE:
		return 0;
	}
	return 0;
}

static const char *
store_repair_what(enum store_repair_step step)
{
	static const char *const what[] = {
		[STORE_REPAIR_TORN] = "copy the torn tail of current into " SEGDIR_QUARANTINE "/",
		[STORE_REPAIR_EMPTY] = "move the empty current into " SEGDIR_QUARANTINE "/",
		[STORE_REPAIR_CREATE] = "create current",
		[STORE_REPAIR_SYNC] = "sync current",
		[STORE_REPAIR_UPGRADE] = "seal or replace the current of an older format version",
	};
	return step < ELEMENTSOF(what) && what[step] ? what[step] : "recover";
}

int
store_repair(struct store *s)
{
	int r = 0;

	if (s->repair == STORE_REPAIR_DONE)
		return 0;
	/* free space before writing quarantine: a full disk must not stop
	 * the recovery that retention could make room for */
	if (s->repair < STORE_REPAIR_SYNC)
		(void)store_retention(s, store_now_us());
	while (s->repair != STORE_REPAIR_DONE && (r = store_repair_step(s)) >= 0)
		;
	if (r < 0 && r != s->repair_err)
		log_error_errno(r, "Recovery of %s cannot finish: failed to %s: %m; %s", s->path,
				store_repair_what(s->repair),
				store_no_space(r) ? "holding commits until space is freed, retrying"
						  : "holding commits");
	if (r >= 0 && s->repair_err)
		log_notice("Recovery of %s/current finished", s->path);
	s->repair_err = r < 0 ? r : 0;
	return r;
}

bool
store_repair_pending(const struct store *s)
{
	return s->repair != STORE_REPAIR_DONE;
}

int
store_open(const struct store_config *cfg, const struct fsops *ops, struct store **ret)
{
	_cleanup_(store_freep) struct store *s = calloc(1, sizeof(*s));
	uint64_t sealed_last = 0, wm_seq = 0;
	int r;

	/* hit once per open: lets a test tell a crash-point build (tests/torture) */
	CRASH_POINT("probe");
	if (!s)
		return log_error_errno(ENOMEM, "Out of memory");
	s->dir_fd = s->lock_fd = s->cur_fd = s->wm_fd = -EBADF;
	s->cfg = *cfg;
	s->ship_fn = cfg->shipped;
	s->ship_ctx = cfg->ship_ctx;
	s->ship_wait = cfg->ship_wait;
	s->ops = ops;
	s->path = strdup(cfg->dir);
	if (!s->path)
		return -ENOMEM;
	s->cfg.dir = s->path;
	r = store_open_dir(s);
	if (r < 0)
		return r;
	r = segdir_lock(s->dir_fd, &s->lock_fd);
	if (r == -EBUSY)
		return log_error_errno(r, "Data directory %s is in use by another seglogd (it "
				       "holds %s/lock); refusing to start a second writer",
				       s->path, s->path);
	if (r < 0)
		return log_error_errno(r, "Failed to lock %s/lock: %m", s->path);
	r = store_load_dir_id(s);
	if (r >= 0)
		r = store_remove_temporaries(s);
	if (r < 0)
		return r;
	r = segdir_list(s->dir_fd, &s->sealed, &s->n_sealed);
	if (r < 0)
		return log_error_errno(r, "Failed to list %s: %m", s->path);
	s->cap_sealed = s->n_sealed;
	/* before retention, which may remove the newest sealed segment */
	r = store_sealed_last_seq(s, &sealed_last);
	if (r >= 0)
		r = store_open_watermark(s, &wm_seq);
	s->open_wm_seq = wm_seq;
	if (r >= 0)
		r = store_recover(s, sealed_last, wm_seq);
	if (r < 0)
		return r;
	/* a full disk, or a failed sync of what survived, is not fatal: the
	 * engine holds commits and retries (a restart loop helps no one) */
	r = store_repair(s);
	if (r < 0 && !store_no_space(r) && s->repair != STORE_REPAIR_SYNC &&
	    s->repair != STORE_REPAIR_UPGRADE)
		return log_error_errno(r, "Refusing to start: recovery of %s cannot %s (%m). Fix "
				       "the cause (is " SEGDIR_QUARANTINE "/ a directory seglogd can "
				       "write?) and start again",
				       s->path, store_repair_what(s->repair));
	if (r < 0)
		log_warning("Starting with the recovery of %s unfinished: records are accepted "
			    "but not written or acknowledged until it completes", s->path);
	log_info("Recovered %s: %zu sealed segment(s), current holds seq %llu..%llu, next seq %llu",
		 s->path, s->n_sealed, (unsigned long long)s->cur_hdr.first_seq,
		 (unsigned long long)(s->next_seq - 1), (unsigned long long)s->next_seq);
	*ret = TAKE_PTR(s);
	return 0;
}

int
store_seal(struct store *s, uint64_t now_us)
{
	char name[SEGDIR_NAME_LEN + 1];
	/* records past the sealed ones may already be queued in the engine,
	 * so the new segment starts after the last committed one, not at
	 * next_seq */
	uint64_t next_first = s->cur_hdr.first_seq + s->cur_records;
	struct stat st;
	int r;

	if (s->seal_step == STORE_SEAL_IDLE) {
		if (s->cur_records == 0)
			return 0;
		s->seal_step = STORE_SEAL_RENAME;
	}
	segdir_name(s->cur_hdr.first_seq, name);
	if (s->seal_step == STORE_SEAL_RENAME) {
		CRASH_POINT("seal-rename");
		r = s->ops->renameat(s->ops->ctx, s->dir_fd, SEGDIR_CURRENT, s->dir_fd, name,
				     RENAME_NOREPLACE);
		if (r < 0)
			return log_error_errno(r, "Failed to rename %s/current to %s: %m", s->path,
					       name);
		ack_audit_dir_renamed(s->dir_fd);
		/* sealed segments are read-only (a crash right here leaves this
		 * one writable; recovery fixes the newest's mode) */
		segdir_make_read_only(s->cur_fd);
		s->seal_step = STORE_SEAL_SYNC;
	}
	if (s->seal_step == STORE_SEAL_SYNC) {
		CRASH_POINT("seal-sync");
		r = s->ops->fsync(s->ops->ctx, s->dir_fd, false);
		ack_audit_dir_synced(s->dir_fd, r);
		if (r < 0)
			return log_error_errno(r, "Failed to sync directory %s: %m", s->path);
		/* max_age goes by st_mtime, as after a restart (segdir_list) */
		if (fstat(s->cur_fd, &st) < 0)
			return log_error_errno(errno, "Failed to stat %s/%s: %m", s->path, name);
		r = store_add_sealed(s, &(struct segdir_entry){
			.first_seq = s->cur_hdr.first_seq,
			.size = s->cur_size,
			.mtime_us = (uint64_t)st.st_mtim.tv_sec * 1000000u +
				    (uint64_t)st.st_mtim.tv_nsec / 1000u,
			.ino = (uint64_t)st.st_ino,
		});
		if (r < 0)
			return log_error_errno(r, "Out of memory");
		s->cur_fd = safe_close(s->cur_fd);
		s->seal_step = STORE_SEAL_CREATE;
		log_info("Sealed %s/%s (seq %llu..%llu, %llu bytes)", s->path, name,
			 (unsigned long long)s->cur_hdr.first_seq,
			 (unsigned long long)(next_first - 1), (unsigned long long)s->cur_size);
	}
	if (s->seal_step == STORE_SEAL_CREATE) {
		CRASH_POINT("seal-create");
		r = store_create_current(s, next_first, now_us, true, false);
		if (r < 0)
			return r;
	} else {
		r = s->ops->fsync(s->ops->ctx, s->dir_fd, false);
		ack_audit_dir_synced(s->dir_fd, r);
		if (r < 0)
			return log_error_errno(r, "Failed to sync directory %s: %m", s->path);
	}
	s->seal_step = STORE_SEAL_IDLE;
	return 0;
}

bool
store_seal_pending(const struct store *s)
{
	return s->seal_step != STORE_SEAL_IDLE;
}

bool
store_writable(const struct store *s)
{
	return s->cur_fd >= 0 && s->seal_step == STORE_SEAL_IDLE && s->repair == STORE_REPAIR_DONE;
}

/* The seq after the last one sealed segment i holds.  The newest one ends
 * where current starts, except while a seal is half done: current's header
 * is then still the renamed one's, which holds cur_records records (found
 * by a hostile test: a vacuum on a full disk took that segment for empty
 * of unshipped records and removed 455 of them). */
static uint64_t
store_sealed_end(const struct store *s, size_t i)
{
	if (i + 1 < s->n_sealed)
		return s->sealed[i + 1].first_seq;
	if (s->seal_step != STORE_SEAL_IDLE && s->sealed[i].first_seq == s->cur_hdr.first_seq)
		return s->cur_hdr.first_seq + s->cur_records;
	return s->cur_hdr.first_seq;
}

void
store_get_status(const struct store *s, struct store_status *ret)
{
	*ret = (struct store_status){
		.path = s->path,
		.next_seq = s->next_seq,
		.segment_first_seq = s->cur_hdr.first_seq,
		.sealed_segments = s->n_sealed,
		.removed_segments = s->removed_segments,
		.quarantined_bytes = s->quarantined_bytes,
		.unshipped_removed = s->unshipped_removed,
	};
	ret->oldest_seq = s->n_sealed ? s->sealed[0].first_seq : s->cur_hdr.first_seq;
	ret->have_ship = s->ship_fn && s->ship_fn(s->ship_ctx, s, &ret->shipped_seq) == 0;
	if (!ret->have_ship)
		return;
	/* bytes behind: every segment holding a seq past the cursor, whole
	 * (an estimate: at most one segment too many) */
	for (size_t i = 0; i < s->n_sealed; i++) {
		uint64_t end = store_sealed_end(s, i);
		if (end > ret->shipped_seq + 1)
			ret->ship_lag_bytes += s->sealed[i].size;
	}
	if (s->next_seq > ret->shipped_seq + 1)
		ret->ship_lag_bytes += s->cur_size;
}

void
store_set_ship(struct store *s, int (*shipped)(void *ctx, const struct store *s, uint64_t *ret_seq),
	       void *ctx, bool wait)
{
	s->ship_fn = shipped;
	s->ship_ctx = ctx;
	s->ship_wait = wait;
}

uint64_t
store_disk_free(const struct store *s)
{
	struct statvfs sv;
	if (fstatvfs(s->dir_fd, &sv) < 0)
		return 0;
	return (uint64_t)sv.f_bavail * sv.f_frsize;
}

/* Removes the oldest sealed segment, durably (why: for the log line). */
static int
store_remove_oldest(struct store *s, enum segdir_reason why)
{
	char name[SEGDIR_NAME_LEN + 1];
	int r;

	segdir_name(s->sealed[0].first_seq, name);
	CRASH_POINT("retention-unlink");
	r = s->ops->unlinkat(s->ops->ctx, s->dir_fd, name, 0);
	if (r < 0 && r != -ENOENT)
		return log_error_errno(r, "Failed to remove %s/%s: %m", s->path, name);
	/* each removal is durable before the next one starts: a power
	 * loss may keep unlinks of one directory in any order, and a
	 * newer segment gone while an older one survives would be a gap
	 * in the middle of the history, which must only ever mean damage
	 * (found by tests/powerloss, reordered model) */
	r = s->ops->fsync(s->ops->ctx, s->dir_fd, false);
	if (r < 0)
		return log_error_errno(r, "Failed to sync directory %s after removing %s: %m",
				       s->path, name);
	CRASH_POINT("retention-unlinked");
	log_info("Retention (%s) removed %s/%s (%llu bytes)", segdir_reason_name(why), s->path,
		 name, (unsigned long long)s->sealed[0].size);
	memmove(s->sealed, s->sealed + 1, (s->n_sealed - 1) * sizeof(*s->sealed));
	s->n_sealed--;
	s->removed_segments++;
	return 0;
}

/* Whether retention may remove the oldest sealed segment for why, with
 * the shipper's progress in mind: it always may for keep_free (a full disk
 * beats shipping) and without a shipper; with one, what it has not shipped
 * is kept if ship_wait (said once per segment), else removed with a
 * warning; either way what goes unshipped is counted. */
static bool
store_retention_may(struct store *s, enum segdir_reason why)
{
	uint64_t first = s->sealed[0].first_seq, shipped;
	uint64_t end = store_sealed_end(s, 0);

	if (!s->ship_fn || s->ship_fn(s->ship_ctx, s, &shipped) < 0 || end <= shipped + 1)
		return true;
	uint64_t from = first > shipped + 1 ? first : shipped + 1;
	if (s->ship_wait && why != SEGDIR_KEEP_FREE) {
		if (s->ship_held != first)
			log_notice("Retention (%s) keeps %s/%020llu.log and what follows: seqs "
				   "%llu..%llu are not shipped yet (the shipper's cursor is at %llu; "
				   "retention_waits_for_ship = yes)", segdir_reason_name(why),
				   s->path, (unsigned long long)first, (unsigned long long)from,
				   (unsigned long long)end - 1, (unsigned long long)shipped);
		s->ship_held = first;
		return false;
	}
	log_warning("Retention (%s): unshipped seqs %llu..%llu removed (the shipper's cursor is "
		    "at %llu%s)", segdir_reason_name(why), (unsigned long long)from,
		    (unsigned long long)end - 1, (unsigned long long)shipped,
		    why == SEGDIR_KEEP_FREE && s->ship_wait ? "; keep_free wins over "
		    "retention_waits_for_ship" : "");
	s->unshipped_removed += end - from;
	return true;
}

/* One segment at a time, the policy asked again after each removal (the
 * reason may change on the way: keep_free after max_segments, say). */
int
store_retention(struct store *s, uint64_t now_us)
{
	for (;;) {
		struct statvfs sv;
		enum segdir_reason why;
		int r;

		if (fstatvfs(s->dir_fd, &sv) < 0)
			return log_error_errno(errno, "Failed to statvfs %s: %m", s->path);
		if (segdir_retention_pick(s->sealed, s->n_sealed, &s->cfg.retention, now_us,
					  (uint64_t)sv.f_bavail * sv.f_frsize,
					  (uint64_t)sv.f_blocks * sv.f_frsize, &why) == 0)
			return 0;
		if (!store_retention_may(s, why)) {
			/* kept for the shipper: keep_free alone may still want it
			 * gone (the policy names only the first reason; a hostile
			 * test saw a full disk wedge with max_segments exceeded) */
			struct segdir_retention kf = {
				.keep_free_bytes = s->cfg.retention.keep_free_bytes,
				.keep_free_percent = s->cfg.retention.keep_free_percent,
			};
			if (!segdir_retention_pick(s->sealed, s->n_sealed, &kf, now_us,
						   (uint64_t)sv.f_bavail * sv.f_frsize,
						   (uint64_t)sv.f_blocks * sv.f_frsize, &why) ||
			    !store_retention_may(s, why))
				return 0;
		}
		r = store_remove_oldest(s, why);
		if (r < 0)
			return r;
	}
}

int
store_vacuum(struct store *s, const struct segdir_vacuum *v, uint64_t keep_from,
	     struct store_vacuum_result *ret)
{
	size_t k = segdir_vacuum_pick(s->sealed, s->n_sealed, v, store_now_us());

	*ret = (struct store_vacuum_result){ 0 };
	for (size_t i = 0; i < k; i++) {
		/* the oldest holds [its first seq, the next one's first seq) */
		uint64_t end = store_sealed_end(s, 0);
		if (keep_from && end > keep_from) {
			ret->kept_unshipped = k - i;
			break;
		}
		if (!ret->removed)
			ret->first = s->sealed[0].first_seq;
		ret->last = end - 1;
		ret->bytes += s->sealed[0].size;
		/* forced past the shipper: said and counted as retention does */
		uint64_t shipped;
		if (s->ship_fn && s->ship_fn(s->ship_ctx, s, &shipped) == 0 && end > shipped + 1) {
			uint64_t from = s->sealed[0].first_seq > shipped + 1 ? s->sealed[0].first_seq
									     : shipped + 1;
			log_warning("Vacuum (--force): unshipped seqs %llu..%llu removed (the "
				    "shipper's cursor is at %llu)", (unsigned long long)from,
				    (unsigned long long)end - 1, (unsigned long long)shipped);
			s->unshipped_removed += end - from;
		}
		int r = store_remove_oldest(s, SEGDIR_VACUUM);
		if (r < 0)
			return r;
		ret->removed++;
	}
	return 0;
}

void
store_set_retention(struct store *s, const struct segdir_retention *r)
{
	s->cfg.retention = *r;
}

uint64_t
store_take_seq(struct store *s)
{
	return s->next_seq++;
}

uint64_t
store_next_seq(const struct store *s)
{
	return s->next_seq;
}

void
store_committed(struct store *s, uint64_t bytes, uint64_t records)
{
	s->cur_size += bytes;
	s->cur_records += records;
}

int
store_cur_fd(const struct store *s)
{
	return s->cur_fd;
}

uint64_t
store_cur_size(const struct store *s)
{
	return s->cur_size;
}

uint64_t
store_cur_records(const struct store *s)
{
	return s->cur_records;
}

uint64_t
store_cur_first_seq(const struct store *s)
{
	return s->cur_hdr.first_seq;
}

uint64_t
store_cur_created_us(const struct store *s)
{
	return s->cur_hdr.created_us;
}

int
store_watermark_fd(const struct store *s)
{
	return s->wm_fd;
}

const uint8_t *
store_dir_id(const struct store *s)
{
	return s->dir_id;
}

const char *
store_path(const struct store *s)
{
	return s->path;
}

const struct segdir_entry *
store_sealed(const struct store *s, size_t *ret_n)
{
	*ret_n = s->n_sealed;
	return s->sealed;
}

void
store_set_fsops(struct store *s, const struct fsops *ops)
{
	s->ops = ops;
}
