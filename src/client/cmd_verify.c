/* seglog verify: checks a data directory end to end and says where it is
 * wrong.  Every line's checksum and syntax (record_check: no unescaping,
 * the fast path), every header (format, name = first seq, the directory's
 * id by segfile.c's one dir-id rule), seq continuity inside and across
 * segments, and entries named like segments that are not regular files.
 * Segments, and byte ranges of big ones (cmd_verify_walk.c), are checked
 * in parallel, one worker thread per CPU, read with pread(2) in 1 MiB
 * blocks through segfile.c's line iterator (never mapped: a file cut or
 * unreadable under us is a reported problem, not a SIGBUS); the results
 * are then reported in seq order, "FILE:OFFSET: problem", followed by a
 * summary.  Read-only; works on a live or a
 * copied directory.
 *
 * What it proves is accidental damage (docs/format.md §6): the checksum
 * is not a MAC, so a line rewritten with its checksum recomputed passes. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "cleanup.h"
#include "now.h"
#include "parse.h"
#include "record.h"
#include "segdir.h"
#include "segfile.h"
#include "verify_internal.h"

/* Lists the segments (segfile_list: entries named like segments that are
 * not regular files too, to be reported).  `current` is opened first: if
 * a rotation seals it before the listing, the listing holds it under its
 * new name (same inode) and that entry wins; if after, the open
 * descriptor still reads it whole.  Either way each record is checked
 * once. */
