/* The data directory as a whole (store.h): store_open() -- the directory
 * created or checked, the writer's lock, the directory id, stale
 * temporaries, then recovery (store_recover.c) -- the watermark file, and
 * the accessors of struct store.  The seal sequence is store_seal.c's,
 * retention store_retention.c's. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"
#include "crashpoint.h"
#include "log.h"
#include "now.h"
#include "segfile.h"
#include "store.h"
#include "store_internal.h"
#include "watermark.h"

uint64_t
store_now_us(void)
{
	return now_us(CLOCK_REALTIME);
}

size_t
store_max_line(uint32_t max_record)
{
	return record_line_max(RECORD_TAG_MAX, max_record);
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

int
store_publish_watermark(struct store *s, uint64_t seq)
{
	char buf[WATERMARK_LEN];
	ssize_t n;

	if (s->wm_fd < 0)
		return -EBADF;
	watermark_format(s->dir_id, seq, buf);
	/* a plain pwrite(2), not s->ops: through the ring, ext4 hands every
	 * buffered write to an io-wq worker, and this one waits in the path
	 * of every acknowledgement (a thread round trip, docs/design.md) */
	n = fsops_syscall.pwrite(NULL, s->wm_fd, buf, sizeof(buf), 0);
	return n == WATERMARK_LEN ? 0 : n < 0 ? (int)n : -EIO;
}

/* A store for cfg and ops, with nothing opened yet. */
static int
store_new(const struct store_config *cfg, const struct fsops *ops, struct store **ret)
{
	_cleanup_(store_freep) struct store *s = calloc(1, sizeof(*s));

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
	*ret = TAKE_PTR(s);
	return 0;
}

/* The directory opened (created if missing), locked against a second
 * writer, its id read (or created), its stale temporaries removed. */
static int
store_take_dir(struct store *s)
{
	int r = store_open_dir(s);

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
	return r;
}

/* What the directory holds: the sealed segments, the newest one's last
 * seq, the watermark, and `current` recovered (store_recover), which
 * leaves the repair steps to run. */
static int
store_load_state(struct store *s)
{
	uint64_t sealed_last = 0, wm_seq = 0;
	int r = segdir_list(s->dir_fd, &s->sealed, &s->n_sealed);

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
	return r;
}

/* Runs the repair steps at open.  A full disk, or a failed sync of what
 * survived, is not fatal: the engine holds commits and retries (a restart
 * loop helps no one); any other failure is. */
static int
store_open_repair(struct store *s)
{
	int r = store_repair(s);

	if (r < 0 && !store_no_space(r) && s->repair != STORE_REPAIR_SYNC &&
	    s->repair != STORE_REPAIR_UPGRADE)
		return log_error_errno(r, "Refusing to start: recovery of %s cannot %s (%m). Fix "
				       "the cause (is " SEGDIR_QUARANTINE "/ a directory seglogd can "
				       "write?) and start again",
				       s->path, store_repair_what(s->repair));
	if (r < 0)
		log_warning("Starting with the recovery of %s unfinished: records are accepted "
			    "but not written or acknowledged until it completes", s->path);
	return 0;
}

int
store_open(const struct store_config *cfg, const struct fsops *ops, struct store **ret)
{
	_cleanup_(store_freep) struct store *s = NULL;
	int r;

	/* hit once per open: lets a test tell a crash-point build (tests/torture) */
	CRASH_POINT("probe");
	r = store_new(cfg, ops, &s);
	if (r >= 0)
		r = store_take_dir(s);
	if (r >= 0)
		r = store_load_state(s);
	if (r >= 0)
		r = store_open_repair(s);
	if (r < 0)
		return r;
	log_info("Recovered %s: %zu sealed segment(s), current holds seq %llu..%llu, next seq %llu",
		 s->path, s->n_sealed, (unsigned long long)s->cur_hdr.first_seq,
		 (unsigned long long)(s->next_seq - 1), (unsigned long long)s->next_seq);
	*ret = TAKE_PTR(s);
	return 0;
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
