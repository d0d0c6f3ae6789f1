/* seglog verify: checks a data directory end to end and says where it is
 * wrong.  Every line's checksum and syntax (record_check: no unescaping,
 * the fast path), every header (format, name = first seq, the directory's
 * id), and seq continuity inside and across segments.  Segments are
 * checked in parallel, one worker thread per CPU, reading 4 MiB blocks;
 * the results are then reported in seq order, "FILE:OFFSET: problem",
 * followed by a summary.  Read-only; works on a live or a copied
 * directory. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "cleanup.h"
#include "reader.h"
#include "record.h"
#include "segdir.h"

enum {
	VERIFY_BLOCK = 4 << 20,
	VERIFY_LINE_MAX = 64 << 20,
	VERIFY_PROBLEMS_PER_SEGMENT = 1000,
	VERIFY_THREADS_MAX = 8,
	VERIFY_PROGRESS_MIN_BYTES = 256 << 20,
};

struct verify_problem {
	uint64_t offset;
	char *text;
};

/* One segment and, once a worker is done with it, what it found. */
struct verify_seg {
	char name[SEGDIR_NAME_LEN + 1];
	bool is_current;
	uint64_t name_seq;
	uint64_t size; /* at listing time, for the progress line */
	int fd;	       /* current: opened before the listing */

	bool missing;  /* vanished before it was read (retention) */
	bool have_header;
	struct segment_header hdr;
	uint64_t bytes, records;
	bool have_seq;
	uint64_t first_seq, last_seq;
	uint64_t trailing_damaged; /* damaged lines after the last valid record */
	bool torn;		   /* an incomplete last line ... */
	uint64_t torn_offset;	   /* ... starting here */
	struct verify_problem *p;
	size_t n_p, cap_p, dropped;
};

struct verify {
	const char *dir;
	int dir_fd;
	bool full;
	struct verify_seg *segs;
	size_t n_segs;
	uint64_t total_bytes;
	size_t next;	   /* next segment to take (atomic) */
	uint64_t done_bytes; /* atomic */
	size_t done_segs;    /* atomic */
	unsigned problems;
	unsigned notes;
};

