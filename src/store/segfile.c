#include "config.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "segfile.h"
#include "watermark.h"

enum {
	SEGFILE_PROBE_CHUNK = 64 << 10,
	SEGFILE_TAIL_WINDOW = 64 << 10,	    /* first window of segfile_last_record */
	SEGFILE_WINDOW_EXTRA = 16 << 20,    /* how far widening goes beyond the lines */
	SEGFILE_WATERMARK_TRIES = 8,
};

size_t
segfile_line_max(uint32_t max_record)
{
	return record_line_max(RECORD_TAG_MAX, max_record);
}

uint64_t
segfile_unsynced_max(uint32_t max_record)
{
	return SEGFILE_WRITE_MAX + (uint64_t)segfile_line_max(max_record);
}

ssize_t
segfile_pread(int fd, void *buf, size_t n, uint64_t off)
{
	size_t got = 0;

	while (got < n) {
		ssize_t k = pread(fd, (char *)buf + got, n - got, (off_t)(off + got));
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			break;
		got += (size_t)k;
	}
	return (ssize_t)got;
}

/* Opens a small state file of the data directory (dir-id, watermark):
 * never through a symlink, never blocking on a FIFO, only a regular file.
 * -EBADMSG (with *ret_reason) for anything that is not a regular file. */
static int
segfile_open_state(int dir_fd, const char *name, int *ret_fd, const char **ret_reason)
{
	_cleanup_close_ int fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
						      O_CLOEXEC);
	struct stat st;

	if (fd < 0 && errno == ELOOP) {
		*ret_reason = "a symlink, not a regular file";
		return -EBADMSG;
	}
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode)) {
		*ret_reason = "not a regular file";
		return -EBADMSG;
	}
	*ret_fd = TAKE_FD(fd);
	return 0;
}

/* The rule of docs/format.md §1: 32 lowercase hex digits, then at most one
 * LF, nothing else; the daemon, the readers and verify all apply it. */
int
segfile_read_dir_id(int dir_fd, uint8_t ret_id[RECORD_DIR_ID_LEN], const char **ret_reason)
{
	_cleanup_close_ int fd = -EBADF;
	char buf[2 * RECORD_DIR_ID_LEN + 2];
	const char *reason = NULL;
	ssize_t n;
	int r;

	r = segfile_open_state(dir_fd, SEGDIR_DIR_ID, &fd, &reason);
	if (r < 0) {
		*ret_reason = reason;
		return r;
	}
	n = segfile_pread(fd, buf, sizeof(buf), 0);
	if (n < 0)
		return (int)n;
	if (!(n == 2 * RECORD_DIR_ID_LEN ||
	      (n == 2 * RECORD_DIR_ID_LEN + 1 && buf[2 * RECORD_DIR_ID_LEN] == '\n')) ||
	    segdir_id_from_hex(buf, 2 * RECORD_DIR_ID_LEN, ret_id) < 0) {
		*ret_reason = "not 32 lowercase hex digits and an optional LF";
		return -EBADMSG;
	}
	return 0;
}

static int
segfile_entry_cmp(const void *a, const void *b)
{
	const struct segfile_entry *x = a, *y = b;

	if (x->is_current != y->is_current)
		return x->is_current ? 1 : -1;
	return x->first_seq < y->first_seq ? -1 : x->first_seq > y->first_seq;
}

