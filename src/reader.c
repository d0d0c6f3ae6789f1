#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reader.h"
#include "recover.h"
#include "segdir.h"

enum {
	READER_BUF_INITIAL = 256 << 10,
	READER_LINE_HARD_MAX = 64 << 20,
};

struct reader_seg {
	uint64_t first_seq;
	bool is_current;
	char name[SEGDIR_NAME_LEN + 1];
};

enum reader_key {
	READER_KEY_SEQ,
	READER_KEY_TIME,
};

struct reader {
	char *dir;
	int dir_fd;
	bool follow;

	struct reader_seg *segs;
	size_t n_segs;
	size_t idx; /* segment being read, or n_segs when none */

	int fd;
	ino_t ino;
	bool in_current;
	char name[SEGDIR_NAME_LEN + 1];
	struct segment_header hdr;
	uint64_t hdr_len;
	bool renamed; /* our current was sealed under us: read to EOF, move on */

	char *buf;
	size_t buf_cap, buf_len, buf_pos;
	uint64_t buf_off; /* file offset of buf[0] */
	bool skipping;	  /* discarding an over-long line up to its LF */

	char *scratch;
	size_t scratch_cap;

	uint64_t start_seq;
	uint64_t start_time;  /* skip records before the first one at/after it */
	bool seeking_time;
	uint64_t last_seq;
	bool have_last;
	uint64_t seek_offset; /* where to start in seek_name, 0 = after header */
	char seek_name[SEGDIR_NAME_LEN + 1];
	ino_t bad_current;    /* a `current` already reported bad; not reread */

	uint8_t dir_id[RECORD_DIR_ID_LEN];
	bool have_dir_id;

	bool pending; /* a record waits behind the GAP event just returned */
	struct reader_event pending_ev;
};

struct reader *
reader_free(struct reader *r)
{
	if (!r)
		return NULL;
	safe_close(r->fd);
	safe_close(r->dir_fd);
	free(r->segs);
	free(r->buf);
	free(r->scratch);
	free(r->dir);
	free(r);
	return NULL;
}

const char *
reader_dir(const struct reader *r)
{
	return r->dir;
}

void
reader_set_follow(struct reader *r, bool follow)
{
	r->follow = follow;
}

static int
reader_seg_cmp(const void *a, const void *b)
{
	const struct reader_seg *x = a, *y = b;
	if (x->is_current != y->is_current)
		return x->is_current ? 1 : -1;
	return x->first_seq < y->first_seq ? -1 : x->first_seq > y->first_seq;
}

/* Lists sealed segments (by name) and current; current sorts last. */
static int
reader_list_into(int dir_fd, struct reader_seg **ret, size_t *ret_n)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	size_t n = 0, cap = 0;
	_cleanup_free_ struct reader_seg *v = NULL;
	int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || !(d = fdopendir(fd))) {
		safe_close(fd);
		return -errno;
	}
	while ((de = readdir(d))) {
		struct reader_seg s = { 0 };
		if (strcmp(de->d_name, SEGDIR_CURRENT) == 0)
			s.is_current = true;
		else if (!segdir_parse_name(de->d_name, &s.first_seq))
			continue;
		memcpy(s.name, de->d_name, strlen(de->d_name) + 1); /* <= SEGDIR_NAME_LEN */
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			struct reader_seg *nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				return -ENOMEM;
			v = nv;
		}
		v[n++] = s;
	}
	if (n)
		qsort(v, n, sizeof(*v), reader_seg_cmp);
	*ret = TAKE_PTR(v);
	*ret_n = n;
	return 0;
}

static int
reader_list(struct reader *r)
{
	struct reader_seg *v;
	size_t n;
	int k = reader_list_into(r->dir_fd, &v, &n);

	if (k < 0)
		return k;
	free(r->segs);
	r->segs = v;
	r->n_segs = n;
	return 0;
}

