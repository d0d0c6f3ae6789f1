#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"
#include "cleanup.h"
#include "hex.h"
#include "parse.h"
#include "segdir.h"

void
segdir_name(uint64_t first_seq, char *buf)
{
	snprintf(buf, SEGDIR_NAME_LEN + 1, "%020llu.log", (unsigned long long)first_seq);
}

bool
segdir_parse_name(const char *name, uint64_t *ret_seq)
{
	uint64_t v;

	if (strlen(name) != SEGDIR_NAME_LEN || strcmp(name + 20, ".log") != 0 ||
	    parse_u64_mem(name, 20, &v) < 0 || v == 0)
		return false;
	*ret_seq = v;
	return true;
}

static int
segdir_entry_cmp(const void *a, const void *b)
{
	const struct segdir_entry *x = a, *y = b;
	return x->first_seq < y->first_seq ? -1 : x->first_seq > y->first_seq;
}

int
segdir_opendir(int dir_fd, const char *sub, DIR **ret)
{
	int fd = openat(dir_fd, sub ? sub : ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	*ret = NULL;
	if (fd < 0)
		return -errno;
	*ret = fdopendir(fd);
	if (!*ret) {
		int k = -errno;
		safe_close(fd);
		return k;
	}
	return 0;
}

int
segdir_list(int dir_fd, struct segdir_entry **ret, size_t *ret_n)
{
	_cleanup_closedir_ DIR *d = NULL;
	_cleanup_free_ struct segdir_entry *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int k = segdir_opendir(dir_fd, NULL, &d);

	if (k < 0)
		return k;
	while ((errno = 0, de = readdir(d))) {
		struct stat st;
		uint64_t seq;

		if (!segdir_parse_name(de->d_name, &seq))
			continue;
		if (fstatat(dir_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct segdir_entry *nv = realloc(v, ncap * sizeof(*v));
			if (!nv)
				return -ENOMEM;
			v = nv;
			cap = ncap;
		}
		v[n++] = (struct segdir_entry){
			.first_seq = seq,
			.size = (uint64_t)st.st_size,
			.mtime_us = (uint64_t)st.st_mtim.tv_sec * 1000000u +
				    (uint64_t)st.st_mtim.tv_nsec / 1000u,
			.ino = (uint64_t)st.st_ino,
		};
	}
	if (errno)
		return -errno;
	if (n > 1)
		qsort(v, n, sizeof(*v), segdir_entry_cmp);
	*ret = TAKE_PTR(v);
	*ret_n = n;
	return 0;
}

int
segdir_lock(int dir_fd, int *ret_fd)
{
	_cleanup_close_ int fd = -EBADF;
	char pid[32];
	ssize_t w;
	int n;

	fd = openat(dir_fd, SEGDIR_LOCK, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		return errno == EWOULDBLOCK ? -EBUSY : -errno;
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0)
		return -errno;
	w = pwrite(fd, pid, (size_t)n, 0);
	if (w != n)
		return w < 0 ? -errno : -ENOSPC; /* a short write sets no errno */
	*ret_fd = TAKE_FD(fd);
	return 0;
}

/* Oldest first: a segment goes while any rule still wants one gone.
 * Removing a segment frees its size (for keep_free and max_bytes). */
size_t
segdir_retention_pick(const struct segdir_entry *e, size_t n, const struct segdir_retention *r,
		      uint64_t now_us, uint64_t fs_avail, uint64_t fs_size,
		      enum segdir_reason *ret_reason)
{
	uint64_t total = 0, keep_free = r->keep_free_bytes;
	size_t k = 0;

	if (r->keep_free_percent)
		keep_free = fs_size / 100 * r->keep_free_percent;
	for (size_t i = 0; i < n; i++)
		total += e[i].size;
	*ret_reason = SEGDIR_KEEP;
	for (; k < n; k++) {
		enum segdir_reason why = SEGDIR_KEEP;
		if (r->max_segments && n - k > r->max_segments)
			why = SEGDIR_MAX_SEGMENTS;
		else if (r->max_bytes && total > r->max_bytes)
			why = SEGDIR_MAX_BYTES;
		else if (r->max_age_us && now_us > e[k].mtime_us &&
			 now_us - e[k].mtime_us > r->max_age_us)
			why = SEGDIR_MAX_AGE;
		else if (keep_free && fs_avail < keep_free)
			why = SEGDIR_KEEP_FREE;
		if (why == SEGDIR_KEEP)
			break;
		if (k == 0)
			*ret_reason = why;
		total -= e[k].size;
		fs_avail += e[k].size;
	}
	return k;
}

size_t
segdir_vacuum_pick(const struct segdir_entry *e, size_t n, const struct segdir_vacuum *v,
		   uint64_t now_us)
{
	uint64_t total = 0;
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		total += e[i].size;
	for (; k < n; k++) {
		bool over = (v->by_files && n - k > v->max_files) ||
			    (v->by_bytes && total > v->max_bytes) ||
			    (v->by_age && now_us > e[k].mtime_us &&
			     now_us - e[k].mtime_us > v->max_age_us);
		if (!over)
			break;
		total -= e[k].size;
	}
	return k;
}

int
segdir_create_dir_id(const struct fsops *ops, int dir_fd, mode_t mode,
		     uint8_t ret_id[RECORD_DIR_ID_LEN])
{
	uint8_t id[RECORD_DIR_ID_LEN];
	char buf[2 * RECORD_DIR_ID_LEN + 1];
	ssize_t k = getrandom(id, sizeof(id), 0);
	int r;

	if (k != (ssize_t)sizeof(id))
		return k < 0 ? -errno : -EIO; /* a short getrandom sets no errno */
	segdir_id_to_hex(id, buf);
	buf[2 * RECORD_DIR_ID_LEN] = '\n';
	r = atomic_file_write_all(ops, dir_fd, SEGDIR_DIR_ID, mode, buf, sizeof(buf));
	if (r < 0)
		return r;
	memcpy(ret_id, id, sizeof(id));
	return 0;
}

void
segdir_make_read_only(int fd)
{
	struct stat st;
	if (fstat(fd, &st) == 0 && (st.st_mode & 0222))
		(void)fchmod(fd, st.st_mode & 07555);
}

int
segdir_sync_parent(const struct fsops *ops, const char *path)
{
	_cleanup_free_ char *parent = strdup(path);
	_cleanup_close_ int fd = -EBADF;
	char *slash;

	if (!parent)
		return -ENOMEM;
	/* "/a/b//" -> "/a": strip trailing slashes, then the last name */
	for (size_t n = strlen(parent); n > 1 && parent[n - 1] == '/'; n--)
		parent[n - 1] = 0;
	slash = strrchr(parent, '/');
	if (!slash)
		strcpy(parent, ".");
	else if (slash == parent)
		parent[1] = 0;
	else
		*slash = 0;
	fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return ops->fsync(ops->ctx, fd, false);
}

int
segdir_open_quarantine(const struct fsops *ops, int dir_fd, mode_t mode, int *ret_fd)
{
	_cleanup_close_ int fd = -EBADF;
	int r;

	if (mkdirat(dir_fd, SEGDIR_QUARANTINE, mode) < 0 && errno != EEXIST)
		return -errno;
	/* also when it existed: a crash may have come before that fsync */
	r = ops->fsync(ops->ctx, dir_fd, false);
	if (r < 0)
		return r;
	fd = openat(dir_fd, SEGDIR_QUARANTINE, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

void
segdir_quarantine_name(uint64_t now_us, const char *what, char *buf, size_t len)
{
	char t[RECORD_TIME_LEN + 1];

	record_format_time(now_us, t);
	t[RECORD_TIME_LEN] = 0;
	snprintf(buf, len, "%s-current.%s", t, what);
}

int
segdir_read_range(int fd, uint64_t start, uint64_t end, char **ret)
{
	_cleanup_free_ char *buf = malloc(end - start + 1);
	uint64_t got = 0;

	if (!buf)
		return -ENOMEM;
	while (start + got < end) {
		ssize_t n = pread(fd, buf + got, end - start - got, (off_t)(start + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		got += (uint64_t)n;
	}
	*ret = TAKE_PTR(buf);
	return 0;
}

const char *
segdir_reason_name(enum segdir_reason reason)
{
	static const char *const names[] = {
		[SEGDIR_KEEP] = "kept",
		[SEGDIR_MAX_SEGMENTS] = "max_segments",
		[SEGDIR_MAX_BYTES] = "max_bytes",
		[SEGDIR_MAX_AGE] = "max_age",
		[SEGDIR_KEEP_FREE] = "keep_free",
		[SEGDIR_VACUUM] = "vacuum",
	};
	return reason < ELEMENTSOF(names) ? names[reason] : "unknown";
}

void
segdir_id_to_hex(const uint8_t id[RECORD_DIR_ID_LEN], char *buf)
{
	hex_encode(id, RECORD_DIR_ID_LEN, buf);
	buf[2 * RECORD_DIR_ID_LEN] = 0;
}

int
segdir_id_from_hex(const char *s, size_t len, uint8_t id[RECORD_DIR_ID_LEN])
{
	if (len != 2 * RECORD_DIR_ID_LEN)
		return -EINVAL;
	return hex_decode_lower(s, RECORD_DIR_ID_LEN, id);
}