int
segfile_list(int dir_fd, struct segfile_entry **ret, size_t *ret_n)
{
	_cleanup_closedir_ DIR *d = NULL;
	_cleanup_free_ struct segfile_entry *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int k = segdir_opendir(dir_fd, NULL, &d);

	if (k < 0)
		return k;
	while ((errno = 0, de = readdir(d))) {
		struct segfile_entry e = { 0 };
		struct stat st;

		if (strcmp(de->d_name, SEGDIR_CURRENT) == 0)
			e.is_current = true;
		else if (!segdir_parse_name(de->d_name, &e.first_seq))
			continue;
		if (fstatat(dir_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue; /* vanished (retention, rotation) */
		e.regular = S_ISREG(st.st_mode);
		e.size = (uint64_t)st.st_size;
		e.ino = (uint64_t)st.st_ino;
		memcpy(e.name, de->d_name, strlen(de->d_name) + 1); /* <= SEGDIR_NAME_LEN */
		if (n == cap) {
			size_t ncap = cap ? 2 * cap : 64;
			struct segfile_entry *nv = realloc(v, ncap * sizeof(*v));
			if (!nv)
				return -ENOMEM;
			v = nv;
			cap = ncap;
		}
		v[n++] = e;
	}
	if (errno)
		return -errno;
	if (n > 1)
		qsort(v, n, sizeof(*v), segfile_entry_cmp);
	*ret = TAKE_PTR(v);
	*ret_n = n;
	return 0;
}

/* The device number the kernel prints in /proc/locks is the superblock's
 * (s_dev).  stat(2) reports the same on ext4, xfs or tmpfs, but not on
 * btrfs (a subvolume's anonymous device) or overlayfs; the mount's own
 * number is in /proc/self/mountinfo (proc(5)), found by the mount id
 * statx(2) gives.  Returns false if it cannot be found. */
static bool
segfile_mount_dev(int dir_fd, unsigned *ret_major, unsigned *ret_minor)
{
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	struct statx stx;

	if (statx(dir_fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &stx) < 0 ||
	    !(stx.stx_mask & STATX_MNT_ID))
		return false;
	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return false;
	/* "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw" */
	while (getline(&line, &cap, f) > 0) {
		unsigned long long id;
		unsigned maj, min;
		if (sscanf(line, "%llu %*u %u:%u", &id, &maj, &min) == 3 && id == stx.stx_mnt_id) {
			*ret_major = maj;
			*ret_minor = min;
			return true;
		}
	}
	return false;
}

bool
segfile_writer_active(int dir_fd)
{
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *line = NULL;
	unsigned sb_major = 0, sb_minor = 0;
	bool have_sb = false, looked = false;
	size_t cap = 0;
	struct stat st;

	if (fstatat(dir_fd, SEGDIR_LOCK, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
		return false;
	f = fopen("/proc/locks", "re");
	if (!f)
		return false;
	/* "1: FLOCK  ADVISORY  WRITE 1234 fe:00:10952864 0 EOF"; waiters have "->" */
	while (getline(&line, &cap, f) > 0) {
		char type[16], kind[16], mode[16];
		unsigned maj, min;
		unsigned long long ino;
		long pid;

		if (strstr(line, "->"))
			continue;
		if (sscanf(line, "%*s %15s %15s %15s %ld %x:%x:%llu", type, kind, mode, &pid, &maj,
			   &min, &ino) != 7)
			continue;
		if (strcmp(type, "FLOCK") != 0 || strcmp(mode, "WRITE") != 0 ||
		    ino != (unsigned long long)st.st_ino)
			continue;
		if (maj == major(st.st_dev) && min == minor(st.st_dev))
			return true;
		if (!looked) {
			have_sb = segfile_mount_dev(dir_fd, &sb_major, &sb_minor);
			looked = true;
		}
		if (have_sb && maj == sb_major && min == sb_minor)
			return true;
	}
	return false;
}

int
segfile_read_watermark(int dir_fd, uint8_t ret_id[RECORD_DIR_ID_LEN], uint64_t *ret_seq)
{
	_cleanup_close_ int fd = -EBADF;
	char a[WATERMARK_LEN + 1], b[WATERMARK_LEN + 1];
	const char *reason = NULL;
	ssize_t na, nb;
	int r;

	r = segfile_open_state(dir_fd, WATERMARK_FILE, &fd, &reason);
	if (r < 0)
		return r;
	/* A read that overlaps the daemon's in-place rewrite can see a mix of
	 * the old and new bytes, which may even parse; two reads that agree
	 * did not overlap one write. */
	na = segfile_pread(fd, a, sizeof(a), 0);
	for (int i = 0; i < SEGFILE_WATERMARK_TRIES; i++) {
		if (na < 0)
			return (int)na;
		nb = segfile_pread(fd, b, sizeof(b), 0);
		if (nb == na && memcmp(a, b, (size_t)na) == 0)
			return watermark_parse(a, (size_t)na, ret_id, ret_seq);
		memcpy(a, b, sizeof(a));
		na = nb;
	}
	return -EBADMSG;
}

int
segfile_open(int dir_fd, const char *name, int flags, struct segfile *ret)
{
	_cleanup_close_ int fd = -EBADF;
	struct segfile f = SEGFILE_INIT;
	struct stat st;
	int fl;

	if (strcmp(name, SEGDIR_CURRENT) == 0)
		f.is_current = true;
	else if (!segdir_parse_name(name, &f.name_seq))
		return -EINVAL;
	/* O_NONBLOCK: a FIFO named like a segment must not block the open */
	fd = openat(dir_fd, name, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ELOOP ? -EISDIR : -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EISDIR;
	/* io_uring honours O_NONBLOCK on regular files (-EAGAIN): drop it */
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
		return -errno;
	f.dev = (uint64_t)st.st_dev;
	f.ino = (uint64_t)st.st_ino;
	f.size = (uint64_t)st.st_size;
	snprintf(f.name, sizeof(f.name), "%s", name);
	f.fd = TAKE_FD(fd);
	*ret = f;
	return 0;
}

int
segfile_borrow(int fd, const char *name, struct segfile *ret)
{
	struct segfile f = SEGFILE_INIT;
	struct stat st;

	if (strcmp(name, SEGDIR_CURRENT) == 0)
		f.is_current = true;
	else if (!segdir_parse_name(name, &f.name_seq))
		return -EINVAL;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EISDIR;
	f.dev = (uint64_t)st.st_dev;
	f.ino = (uint64_t)st.st_ino;
	f.size = (uint64_t)st.st_size;
	snprintf(f.name, sizeof(f.name), "%s", name);
	f.fd = fd;
	*ret = f;
	return 0;
}

void
segfile_close(struct segfile *f)
{
	if (!f)
		return;
	f->fd = safe_close(f->fd);
	f->hdr_len = 0;
}

int
segfile_read_header(struct segfile *f, const uint8_t *dir_id, const char **ret_reason)
{
	char buf[RECORD_HEADER_MAX];
	const char *nl, *reason = NULL;
	ssize_t n;

	f->hdr_len = 0;
	n = segfile_pread(f->fd, buf, sizeof(buf), 0);
	if (n < 0)
		return (int)n;
	nl = memchr(buf, '\n', (size_t)n);
	if (!nl) {
		*ret_reason = "no complete header line";
		return (size_t)n < sizeof(buf) ? -ENODATA : -EBADMSG;
	}
	if (record_header_decode(buf, (size_t)(nl - buf) + 1, &f->hdr, &reason) < 0) {
		*ret_reason = reason ? reason : "bad segment header";
		return -EBADMSG;
	}
	f->hdr_len = (uint64_t)(nl - buf) + 1;
	if (!f->is_current && f->hdr.first_seq != f->name_seq) {
		*ret_reason = "the name does not match the header's first seq";
		return -EBADMSG;
	}
	if (dir_id && memcmp(dir_id, f->hdr.dir_id, RECORD_DIR_ID_LEN) != 0) {
		*ret_reason = "the header names another data directory";
		return -EXDEV;
	}
	return 0;
}

/* Reads [start, end) of fd into a new buffer; -EIO if the file is shorter. */
static int
segfile_read_range(int fd, uint64_t start, uint64_t end, char **ret)
{
	_cleanup_free_ char *buf = malloc(end - start + 1);
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	n = segfile_pread(fd, buf, end - start, start);
	if (n < 0)
		return (int)n;
	if ((uint64_t)n != end - start)
		return -EIO;
	*ret = TAKE_PTR(buf);
	return 0;
}

int
segfile_scan_tail(const struct segfile *f, uint64_t end, uint64_t unsynced_max,
		  size_t line_max, struct recover_result *ret)
{
	uint64_t window = unsynced_max + 2 * (uint64_t)line_max;
	const uint64_t window_max = unsynced_max + 4 * (uint64_t)line_max + SEGFILE_WINDOW_EXTRA;
	struct segfile_probe last;
	uint64_t start;
	int r;

	assert(f->hdr_len > 0 && end >= f->hdr_len);
	for (;;) {
		_cleanup_free_ char *buf = NULL;
		start = end - f->hdr_len > window ? end - window : f->hdr_len;
		r = segfile_read_range(f->fd, start, end, &buf);
		if (r < 0)
			return r;
		recover_scan(f->hdr.version, buf, end - start, start, start == f->hdr_len, unsynced_max, ret);
		if (ret->have_last || start == f->hdr_len)
			return 0;
		if (window >= window_max)
			break;
		window = window * 4 < window_max ? window * 4 : window_max;
	}
	/* nothing valid in the widest window: the last record before it */
	r = segfile_last_record(f, start + line_max < end ? start + line_max : end, line_max, &last);
	if (r <= 0)
		return r;
	ret->have_last = true;
	ret->last_seq = last.seq;
	ret->last_time_us = last.time_us;
	return 0;
}

/* The last valid record line among the complete lines of buf (file bytes
 * [base, base + n)), looked for from the end, so that the usual case
 * checks one line; the bytes up to the first LF are a partial line unless
 * at_line_start. */
static bool
segfile_last_in(const char *buf, size_t n, uint64_t base, bool at_line_start, unsigned version,
		struct segfile_probe *ret)
{
	const char *first = buf, *end;

	if (!at_line_start) {
		const char *nl = memchr(buf, '\n', n);
		if (!nl)
			return false;
		first = nl + 1;
	}
	end = memrchr(first, '\n', (size_t)(buf + n - first));
	while (end) {
		const char *start = end > first ? memrchr(first, '\n', (size_t)(end - first)) : NULL;
		const char *line = start ? start + 1 : first;
		size_t len = (size_t)(end - line) + 1;
		uint64_t seq, t;

		if (record_check_version(version, line, len, &seq, &t, NULL) == 0) {
			*ret = (struct segfile_probe){ seq, t, base + (uint64_t)(line - buf), len };
			return true;
		}
		end = start;
	}
	return false;
}

int
segfile_last_record(const struct segfile *f, uint64_t end, size_t line_max,
		    struct segfile_probe *ret)
{
	const uint64_t window_max = 2 * (uint64_t)line_max + SEGFILE_WINDOW_EXTRA;
	uint64_t window = SEGFILE_TAIL_WINDOW, hi = end;

	assert(f->hdr_len > 0);
	if (hi <= f->hdr_len)
		return 0;
	for (;;) {
		_cleanup_free_ char *buf = NULL;
		uint64_t lo = hi - f->hdr_len > window ? hi - window : f->hdr_len;
		int r = segfile_read_range(f->fd, lo, hi, &buf);
		if (r < 0)
			return r;
		if (segfile_last_in(buf, hi - lo, lo, lo == f->hdr_len, f->hdr.version, ret))
			return 1;
		if (lo == f->hdr_len)
			return 0;
		if (window < window_max) {
			window = window * 4 < window_max ? window * 4 : window_max;
			continue;
		}
		/* no valid line lies wholly in [lo, hi); one that starts before
		 * lo ends before lo + line_max */
		hi = lo + line_max;
	}
}

uint64_t
segfile_current_kept(int dir_fd, uint64_t watermark, size_t line_max)
{
	_cleanup_segfile_ struct segfile f = SEGFILE_INIT;
	struct segfile_probe last;
	struct recover_result res;
	const char *reason;

	if (segfile_open(dir_fd, SEGDIR_CURRENT, O_RDONLY, &f) < 0 ||
	    segfile_read_header(&f, NULL, &reason) < 0 ||
	    segfile_last_record(&f, f.size, line_max, &last) <= 0)
		return 0;
	if (last.offset + last.len == f.size && watermark >= last.seq)
		return last.seq;
	if (segfile_scan_tail(&f, f.size, segfile_unsynced_max(SEGFILE_MAX_RECORD), line_max,
			      &res) < 0 || !res.have_last)
		return 0;
	return res.last_seq;
}

int
segfile_probe(const struct segfile *f, uint64_t off, uint64_t end, bool at_line_start,
	      size_t line_max, struct segfile_probe *ret)
{
	_cleanup_segfile_iter_ struct segfile_iter it = SEGFILE_ITER_INIT;
	struct segfile_line l;
	int k;

	segfile_iter_init(&it, SEGFILE_CHECK, line_max, SEGFILE_PROBE_CHUNK);
	segfile_iter_start(&it, f->fd, f->hdr.version, off, !at_line_start);
	while ((k = segfile_iter_next(&it, &l)) > 0) {
		if (l.offset >= end || l.type == SEGFILE_TORN)
			return 0;
		if (l.type == SEGFILE_RECORD) {
			*ret = (struct segfile_probe){ l.rec.seq, l.rec.time_us, l.offset, l.len };
			return 1;
		}
	}
	return k;
}

int
segfile_seek(const struct segfile *f, enum segfile_key key, uint64_t target, size_t line_max,
	     uint64_t *ret_offset)
{
	uint64_t a = f->hdr_len, b = f->size;

	assert(f->hdr_len > 0);
	while (b > a && b - a > SEGFILE_SEEK_LINEAR) {
		uint64_t mid = a + (b - a) / 2, v;
		struct segfile_probe p;
		int k = segfile_probe(f, mid, b, false, line_max, &p);
		if (k < 0)
			return k;
		v = key == SEGFILE_KEY_SEQ ? p.seq : p.time_us;
		if (k == 0 || v >= target || p.offset >= b)
			b = mid;
		else
			a = p.offset; /* every record before it has a smaller key */
	}
	*ret_offset = a;
	return 0;
}

/* --- the line iterator ---------------------------------------------------- */

void
segfile_iter_init(struct segfile_iter *it, enum segfile_mode mode, size_t line_max, size_t chunk)
{
	it->mode = mode;
	it->line_max = line_max;
	it->chunk = chunk ? chunk : SEGFILE_CHUNK;
}

void
segfile_iter_start(struct segfile_iter *it, int fd, unsigned version, uint64_t off,
		   bool skip_partial)
{
	it->fd = fd;
	it->version = version;
	it->base = off;
	it->len = it->pos = 0;
	it->last_pos = SIZE_MAX;
	it->skipping = skip_partial;
}

void
segfile_iter_free(struct segfile_iter *it)
{
	if (!it)
		return;
	free(it->buf);
	free(it->scratch);
	it->buf = it->scratch = NULL;
	it->cap = it->scratch_cap = 0;
	it->len = it->pos = 0;
}

uint64_t
segfile_iter_offset(const struct segfile_iter *it)
{
	return it->base + it->pos;
}

void
segfile_iter_unread(struct segfile_iter *it)
{
	assert(it->last_pos != SIZE_MAX);
	it->pos = it->last_pos;
	it->last_pos = SIZE_MAX;
}

/* Checks (or decodes) one complete line into *ret. */
static int
segfile_iter_classify(struct segfile_iter *it, const char *line, size_t len, uint64_t off,
		      struct segfile_line *ret)
{
	const char *reason = NULL;
	int k;

	ret->offset = off;
	ret->line = line;
	ret->len = len;
	if (it->mode == SEGFILE_CHECK) {
		k = record_check_version(it->version, line, len, &ret->rec.seq, &ret->rec.time_us,
					 &reason);
	} else {
		if (len > it->scratch_cap) {
			char *ns = realloc(it->scratch, len);
			if (!ns)
				return -ENOMEM;
			it->scratch = ns;
			it->scratch_cap = len;
		}
		k = record_decode_version(it->version, line, len, it->scratch, &ret->rec, &reason);
	}
	if (k == 0) {
		ret->type = SEGFILE_RECORD;
	} else if (k == RECORD_LINE_META) {
		ret->type = SEGFILE_META;
	} else {
		ret->type = SEGFILE_DAMAGED;
		ret->reason = reason ? reason : "unreadable line";
	}
	return 1;
}

/* Reads more of the file after what the buffer holds (keeping the
 * unconsumed bytes, growing the buffer for a long line).  Returns the
 * bytes read, 0 at the end of the file. */
static ssize_t
segfile_iter_fill(struct segfile_iter *it)
{
	ssize_t n;

	if (it->pos > 0) {
		memmove(it->buf, it->buf + it->pos, it->len - it->pos);
		it->base += it->pos;
		it->len -= it->pos;
		it->pos = 0;
		it->last_pos = SIZE_MAX;
	}
	if (it->cap - it->len < it->chunk / 2 || !it->buf) {
		size_t ncap = it->cap ? 2 * it->cap : it->chunk;
		if (ncap < it->len + it->chunk)
			ncap = it->len + it->chunk;
		char *nb = realloc(it->buf, ncap);
		if (!nb)
			return -ENOMEM;
		it->buf = nb;
		it->cap = ncap;
	}
	do
		n = pread(it->fd, it->buf + it->len, it->cap - it->len, (off_t)(it->base + it->len));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	it->len += (size_t)n;
	return n;
}

int
segfile_iter_next(struct segfile_iter *it, struct segfile_line *ret)
{
	for (;;) {
		if (it->pos < it->len) {
			char *p = it->buf + it->pos;
			char *nl = memchr(p, '\n', it->len - it->pos);
			if (nl) {
				size_t n = (size_t)(nl - p) + 1;
				uint64_t off = it->base + it->pos;
				it->last_pos = it->pos;
				it->pos += n;
				if (it->skipping) {
					it->skipping = false;
					continue;
				}
				return segfile_iter_classify(it, p, n, off, ret);
			}
			if (it->skipping) {
				it->base += it->len;
				it->len = it->pos = 0;
			} else if (it->len - it->pos > it->line_max) {
				/* no record is this long: damage, skipped up to its LF */
				ret->type = SEGFILE_DAMAGED;
				ret->offset = it->base + it->pos;
				ret->line = p;
				ret->len = it->len - it->pos;
				ret->reason = "line longer than the longest possible record";
				it->skipping = true;
				it->base += it->len;
				it->len = it->pos = 0;
				it->last_pos = SIZE_MAX;
				return 1;
			}
		}
		ssize_t n = segfile_iter_fill(it);
		if (n < 0)
			return (int)n;
		if (n > 0)
			continue;
		if (it->pos < it->len && !it->skipping) {
			ret->type = SEGFILE_TORN;
			ret->offset = it->base + it->pos;
			ret->line = it->buf + it->pos;
			ret->len = it->len - it->pos;
			ret->reason = "incomplete last line";
			it->len = it->pos; /* read again from its start next time */
			it->last_pos = SIZE_MAX;
			return 1;
		}
		return 0;
	}
}