static void
verify_add(struct verify_seg *s, uint64_t offset, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Records a problem of segment s at offset (worker side, no output). */
static void
verify_add(struct verify_seg *s, uint64_t offset, const char *fmt, ...)
{
	va_list ap;
	char *text;

	if (s->n_p >= VERIFY_PROBLEMS_PER_SEGMENT) {
		s->dropped++;
		return;
	}
	if (s->n_p == s->cap_p) {
		size_t nc = s->cap_p ? 2 * s->cap_p : 16;
		struct verify_problem *np = realloc(s->p, nc * sizeof(*np));
		if (!np) {
			s->dropped++;
			return;
		}
		s->p = np;
		s->cap_p = nc;
	}
	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	va_end(ap);
	if (!text) {
		s->dropped++;
		return;
	}
	s->p[s->n_p++] = (struct verify_problem){ offset, text };
}

/* The state of one segment's line walk. */
struct verify_walk {
	struct verify_seg *s;
	bool full;
	char *scratch;
	size_t scratch_cap;
	bool header_seen;
	uint64_t expect;	 /* next seq (0: unknown) */
	uint64_t run, run_offset; /* consecutive damaged lines */
	const char *run_reason;
};

/* Ends a run of damaged lines with one problem for all of them; if a
 * valid record follows, the seqs the run presumably held are named. */
static void
verify_end_run(struct verify_walk *w, uint64_t next_seq)
{
	uint64_t first = w->expect, last = next_seq ? next_seq - 1 : 0;
	char seqs[64] = "";

	if (!w->run)
		return;
	if (first && next_seq && last >= first && last - first + 1 == w->run) {
		if (first == last)
			snprintf(seqs, sizeof(seqs), " (seq %" PRIu64 ")", first);
		else
			snprintf(seqs, sizeof(seqs), " (seqs %" PRIu64 "..%" PRIu64 ")", first, last);
	}
	if (w->run == 1)
		verify_add(w->s, w->run_offset, "damaged line%s: %s", seqs, w->run_reason);
	else
		verify_add(w->s, w->run_offset, "%" PRIu64 " damaged lines in a row%s; the first: %s",
			   w->run, seqs, w->run_reason);
}

static void
verify_line(struct verify_walk *w, const char *line, size_t len, uint64_t off)
{
	struct verify_seg *s = w->s;
	const char *reason = NULL;
	uint64_t seq, t;
	int k;

	if (!w->header_seen) {
		w->header_seen = true;
		if (record_header_decode(line, len, &s->hdr, &reason) == 0) {
			s->have_header = true;
			w->expect = s->hdr.first_seq;
			if (!s->is_current && s->hdr.first_seq != s->name_seq)
				verify_add(s, 0, "the name says first seq %" PRIu64
					   " but the header says %" PRIu64, s->name_seq,
					   s->hdr.first_seq);
			return;
		}
		verify_add(s, 0, "bad segment header: %s", reason ? reason : "unreadable");
		if (!s->is_current)
			w->expect = s->name_seq;
		if (record_is_header(line, len))
			return;
	}
	if (w->full) {
		struct record r;
		if (len > w->scratch_cap) {
			char *ns = realloc(w->scratch, len);
			if (!ns) {
				verify_add(s, off, "out of memory");
				return;
			}
			w->scratch = ns;
			w->scratch_cap = len;
		}
		k = record_decode(line, len, w->scratch, &r, &reason);
		seq = r.seq;
	} else {
		k = record_check(line, len, &seq, &t, &reason);
	}
	if (k < 0) {
		if (!w->run++) {
			w->run_offset = off;
			w->run_reason = reason ? reason : "unreadable";
		}
		return;
	}
	verify_end_run(w, seq);
	if (w->expect && seq > w->expect && seq - w->expect > w->run)
		verify_add(s, off, "seqs %" PRIu64 "..%" PRIu64 " missing before this record",
			   w->expect, seq - 1);
	else if (w->expect && seq < w->expect)
		verify_add(s, off, "seq %" PRIu64 " out of order (expected %" PRIu64 ")", seq,
			   w->expect);
	w->run = 0;
	if (w->expect && seq < w->expect)
		return;
	if (!s->have_seq)
		s->first_seq = seq;
	s->have_seq = true;
	s->last_seq = seq;
	s->records++;
	w->expect = seq + 1;
}

/* Checks the complete lines in [buf, buf + n), which starts a line at
 * file offset base; returns the bytes they span. */
static size_t
verify_lines(struct verify_walk *w, const char *buf, size_t n, uint64_t base)
{
	size_t pos = 0;

	for (;;) {
		const char *nl = memchr(buf + pos, '\n', n - pos);
		if (!nl)
			return pos;
		size_t len = (size_t)(nl - (buf + pos)) + 1;
		verify_line(w, buf + pos, len, base + pos);
		pos += len;
	}
}

/* A sealed segment never changes or shrinks, so it is mapped (no copy);
 * walked in blocks for the progress line.  Returns where the complete
 * lines end, or -1 if the file cannot be mapped. */
static int64_t
verify_mapped(struct verify *v, struct verify_walk *w, int fd, uint64_t size)
{
	const char *map;
	uint64_t off = 0;

	if (size == 0)
		return 0;
	map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		return -1;
	/* advice values are not flags: one call each */
	(void)madvise((void *)map, size, MADV_SEQUENTIAL);
	(void)madvise((void *)map, size, MADV_WILLNEED);
	while (off < size) {
		uint64_t end = size - off > VERIFY_BLOCK ? off + VERIFY_BLOCK : size;
		size_t c;
		while ((c = verify_lines(w, map + off, end - off, off)) == 0 && end < size)
			end = size - end > VERIFY_BLOCK ? end + VERIFY_BLOCK : size;
		if (c == 0)
			break;
		off += c;
		__atomic_fetch_add(&v->done_bytes, (uint64_t)c, __ATOMIC_RELAXED);
	}
	munmap((void *)map, size);
	w->s->bytes = size;
	return (int64_t)off;
}

/* `current` may grow or (by recovery) shrink while it is read: read in
 * blocks to its end, never mapped.  Returns where the complete lines end. */
static uint64_t
verify_read(struct verify *v, struct verify_walk *w, int fd, char **buf, size_t *cap)
{
	size_t have = 0;
	uint64_t base = 0; /* file offset of (*buf)[0] */

	for (;;) {
		ssize_t n = pread(fd, *buf + have, *cap - have, (off_t)(base + have));
		size_t pos;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			verify_add(w->s, base + have, "read error: %s", strerror(errno));
			break;
		}
		if (n == 0)
			break;
		have += (size_t)n;
		w->s->bytes += (uint64_t)n;
		__atomic_fetch_add(&v->done_bytes, (uint64_t)n, __ATOMIC_RELAXED);
		pos = verify_lines(w, *buf, have, base);
		if (pos == 0 && have == *cap) { /* one line fills the buffer */
			char *nb = *cap < VERIFY_LINE_MAX ? realloc(*buf, *cap * 2) : NULL;
			if (!nb) {
				verify_add(w->s, base, "line longer than %d MiB; the rest of the "
					   "file is not checked", VERIFY_LINE_MAX >> 20);
				return base;
			}
			*buf = nb;
			*cap *= 2;
			continue;
		}
		memmove(*buf, *buf + pos, have - pos);
		have -= pos;
		base += pos;
	}
	return base;
}

