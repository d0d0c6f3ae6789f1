/* Recovery of the data directory at start-up (docs/design.md, "Recovery"):
 * the newest sealed segment's last seq, `current`'s header and tail, the
 * next seq, and the repair steps that make what survived durable before
 * anything is written -- a torn tail copied to quarantine/ and cut, an
 * empty current moved aside, the fdatasync, a current of an older format
 * sealed or replaced, the watermark.  A step that fails (a full disk)
 * stays pending; store_repair() resumes it. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"
#include "crashpoint.h"
#include "log.h"
#include "recover.h"
#include "segfile.h"
#include "store.h"
#include "store_internal.h"
#include "watermark.h"

/* Bytes from the end of current that a crash may have torn: one commit
 * (STORE_WRITE_MAX plus the line that overflowed it). */
static uint64_t
store_unsynced_max(const struct store *s)
{
	return STORE_WRITE_MAX + store_max_line(s->cfg.max_record);
}

uint64_t
store_durable_seq(const struct store *s)
{
	if (s->repair != STORE_REPAIR_DONE)
		return s->open_wm_seq < s->recovered_seq ? s->open_wm_seq : s->recovered_seq;
	return s->recovered_seq;
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
int
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
int
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

const char *
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