static int
verify_list(struct verify *v)
{
	_cleanup_free_ struct segfile_entry *e = NULL;
	_cleanup_segfile_ struct segfile cur = SEGFILE_INIT;
	bool have_current = false, current_regular = true;
	size_t n;
	int r;

	r = segfile_open(v->dir_fd, SEGDIR_CURRENT, O_RDONLY, &cur);
	if (r == -EISDIR)
		current_regular = false;
	else if (r < 0 && r != -ENOENT)
		return r;
	have_current = r == 0 || r == -EISDIR;
	r = segfile_list(v->dir_fd, &e, &n); /* sealed by seq, then current */
	if (r < 0)
		return r;
	v->segs = calloc(n + 1, sizeof(*v->segs));
	if (!v->segs)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct verify_seg *s;
		if (e[i].is_current)
			continue;
		s = &v->segs[v->n_segs++];
		*s = (struct verify_seg){ .file = SEGFILE_INIT, .name_seq = e[i].first_seq,
					  .size = e[i].size, .regular = e[i].regular };
		segdir_name(e[i].first_seq, s->name);
		v->total_bytes += s->size;
		v->irregular += !e[i].regular;
		if (cur.fd >= 0 && e[i].ino == cur.ino)
			segfile_close(&cur); /* sealed since we opened it: read by name */
	}
	if (have_current && (cur.fd >= 0 || !current_regular)) { /* current sorts last */
		struct verify_seg *s = &v->segs[v->n_segs++];
		*s = (struct verify_seg){ .is_current = true, .file = cur, .size = cur.size,
					  .regular = current_regular };
		cur = (struct segfile)SEGFILE_INIT;
		snprintf(s->name, sizeof(s->name), SEGDIR_CURRENT);
		v->total_bytes += s->size;
		v->irregular += !current_regular;
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

/* The directory's id: DIR/dir-id (segfile.c's rule, the daemon's), or
 * without a valid one the id most headers carry.  Returns false if there
 * is none to compare with. */
static bool
verify_dir_id(struct verify *v, uint8_t id[RECORD_DIR_ID_LEN])
{
	const char *reason = NULL;
	size_t best = 0;
	int r = segfile_read_dir_id(v->dir_fd, id, &reason);

	if (r == 0)
		return true;
	if (r == -ENOENT) {
		printf("note: %s/" SEGDIR_DIR_ID " is missing; checking headers against the id "
		       "most of them carry\n", v->dir);
		v->notes++;
	} else if (reason) {
		verify_report(v, SEGDIR_DIR_ID, 0, "%s (seglogd refuses to start with it)", reason);
	} else {
		verify_report(v, SEGDIR_DIR_ID, 0, "cannot be read: %s", strerror(-r));
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

/* What the summary counts over all segments. */
struct verify_totals {
	uint64_t records, bytes;
	bool any; /* a seq seen: first .. last */
	uint64_t first, last;
};

/* A header naming another data directory than id (hex: want). */
static void
verify_report_dir_id(struct verify *v, const struct verify_seg *s, bool have_id,
		     const uint8_t id[RECORD_DIR_ID_LEN], const char *want)
{
	char got[2 * RECORD_DIR_ID_LEN + 1];

	if (s->have_header && have_id && memcmp(s->hdr.dir_id, id, RECORD_DIR_ID_LEN)) {
		segdir_id_to_hex(s->hdr.dir_id, got);
		verify_report(v, s->name, 0, "the header names data directory %s, not this "
			      "one (%s)", got, want);
	}
}

/* The problems a worker recorded for s, and how many it did not keep. */
static void
verify_report_problems(struct verify *v, const struct verify_seg *s)
{
	for (size_t j = 0; j < s->pl.n; j++)
		verify_report(v, s->name, s->pl.p[j].offset, "%s", s->pl.p[j].text);
	if (s->pl.dropped) {
		printf("%s/%s: %zu more problems not shown\n", v->dir, s->name, s->pl.dropped);
		v->problems += (unsigned)s->pl.dropped;
	}
}

/* An incomplete last line of s: in current, being written (a writer holds
 * the lock: *writer, asked once, -1 until then), a torn header, or a torn
 * tail; in a sealed segment, damage. */
static void
verify_report_torn(struct verify *v, const struct verify_seg *s, uint64_t start, int *writer)
{
	if (!s->torn)
		return;
	if (s->is_current && *writer < 0)
		*writer = segfile_writer_active(v->dir_fd);
	if (s->is_current && *writer) {
		printf("note: %s/%s: the last line (at offset %" PRIu64 ") is being written "
		       "(a writer holds the lock)\n", v->dir, s->name, s->torn_offset);
		v->notes++;
	} else if (s->is_current && s->torn_offset == 0) {
		verify_report(v, s->name, 0, "incomplete header line (seglogd refuses to "
			      "start on it: move the file aside as its message says)");
	} else if (s->is_current) {
		verify_report(v, s->name, s->torn_offset, "incomplete last line (a torn tail "
			      "after a crash; seglogd's recovery moves it to quarantine/ when "
			      "it starts)");
	} else {
		verify_report(v, s->name, s->torn_offset, "incomplete last line (presumably "
			      "seq %" PRIu64 ")", s->t.have_seq ? s->t.last_seq + 1 + s->trailing_damaged
							: start);
	}
}

static void
verify_count(struct verify_totals *t, const struct verify_seg *s)
{
	t->records += s->t.records;
	t->bytes += s->bytes;
	if (s->t.have_seq) {
		t->first = t->any ? t->first : s->t.first_seq;
		t->last = s->t.last_seq;
		t->any = true;
	}
}

static void
verify_summary(const struct verify *v, const struct verify_totals *t, double secs)
{
	printf("%s: %zu segment%s, %" PRIu64 " records, %" PRIu64 " bytes, ", v->dir,
	       v->n_segs - v->irregular, v->n_segs - v->irregular == 1 ? "" : "s", t->records,
	       t->bytes);
	if (t->any)
		printf("seq %" PRIu64 "..%" PRIu64, t->first, t->last);
	else
		printf("no seqs");
	printf(", %u problem%s (%.2f s, %.2f GB/s)\n", v->problems, v->problems == 1 ? "" : "s",
	       secs, secs > 0 ? (double)t->bytes / secs / 1e9 : 0.0);
}

/* Reports every segment's findings in seq order and the summary. */
static void
verify_results(struct verify *v, double secs)
{
	const struct verify_seg *prev = NULL;
	uint8_t id[RECORD_DIR_ID_LEN];
	char want[2 * RECORD_DIR_ID_LEN + 1];
	bool have_id = verify_dir_id(v, id);
	struct verify_totals t = { 0 };
	uint64_t prev_end = 0;
	int writer = -1;

	segdir_id_to_hex(id, want);
	for (size_t i = 0; i < v->n_segs; i++) {
		struct verify_seg *s = &v->segs[i];
		uint64_t start = s->have_header ? s->hdr.first_seq : s->t.have_seq ? s->t.first_seq : 0;
		if (s->missing) {
			printf("note: %s/%s vanished while being verified (retention)\n", v->dir,
			       s->name);
			v->notes++;
			continue;
		}
		verify_report_dir_id(v, s, have_id, id, want);
		if (start)
			verify_boundary(v, prev, prev_end, s, start);
		verify_report_problems(v, s);
		verify_report_torn(v, s, start, &writer);
		if (start) {
			prev = s;
			prev_end = s->t.have_seq ? s->t.last_seq : start - 1;
		}
		verify_count(&t, s);
	}
	verify_summary(v, &t, secs);
}

static void
verify_free(struct verify *v)
{
	for (size_t i = 0; i < v->n_segs; i++) {
		verify_problems_free(&v->segs[i].pl);
		segfile_close(&v->segs[i].file);
	}
	for (size_t i = 0; i < v->n_ranges; i++)
		verify_problems_free(&v->ranges[i].pl);
	free(v->ranges);
	free(v->segs);
	safe_close(v->dir_fd);
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
	       __atomic_load_n(&v->done_ranges, __ATOMIC_ACQUIRE) < v->n_ranges) {
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

/* The options into v and *jobs: 0 to go on, 1 after --help, -1 for a
 * usage error (said). */
static int
verify_parse(struct verify *v, unsigned *jobs, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "full", no_argument, NULL, 'F' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	uint64_t n;
	int c;

	while ((c = getopt_long(argc, argv, "j:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'F':
			v->full = true;
			break;
		case 'j':
			if (parse_u64(optarg, &n) < 0 || n < 1) {
				fprintf(stderr, "seglog verify: invalid value '%s' for -j/--jobs\n",
					optarg);
				return -1;
			}
			*jobs = n > VERIFY_THREADS_MAX ? VERIFY_THREADS_MAX : (unsigned)n;
			break;
		case 'h':
			verify_usage(stdout);
			return 1;
		default:
			verify_usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "seglog verify: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	return 0;
}

int
cmd_verify(const struct client_opts *o, int argc, char **argv)
{
	struct verify v = { .dir = o->dir, .lock = PTHREAD_MUTEX_INITIALIZER };
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned jobs = cpus > 0 ? (unsigned)cpus : 1;
	uint64_t t0;
	int k;

	k = verify_parse(&v, &jobs, argc, argv);
	if (k != 0)
		return k > 0 ? CLIENT_EXIT_OK : CLIENT_EXIT_USAGE;
	t0 = now_us(CLOCK_MONOTONIC);
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
	k = verify_plan(&v, jobs);
	if (k < 0) {
		fprintf(stderr, "seglog verify: %s\n", strerror(-k));
		verify_free(&v);
		return CLIENT_EXIT_FAILURE;
	}
	if (getenv("SEGLOG_VERIFY_RANGE_BYTES")) /* tests: say how the segments were cut */
		for (size_t i = 0; i < v.n_segs; i++)
			if (v.segs[i].n_ranges > 1)
				fprintf(stderr, "seglog verify: %s: %zu ranges\n", v.segs[i].name,
					v.segs[i].n_ranges);
	if (jobs > v.n_ranges)
		jobs = v.n_ranges ? (unsigned)v.n_ranges : 1;
	verify_run(&v, jobs, isatty(STDERR_FILENO) &&
				     v.total_bytes >= VERIFY_PROGRESS_MIN_BYTES);
	verify_results(&v, (double)(now_us(CLOCK_MONOTONIC) - t0) / 1e6);
	if (v.n_segs == 0 && faccessat(v.dir_fd, SEGDIR_DIR_ID, F_OK, 0) < 0) {
		printf("%s: no segments and no " SEGDIR_DIR_ID ": not a seglog data directory\n",
		       o->dir);
		v.problems++;
	}
	verify_free(&v);
	fflush(stdout);
	return v.problems ? CLIENT_EXIT_FAILURE : CLIENT_EXIT_OK;
}