/* The directory's own id from DIR/dir-id, so that even the oldest segment
 * is checked against it; without the file, the first header seen sets it. */
static void
reader_load_dir_id(struct reader *r)
{
	_cleanup_close_ int fd = openat(r->dir_fd, SEGDIR_DIR_ID, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	char buf[2 * RECORD_DIR_ID_LEN + 2];
	ssize_t n;

	if (fd < 0)
		return;
	n = pread(fd, buf, sizeof(buf), 0);
	if (n >= 2 * RECORD_DIR_ID_LEN &&
	    segdir_id_from_hex(buf, 2 * RECORD_DIR_ID_LEN, r->dir_id) == 0)
		r->have_dir_id = true;
}

int
reader_open(const char *dir, struct reader **ret)
{
	_cleanup_(reader_freep) struct reader *r = calloc(1, sizeof(*r));
	int k;

	if (!r)
		return -ENOMEM;
	r->fd = -EBADF;
	r->dir = strdup(dir);
	if (!r->dir)
		return -ENOMEM;
	r->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r->dir_fd < 0)
		return -errno;
	r->buf_cap = READER_BUF_INITIAL;
	r->buf = malloc(r->buf_cap);
	r->scratch_cap = READER_BUF_INITIAL;
	r->scratch = malloc(r->scratch_cap);
	if (!r->buf || !r->scratch)
		return -ENOMEM;
	reader_load_dir_id(r);
	k = reader_list(r);
	if (k < 0)
		return k;
	r->idx = 0;
	*ret = TAKE_PTR(r);
	return 0;
}

static void
reader_close_file(struct reader *r)
{
	r->fd = safe_close(r->fd);
	r->buf_len = r->buf_pos = 0;
	r->skipping = false;
	r->renamed = false;
}

/* Fills ev as a BAD_SEGMENT event for the open file and closes it. */
static int
reader_bad_segment(struct reader *r, struct reader_event *ev, const char *reason)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = READER_BAD_SEGMENT;
	ev->file = r->name;
	ev->reason = reason;
	if (r->in_current)
		r->bad_current = r->ino;
	reader_close_file(r);
	return 2;
}

/* A `current` opened from a stale listing may already be a newer one than
 * the segment after the last record read: a rotation sealed the one we
 * wanted in between.  Relists and points idx at that sealed segment. */
static bool
reader_missed_seal(struct reader *r)
{
	uint64_t want = r->last_seq, got = r->hdr.first_seq;

	if (reader_list(r) < 0)
		return false;
	for (size_t i = 0; i < r->n_segs; i++)
		if (!r->segs[i].is_current && r->segs[i].first_seq > want &&
		    r->segs[i].first_seq < got) {
			r->idx = i;
			return true;
		}
	return false;
}

/* Opens the segment at r->idx and checks its header and name.  Returns 1
 * when open, 0 when the file vanished (retention, rotation) or is not
 * ready, 3 when idx was moved to an earlier segment to open instead, or a
 * BAD_SEGMENT event (2) filled into ev. */
