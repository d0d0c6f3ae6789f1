/* The seal (rotation) sequence (docs/design.md, "Segments and the seal"):
 * `current` renamed to its sealed name and made read-only, the directory
 * fsynced, a new `current` created through the atomic-file guard, the
 * directory fsynced again.  Resumable: the step reached is kept, and a
 * failed step is retried from there.  Also the list of sealed segments
 * that the seal adds to. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ackaudit.h"
#include "atomicfile.h"
#include "crashpoint.h"
#include "log.h"
#include "store.h"
#include "store_internal.h"

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
int
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

/* Seal step 1: current renamed to its sealed name (never over one), and
 * made read-only (a crash right after the rename leaves it writable;
 * recovery fixes the newest's mode). */
static int
store_seal_rename(struct store *s, const char *name)
{
	int r;

	CRASH_POINT("seal-rename");
	r = s->ops->renameat(s->ops->ctx, s->dir_fd, SEGDIR_CURRENT, s->dir_fd, name,
			     RENAME_NOREPLACE);
	if (r < 0)
		return log_error_errno(r, "Failed to rename %s/current to %s: %m", s->path, name);
	ack_audit_dir_renamed(s->dir_fd);
	segdir_make_read_only(s->cur_fd);
	s->seal_step = STORE_SEAL_SYNC;
	return 0;
}

/* Seal step 2: the directory synced, so the sealed name is durable; the
 * segment joins the sealed list (with its st_mtime: max_age goes by it, as
 * after a restart, segdir_list) and its descriptor is closed. */
static int
store_seal_sync(struct store *s, const char *name, uint64_t next_first)
{
	struct stat st;
	int r;

	CRASH_POINT("seal-sync");
	r = s->ops->fsync(s->ops->ctx, s->dir_fd, false);
	ack_audit_dir_synced(s->dir_fd, r);
	if (r < 0)
		return log_error_errno(r, "Failed to sync directory %s: %m", s->path);
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
		 (unsigned long long)s->cur_hdr.first_seq, (unsigned long long)(next_first - 1),
		 (unsigned long long)s->cur_size);
	return 0;
}

/* Seal steps 3-5: the new current, whose first record is next_first,
 * through the atomic-file guard; or, if it is in place already and only
 * the directory sync after it failed (STORE_SEAL_SYNC_NEW), that sync. */
static int
store_seal_create(struct store *s, uint64_t next_first, uint64_t now_us)
{
	int r;

	if (s->seal_step == STORE_SEAL_CREATE) {
		CRASH_POINT("seal-create");
		return store_create_current(s, next_first, now_us, true, false);
	}
	r = s->ops->fsync(s->ops->ctx, s->dir_fd, false);
	ack_audit_dir_synced(s->dir_fd, r);
	if (r < 0)
		return log_error_errno(r, "Failed to sync directory %s: %m", s->path);
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
	int r;

	if (s->seal_step == STORE_SEAL_IDLE) {
		if (s->cur_records == 0)
			return 0;
		s->seal_step = STORE_SEAL_RENAME;
	}
	segdir_name(s->cur_hdr.first_seq, name);
	if (s->seal_step == STORE_SEAL_RENAME) {
		r = store_seal_rename(s, name);
		if (r < 0)
			return r;
	}
	if (s->seal_step == STORE_SEAL_SYNC) {
		r = store_seal_sync(s, name, next_first);
		if (r < 0)
			return r;
	}
	r = store_seal_create(s, next_first, now_us);
	if (r < 0)
		return r;
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
uint64_t
store_sealed_end(const struct store *s, size_t i)
{
	if (i + 1 < s->n_sealed)
		return s->sealed[i + 1].first_seq;
	if (s->seal_step != STORE_SEAL_IDLE && s->sealed[i].first_seq == s->cur_hdr.first_seq)
		return s->cur_hdr.first_seq + s->cur_records;
	return s->cur_hdr.first_seq;
}