/* Walks one segment's lines. */
static void
verify_segment(struct verify *v, struct verify_seg *s, char **buf, size_t *cap)
{
	_cleanup_close_ int fd = s->fd >= 0 ? TAKE_FD(s->fd)
					     : openat(v->dir_fd, s->name,
						      O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct verify_walk w = { .s = s, .full = v->full };
	struct stat st;
	int64_t end = -1;

	if (fd < 0) {
		if (errno == ENOENT)
			s->missing = true;
		else
			verify_add(s, 0, "cannot open: %s", strerror(errno));
		return;
	}
	if (fstat(fd, &st) < 0) {
		verify_add(s, 0, "cannot stat: %s", strerror(errno));
		return;
	}
	if (!s->is_current)
		end = verify_mapped(v, &w, fd, (uint64_t)st.st_size);
	if (end < 0) {
		(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
		end = (int64_t)verify_read(v, &w, fd, buf, cap);
	}
	if ((uint64_t)end < s->bytes) {
		s->torn = true;
		s->torn_offset = (uint64_t)end;
	}
	s->trailing_damaged = w.run;
	verify_end_run(&w, 0);
	if (!w.header_seen)
		verify_add(s, 0, "empty file: no segment header");
	free(w.scratch);
}

static void *
verify_worker(void *arg)
{
	struct verify *v = arg;
	size_t cap = VERIFY_BLOCK;
	_cleanup_free_ char *buf = malloc(cap);

	if (!buf)
		return NULL;
	for (;;) {
		size_t i = __atomic_fetch_add(&v->next, 1, __ATOMIC_RELAXED);
		if (i >= v->n_segs)
			break;
		verify_segment(v, &v->segs[i], &buf, &cap);
		__atomic_fetch_add(&v->done_segs, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

/* Lists the segments.  `current` is opened first: if a rotation seals it
 * before the listing, the listing holds it under its new name (same
 * inode) and that entry wins; if after, the open descriptor still reads
 * it whole.  Either way each record is checked once. */
static int
verify_list(struct verify *v)
{
	_cleanup_free_ struct segdir_entry *e = NULL;
	_cleanup_close_ int cur = openat(v->dir_fd, SEGDIR_CURRENT, O_RDONLY | O_NOFOLLOW |
					 O_CLOEXEC);
	struct stat cur_st = { 0 };
	size_t n;
	int r;

	if (cur >= 0 && fstat(cur, &cur_st) < 0)
		return -errno;
	r = segdir_list(v->dir_fd, &e, &n); /* sorted by seq */
	if (r < 0)
		return r;
	v->segs = calloc(n + 1, sizeof(*v->segs));
	if (!v->segs)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct verify_seg *s = &v->segs[v->n_segs++];
		*s = (struct verify_seg){ .fd = -EBADF, .name_seq = e[i].first_seq,
					  .size = e[i].size };
		segdir_name(e[i].first_seq, s->name);
		v->total_bytes += s->size;
		if (cur >= 0 && e[i].ino == (uint64_t)cur_st.st_ino)
			cur = safe_close(cur); /* sealed since we opened it: read by name */
	}
	if (cur >= 0) { /* current sorts last */
		struct verify_seg *s = &v->segs[v->n_segs++];
		*s = (struct verify_seg){ .is_current = true, .fd = TAKE_FD(cur),
					  .size = (uint64_t)cur_st.st_size };
		snprintf(s->name, sizeof(s->name), SEGDIR_CURRENT);
		v->total_bytes += s->size;
	}
	return 0;
}

static void
verify_report(struct verify *v, const char *name, uint64_t offset, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
verify_report(struct verify *v, const char *name, uint64_t offset, const char *fmt, ...)
{
	va_list ap;

	printf("%s/%s:%" PRIu64 ": ", v->dir, name, offset);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	v->problems++;
}

/* The directory's id: DIR/dir-id, or without it the id most headers
 * carry.  Returns false if there is none to compare with. */
static bool
verify_dir_id(struct verify *v, uint8_t id[RECORD_DIR_ID_LEN])
{
	_cleanup_close_ int fd = openat(v->dir_fd, SEGDIR_DIR_ID, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	char buf[2 * RECORD_DIR_ID_LEN + 2];
	size_t best = 0;
	ssize_t n;

	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf));
		if (n >= 2 * RECORD_DIR_ID_LEN &&
		    segdir_id_from_hex(buf, 2 * RECORD_DIR_ID_LEN, id) == 0 &&
		    (n == 2 * RECORD_DIR_ID_LEN || buf[2 * RECORD_DIR_ID_LEN] == '\n'))
			return true;
		verify_report(v, SEGDIR_DIR_ID, 0, "not a directory id (32 hex digits)");
	} else {
		printf("note: %s/" SEGDIR_DIR_ID " is missing; checking headers against the id "
		       "most of them carry\n", v->dir);
		v->notes++;
	}
	for (size_t i = 0; i < v->n_segs; i++) {
		size_t votes = 0;
		if (!v->segs[i].have_header)
			continue;
		for (size_t j = 0; j < v->n_segs; j++)
			votes += v->segs[j].have_header &&
				 memcmp(v->segs[i].hdr.dir_id, v->segs[j].hdr.dir_id,
					RECORD_DIR_ID_LEN) == 0;
		if (votes > best) {
			best = votes;
			memcpy(id, v->segs[i].hdr.dir_id, RECORD_DIR_ID_LEN);
		}
		if (best > v->n_segs / 2)
			break;
	}
	return best > 0;
}

/* Seq continuity from the previous segment to s, and where the history
 * starts. */
static void
verify_boundary(struct verify *v, const struct verify_seg *prev, uint64_t prev_end,
		const struct verify_seg *s, uint64_t start)
{
	if (!prev) {
		if (start > 1) {
			printf("note: seqs 1..%" PRIu64 " precede the oldest segment %s: removed by "
			       "retention, not damage\n", start - 1, s->name);
			v->notes++;
		}
		return;
	}
	/* damaged or torn lines at the end of prev presumably held the first ones */
	if (start > prev_end + 1 && start - prev_end - 1 > prev->trailing_damaged + prev->torn)
		verify_report(v, s->name, 0,
			      "%s %" PRIu64 "..%" PRIu64 " missing: no segment holds them "
			      "(%s ends at seq %" PRIu64 "; a segment deleted or lost?)",
			      start - prev_end - 1 == 1 ? "seq" : "seqs", prev_end + 1, start - 1,
			      prev->name, prev_end);
	else if (start <= prev_end)
		verify_report(v, s->name, 0,
			      "starts at seq %" PRIu64 " but %s already holds seqs up to %" PRIu64,
			      start, prev->name, prev_end);
}

/* Reports every segment's findings in seq order and the summary. */
static void
verify_results(struct verify *v, double secs)
{
	const struct verify_seg *prev = NULL;
	uint8_t id[RECORD_DIR_ID_LEN];
	char want[2 * RECORD_DIR_ID_LEN + 1], got[2 * RECORD_DIR_ID_LEN + 1];
	bool have_id = verify_dir_id(v, id);
	bool any = false;
	uint64_t prev_end = 0, records = 0, bytes = 0, first = 0, last = 0;
	int writer = -1;

	segdir_id_to_hex(id, want);
	for (size_t i = 0; i < v->n_segs; i++) {
		struct verify_seg *s = &v->segs[i];
		uint64_t start = s->have_header ? s->hdr.first_seq : s->have_seq ? s->first_seq : 0;
		if (s->missing) {
			printf("note: %s/%s vanished while being verified (retention)\n", v->dir,
			       s->name);
			v->notes++;
			continue;
		}
		if (s->have_header && have_id && memcmp(s->hdr.dir_id, id, RECORD_DIR_ID_LEN)) {
			segdir_id_to_hex(s->hdr.dir_id, got);
			verify_report(v, s->name, 0, "the header names data directory %s, not this "
				      "one (%s)", got, want);
		}
		if (start)
			verify_boundary(v, prev, prev_end, s, start);
		for (size_t j = 0; j < s->n_p; j++)
			verify_report(v, s->name, s->p[j].offset, "%s", s->p[j].text);
		if (s->dropped) {
			printf("%s/%s: %zu more problems not shown\n", v->dir, s->name, s->dropped);
			v->problems += (unsigned)s->dropped;
		}
		if (s->torn && s->is_current && writer < 0)
			writer = reader_writer_active(v->dir);
		if (s->torn && s->is_current && writer) {
			printf("note: %s/%s: the last line (at offset %" PRIu64 ") is being written "
			       "(a writer holds the lock)\n", v->dir, s->name, s->torn_offset);
			v->notes++;
		} else if (s->torn && s->is_current) {
			verify_report(v, s->name, s->torn_offset, "incomplete last line (a torn tail "
				      "after a crash; seglogd's recovery moves it to quarantine/ when "
				      "it starts)");
		} else if (s->torn) {
			verify_report(v, s->name, s->torn_offset, "incomplete last line (presumably "
				      "seq %" PRIu64 ")", s->have_seq ? s->last_seq + 1 + s->trailing_damaged
								: start);
		}
		if (start) {
			prev = s;
			prev_end = s->have_seq ? s->last_seq : start - 1;
		}
		records += s->records;
		bytes += s->bytes;
		if (s->have_seq) {
			first = any ? first : s->first_seq;
			last = s->last_seq;
			any = true;
		}
	}
	printf("%s: %zu segment%s, %" PRIu64 " records, %" PRIu64 " bytes, ", v->dir, v->n_segs,
	       v->n_segs == 1 ? "" : "s", records, bytes);
	if (any)
		printf("seq %" PRIu64 "..%" PRIu64, first, last);
	else
		printf("no seqs");
	printf(", %u problem%s (%.2f s, %.2f GB/s)\n", v->problems, v->problems == 1 ? "" : "s",
	       secs, secs > 0 ? (double)bytes / secs / 1e9 : 0.0);
}

static void
verify_free(struct verify *v)
{
	for (size_t i = 0; i < v->n_segs; i++) {
		for (size_t j = 0; j < v->segs[i].n_p; j++)
			free(v->segs[i].p[j].text);
		free(v->segs[i].p);
		safe_close(v->segs[i].fd);
	}
	free(v->segs);
	safe_close(v->dir_fd);
}

static double
verify_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs the workers; the calling thread draws the progress line. */
static void
verify_run(struct verify *v, unsigned jobs, bool progress)
{
	pthread_t tid[VERIFY_THREADS_MAX];
	unsigned started = 0;

	for (unsigned i = 0; i < jobs; i++)
		if (pthread_create(&tid[started], NULL, verify_worker, v) == 0)
			started++;
	if (!started)
		verify_worker(v);
	while (progress &&
	       __atomic_load_n(&v->done_segs, __ATOMIC_ACQUIRE) < v->n_segs) {
		uint64_t done = __atomic_load_n(&v->done_bytes, __ATOMIC_RELAXED);
		fprintf(stderr, "\rverify: %" PRIu64 " of %" PRIu64 " MiB (%u%%)", done >> 20,
			v->total_bytes >> 20,
			(unsigned)(v->total_bytes ? 100 * done / v->total_bytes : 100) % 101);
		nanosleep(&(struct timespec){ 0, 200000000 }, NULL);
	}
	if (progress)
		fprintf(stderr, "\r\033[K");
	for (unsigned i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
}

static void
verify_usage(FILE *f)
{
	fprintf(f, "Usage: seglog verify [--full] [-j N]\n"
		   "Checks every line, header, name and seq of the data directory; reports\n"
		   "each problem as FILE:OFFSET: and a summary.  Exit 0 clean, 1 problems.\n"
		   "\n"
		   "      --full      also decode every tag and message (slower)\n"
		   "  -j, --jobs N    worker threads (default: one per CPU, at most %d)\n"
		   "  -h, --help      this text\n",
		   VERIFY_THREADS_MAX);
}

int
cmd_verify(const struct client_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "full", no_argument, NULL, 'F' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct verify v = { .dir = o->dir };
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned jobs = cpus > 0 ? (unsigned)cpus : 1;
	double t0;
	int c, k;

	while ((c = getopt_long(argc, argv, "j:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'F':
			v.full = true;
			break;
		case 'j':
			jobs = (unsigned)atoi(optarg);
			if (jobs < 1) {
				fprintf(stderr, "seglog verify: invalid value '%s' for -j\n", optarg);
				return CLIENT_EXIT_USAGE;
			}
			break;
		case 'h':
			verify_usage(stdout);
			return CLIENT_EXIT_OK;
		default:
			verify_usage(stderr);
			return CLIENT_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "seglog verify: unexpected argument '%s'\n", argv[optind]);
		return CLIENT_EXIT_USAGE;
	}
	t0 = verify_now();
	v.dir_fd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (v.dir_fd < 0) {
		fprintf(stderr, "seglog verify: cannot open data directory %s: %m\n", o->dir);
		return CLIENT_EXIT_FAILURE;
	}
	k = verify_list(&v);
	if (k < 0) {
		fprintf(stderr, "seglog verify: cannot list %s: %s\n", o->dir, strerror(-k));
		verify_free(&v);
		return CLIENT_EXIT_FAILURE;
	}
	if (jobs > VERIFY_THREADS_MAX)
		jobs = VERIFY_THREADS_MAX;
	if (jobs > v.n_segs)
		jobs = v.n_segs ? (unsigned)v.n_segs : 1;
	verify_run(&v, jobs, isatty(STDERR_FILENO) &&
				     v.total_bytes >= VERIFY_PROGRESS_MIN_BYTES);
	verify_results(&v, verify_now() - t0);
	if (v.n_segs == 0 && faccessat(v.dir_fd, SEGDIR_DIR_ID, F_OK, 0) < 0) {
		printf("%s: no segments and no " SEGDIR_DIR_ID ": not a seglog data directory\n",
		       o->dir);
		v.problems++;
	}
	verify_free(&v);
	fflush(stdout);
	return v.problems ? CLIENT_EXIT_FAILURE : CLIENT_EXIT_OK;
}