static int
reader_open_file(struct reader *r, struct reader_event *ev)
{
	struct reader_seg *s = &r->segs[r->idx];
	char head[RECORD_HEADER_MAX];
	struct stat st;
	const char *nl, *reason = NULL;
	ssize_t n;

	reader_close_file(r);
	r->fd = openat(r->dir_fd, s->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (r->fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(r->fd, &st) < 0)
		return -errno;
	if (s->is_current && st.st_ino == r->bad_current) {
		reader_close_file(r);
		return 0;
	}
	r->ino = st.st_ino;
	r->in_current = s->is_current;
	snprintf(r->name, sizeof(r->name), "%s", s->name);
	n = pread(r->fd, head, sizeof(head), 0);
	if (n < 0)
		return -errno;
	nl = memchr(head, '\n', (size_t)n);
	if (!nl && s->is_current && r->follow) {
		reader_close_file(r); /* being created; try later */
		return 0;
	}
	if (!nl || record_header_decode(head, (size_t)(nl - head) + 1, &r->hdr, &reason) < 0)
		return reader_bad_segment(r, ev, reason ? reason : "no complete header line");
	if (!s->is_current && r->hdr.first_seq != s->first_seq)
		return reader_bad_segment(r, ev, "the name does not match the header's first seq");
	if (r->have_dir_id && memcmp(r->dir_id, r->hdr.dir_id, RECORD_DIR_ID_LEN) != 0)
		return reader_bad_segment(r, ev, "the header names another data directory");
	if (s->is_current && r->have_last && r->hdr.first_seq > r->last_seq + 1 &&
	    reader_missed_seal(r)) {
		reader_close_file(r);
		return 3;
	}
	memcpy(r->dir_id, r->hdr.dir_id, RECORD_DIR_ID_LEN);
	r->have_dir_id = true;
	r->hdr_len = (uint64_t)(nl - head) + 1;
	r->buf_off = r->hdr_len;
	if (r->seek_offset > r->hdr_len && strcmp(r->seek_name, r->name) == 0)
		r->buf_off = r->seek_offset;
	r->seek_offset = 0;
	return 1;
}

/* After the file at idx ended: the next segment by first seq. */
static int
reader_advance(struct reader *r)
{
	uint64_t first = r->hdr.first_seq;
	bool was_current = r->in_current;
	int k;

	reader_close_file(r);
	if (!was_current && r->idx + 1 < r->n_segs && !r->segs[r->idx + 1].is_current) {
		r->idx++;
		return 0;
	}
	k = reader_list(r);
	if (k < 0)
		return k;
	for (r->idx = 0; r->idx < r->n_segs; r->idx++)
		if (r->segs[r->idx].is_current || r->segs[r->idx].first_seq > first)
			break;
	return 0;
}

/* Reads more of the open file into buf; returns bytes read (0 at EOF). */
static int
reader_fill(struct reader *r)
{
	ssize_t n;

	if (r->buf_pos > 0) {
		memmove(r->buf, r->buf + r->buf_pos, r->buf_len - r->buf_pos);
		r->buf_off += r->buf_pos;
		r->buf_len -= r->buf_pos;
		r->buf_pos = 0;
	}
	if (r->buf_len == r->buf_cap) {
		if (r->buf_cap >= READER_LINE_HARD_MAX) {
			r->skipping = true; /* report it and drop what we hold */
			return -EMSGSIZE;
		}
		char *nb = realloc(r->buf, r->buf_cap * 2);
		if (!nb)
			return -ENOMEM;
		r->buf = nb;
		r->buf_cap *= 2;
	}
	do
		n = pread(r->fd, r->buf + r->buf_len, r->buf_cap - r->buf_len,
			  (off_t)(r->buf_off + r->buf_len));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	r->buf_len += (size_t)n;
	return (int)(n > 0);
}

static bool
reader_current_renamed(struct reader *r)
{
	struct stat st;
	if (fstatat(r->dir_fd, SEGDIR_CURRENT, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return true;
	return st.st_ino != r->ino;
}

/* Turns one complete line into an event; returns 1 if ev is to be
 * delivered, 0 if the record is skipped (before start_seq). */
static int
reader_line(struct reader *r, const char *line, size_t len, uint64_t off, struct reader_event *ev)
{
	const char *reason = NULL;

	memset(ev, 0, sizeof(*ev));
	ev->file = r->name;
	ev->offset = off;
	if (len > r->scratch_cap) {
		char *ns = realloc(r->scratch, len);
		if (!ns)
			return -ENOMEM;
		r->scratch = ns;
		r->scratch_cap = len;
	}
	if (record_decode(line, len, r->scratch, &ev->rec, &reason) < 0) {
		ev->type = READER_DAMAGED;
		ev->reason = reason;
		return 1;
	}
	if (ev->rec.seq < r->start_seq)
		return 0;
	if (r->seeking_time) {
		if (ev->rec.time_us < r->start_time)
			return 0;
		r->seeking_time = false;
	}
	if (r->have_last && ev->rec.seq <= r->last_seq) {
		ev->type = READER_DAMAGED;
		ev->reason = "seq out of order (not greater than the previous record's)";
		return 1;
	}
	ev->type = READER_RECORD;
	if ((r->have_last && ev->rec.seq > r->last_seq + 1) ||
	    (!r->have_last && r->start_seq && ev->rec.seq > r->start_seq)) {
		r->pending = true;
		r->pending_ev = *ev;
		memset(ev, 0, sizeof(*ev));
		ev->type = READER_GAP;
		ev->file = r->name;
		ev->offset = off;
		ev->gap_first = r->have_last ? r->last_seq + 1 : r->start_seq;
		ev->gap_last = r->pending_ev.rec.seq - 1;
		/* before the oldest segment's first seq: retention, not damage */
		ev->gap_at_start = !r->have_last && r->idx == 0 && ev->gap_last < r->hdr.first_seq;
	}
	r->last_seq = r->pending ? r->pending_ev.rec.seq : ev->rec.seq;
	r->have_last = true;
	return 1;
}

/* Following, at the end of `current`: an incomplete last line is dropped
 * from the buffer and read again from its start next time, so that if the
 * writer's recovery cuts it (a torn tail after a crash) and writes new
 * records there, they are read whole.  A file that shrank below what was
 * read was cut by recovery: reading resumes at its new end and the seqs
 * of the unacknowledged records shown before may come again. */
static void
reader_wait_current(struct reader *r)
{
	struct stat st;

	if (!r->skipping)
		r->buf_len = r->buf_pos;
	if (fstat(r->fd, &st) == 0 && (uint64_t)st.st_size < r->buf_off + r->buf_pos) {
		r->buf_off = (uint64_t)st.st_size > r->hdr_len ? (uint64_t)st.st_size : r->hdr_len;
		r->buf_len = r->buf_pos = 0;
		r->skipping = false;
		r->have_last = false;
		r->start_seq = 0;
	}
}

int
reader_next(struct reader *r, struct reader_event *ev)
{
	if (r->pending) {
		r->pending = false;
		*ev = r->pending_ev;
		return 1;
	}
	for (;;) {
		if (r->fd < 0) {
			int k;
			if (r->idx >= r->n_segs) {
				k = reader_list(r);
				if (k < 0)
					return k;
				/* nothing read yet: from the oldest, else after last_seq */
				for (r->idx = 0; r->idx < r->n_segs; r->idx++)
					if (!r->have_last || r->segs[r->idx].is_current ||
					    r->segs[r->idx].first_seq > r->last_seq)
						break;
				if (r->idx >= r->n_segs)
					return 0;
			}
			k = reader_open_file(r, ev);
			if (k < 0)
				return k;
			if (k == 3)
				continue;
			if (k == 0) {
				if (r->segs[r->idx].is_current)
					return 0; /* no current right now: rotation */
				r->idx++;
				continue;
			}
			if (k == 2) {
				r->idx++;
				return 1;
			}
		}
		while (r->buf_pos < r->buf_len) {
			char *line = r->buf + r->buf_pos;
			char *nl = memchr(line, '\n', r->buf_len - r->buf_pos);
			size_t len;
			uint64_t off = r->buf_off + r->buf_pos;
			int k;

			if (!nl)
				break;
			len = (size_t)(nl - line) + 1;
			r->buf_pos += len;
			if (r->skipping) {
				r->skipping = false;
				continue;
			}
			k = reader_line(r, line, len, off, ev);
			if (k != 0)
				return k;
		}
		int k = reader_fill(r);
		if (k == -EMSGSIZE) {
			memset(ev, 0, sizeof(*ev));
			ev->type = READER_DAMAGED;
			ev->file = r->name;
			ev->offset = r->buf_off;
			ev->reason = "line longer than 64 MiB";
			r->buf_off += r->buf_len;
			r->buf_len = r->buf_pos = 0;
			return 1;
		}
		if (k < 0)
			return k;
		if (k > 0)
			continue;
		/* end of file */
		if (r->in_current && !r->renamed) {
			if (reader_current_renamed(r)) {
				r->renamed = true; /* sealed under us: read the rest, then move on */
				continue;
			}
			if (r->follow) {
				reader_wait_current(r);
				return 0;
			}
			if (r->buf_pos == r->buf_len)
				return 0;
		}
		if (r->buf_pos < r->buf_len && !r->skipping) {
			memset(ev, 0, sizeof(*ev));
			ev->type = READER_DAMAGED;
			ev->file = r->name;
			ev->offset = r->buf_off + r->buf_pos;
			ev->in_current = r->in_current && !r->renamed;
			ev->reason = ev->in_current
					     ? "incomplete last line (a torn tail; recovery cuts it)"
					     : "incomplete last line";
			r->buf_pos = r->buf_len;
			if (r->in_current && !r->renamed)
				return 1; /* stays open: nothing after it */
			int a = reader_advance(r);
			return a < 0 ? a : 1;
		}
		if (r->in_current && !r->renamed)
			return 0;
		k = reader_advance(r);
		if (k < 0)
			return k;
	}
}

/* Reads the key (seq or time) of the first valid line starting at or after
 * off; returns 1 and sets *ret_key and *ret_line, 0 if none before end. */
static int
reader_probe(int fd, uint64_t off, uint64_t end, enum reader_key key, uint64_t *ret_key,
	     uint64_t *ret_line, bool at_line_start)
{
	char buf[64 << 10];
	size_t pos = 0;
	ssize_t n;

	while (off < end) {
		n = pread(fd, buf, sizeof(buf), (off_t)off);
		if (n <= 0)
			return n < 0 ? -errno : 0;
		pos = 0;
		if (!at_line_start) {
			char *nl = memchr(buf, '\n', (size_t)n);
			if (!nl) {
				off += (uint64_t)n;
				continue;
			}
			pos = (size_t)(nl - buf) + 1;
			at_line_start = true;
		}
		while (pos < (size_t)n) {
			char *nl = memchr(buf + pos, '\n', (size_t)n - pos);
			uint64_t seq, t;
			if (!nl)
				break;
			if (record_check(buf + pos, (size_t)(nl - buf) - pos + 1, &seq, &t, NULL) == 0) {
				*ret_key = key == READER_KEY_SEQ ? seq : t;
				*ret_line = off + pos;
				return 1;
			}
			pos = (size_t)(nl - buf) + 1;
		}
		if (pos == 0)
			return 0; /* a line longer than the probe buffer: give up here */
		off += pos;
	}
	return 0;
}

/* Positions the reader before the first record whose key >= target:
 * binary search over the segments (by each one's first record), then over
 * byte offsets inside the chosen one.  Keys must be non-decreasing; times
 * are, as long as the clock did not step back. */
static int
reader_seek(struct reader *r, enum reader_key key, uint64_t target)
{
	size_t lo = 0, hi;
	int k0;

	reader_close_file(r);
	r->have_last = false;
	r->pending = false;
	k0 = reader_list(r);
	if (k0 < 0)
		return k0;
	hi = r->n_segs;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		_cleanup_close_ int fd = openat(r->dir_fd, r->segs[mid].name,
						O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		struct stat st;
		uint64_t k = 0, line;
		if (fd < 0 || fstat(fd, &st) < 0 ||
		    reader_probe(fd, 0, (uint64_t)st.st_size, key, &k, &line, false) <= 0) {
			lo = mid; /* unreadable: search after it */
			continue;
		}
		if (k <= target)
			lo = mid;
		else
			hi = mid;
	}
	r->idx = lo;
	r->seek_offset = 0;
	if (lo >= r->n_segs)
		return 0;
	{
		_cleanup_close_ int fd = openat(r->dir_fd, r->segs[lo].name,
						O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		struct stat st;
		uint64_t a = 0, b, k, line;
		if (fd < 0 || fstat(fd, &st) < 0)
			return 0;
		b = (uint64_t)st.st_size;
		while (b - a > (64 << 10)) {
			uint64_t mid = a + (b - a) / 2;
			int p = reader_probe(fd, mid, b, key, &k, &line, false);
			if (p < 0)
				return p;
			if (p == 0 || k >= target || line >= b)
				b = mid;
			else
				a = line;
		}
		r->seek_offset = a;
		snprintf(r->seek_name, sizeof(r->seek_name), "%s", r->segs[lo].name);
	}
	return 0;
}

int
reader_seek_seq(struct reader *r, uint64_t seq)
{
	r->start_seq = seq;
	r->seeking_time = false;
	return reader_seek(r, READER_KEY_SEQ, seq);
}

int
reader_seek_time(struct reader *r, uint64_t time_us)
{
	r->start_seq = 0;
	r->start_time = time_us;
	r->seeking_time = true;
	return reader_seek(r, READER_KEY_TIME, time_us);
}

int
reader_last_seq(struct reader *r, uint64_t *ret)
{
	_cleanup_free_ struct reader_seg *segs = NULL;
	size_t n_segs;
	int k = reader_list_into(r->dir_fd, &segs, &n_segs);

	if (k < 0)
		return k;
	*ret = 0;
	for (size_t i = n_segs; i-- > 0;) {
		_cleanup_close_ int fd = openat(r->dir_fd, segs[i].name,
						O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		_cleanup_free_ char *buf = NULL;
		struct recover_result res;
		struct stat st;
		uint64_t window = 1 << 20;

		if (fd < 0 || fstat(fd, &st) < 0)
			continue;
		for (;;) {
			uint64_t size = (uint64_t)st.st_size;
			uint64_t start = size > window ? size - window : 0;
			free(buf);
			buf = malloc(size - start + 1);
			if (!buf)
				return -ENOMEM;
			ssize_t n = pread(fd, buf, size - start, (off_t)start);
			if (n < 0)
				return -errno;
			/* from 0, skipping the first line skips the header */
			recover_scan(buf, (size_t)n, start, false, 0, &res);
			if (res.have_last) {
				*ret = res.last_seq;
				return 0;
			}
			if (start == 0)
				break;
			window *= 4;
		}
	}
	return 0;
}

bool
reader_writer_active(const char *dir)
{
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *path = NULL, *line = NULL;
	size_t cap = 0;
	struct stat st;

	if (asprintf(&path, "%s/" SEGDIR_LOCK, dir) < 0)
		return false;
	if (stat(path, &st) < 0)
		return false;
	f = fopen("/proc/locks", "re");
	if (!f)
		return false;
	/* "1: FLOCK  ADVISORY  WRITE 1234 fe:00:10952864 0 EOF"; waiters have "->" */
	while (getline(&line, &cap, f) > 0) {
		char type[16], kind[16], mode[16], dev[32];
		unsigned long long ino;
		long pid;
		if (strstr(line, "->"))
			continue;
		if (sscanf(line, "%*s %15s %15s %15s %ld %31[0-9a-f:]%*c", type, kind, mode, &pid,
			   dev) != 5)
			continue;
		char *colon = strrchr(dev, ':');
		if (!colon || strcmp(type, "FLOCK") != 0)
			continue;
		ino = strtoull(colon + 1, NULL, 10);
		if (ino == (unsigned long long)st.st_ino)
			return true;
	}
	return false;
}
