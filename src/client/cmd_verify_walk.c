/* seglog verify's workers: the line walk over a segment, cut into byte
 * ranges when it is big, so that one big segment (a GiB in `current`) is
 * checked on every CPU and not on one.
 *
 * A range [start, end) holds the lines that start in it: its walk begins
 * at the first line boundary at or after start (the iterator skips from
 * start - 1 up to its LF) and finishes the line that crosses end.  The
 * first range walks with the segment's own state (s->w), exactly as one
 * walk of the whole file would.  A later range cannot know what the lines
 * before it left (the next seq, a run of damaged lines going on), so it
 * defers: it keeps the damaged lines before its first record and that
 * record unchecked, and checks the rest against that record.  When the
 * last range of a segment is done, its worker merges them in order into
 * s->w: the deferred lines and record are checked then, with the state
 * the previous range ended in, and the range's own problems follow.  Only
 * a first record older than the seq expected (out of order across the
 * boundary) makes the range's own checks wrong; that range is walked
 * again with the segment's state.  The report is therefore the one walk's
 * byte for byte, whatever -j and the range size. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "parse.h"
#include "record.h"
#include "segfile.h"
#include "verify_internal.h"

/* Keeps text (taken) at offset in pl, or counts it dropped (freed). */
static void
verify_keep(struct verify_problems *pl, uint64_t offset, char *text)
{
	if (pl->n == pl->cap && pl->n < VERIFY_PROBLEMS_PER_SEGMENT) {
		size_t nc = pl->cap ? 2 * pl->cap : 16;
		struct verify_problem *np = realloc(pl->p, nc * sizeof(*np));
		if (np) {
			pl->p = np;
			pl->cap = nc;
		}
	}
	if (!text || pl->n >= VERIFY_PROBLEMS_PER_SEGMENT || pl->n == pl->cap) {
		free(text);
		pl->dropped++;
		return;
	}
	pl->p[pl->n++] = (struct verify_problem){ offset, text };
}

static void
verify_add(struct verify_problems *pl, uint64_t offset, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Records a problem at offset (worker side, no output). */
static void
verify_add(struct verify_problems *pl, uint64_t offset, const char *fmt, ...)
{
	va_list ap;
	char *text;

	if (pl->n >= VERIFY_PROBLEMS_PER_SEGMENT) {
		pl->dropped++;
		return;
	}
	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	va_end(ap);
	verify_keep(pl, offset, text);
}

void
verify_problems_free(struct verify_problems *pl)
{
	for (size_t i = 0; i < pl->n; i++)
		free(pl->p[i].text);
	free(pl->p);
	*pl = (struct verify_problems){ 0 };
}

/* Appends from's problems to to's (the cap counting over both). */
static void
verify_problems_move(struct verify_problems *to, struct verify_problems *from)
{
	for (size_t i = 0; i < from->n; i++)
		verify_keep(to, from->p[i].offset, from->p[i].text);
	to->dropped += from->dropped;
	free(from->p);
	*from = (struct verify_problems){ 0 };
}

static void
verify_tally_seq(struct verify_tally *t, uint64_t seq)
{
	if (!t->have_seq)
		t->first_seq = seq;
	t->have_seq = true;
	t->last_seq = seq;
	t->records++;
}

static void
verify_tally_add(struct verify_tally *t, const struct verify_tally *o)
{
	if (!o->have_seq)
		return;
	if (!t->have_seq)
		t->first_seq = o->first_seq;
	t->have_seq = true;
	t->last_seq = o->last_seq;
	t->records += o->records;
}

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
		verify_add(w->pl, w->run_offset, "damaged line%s: %s", seqs, w->run_reason);
	else
		verify_add(w->pl, w->run_offset, "%" PRIu64 " damaged lines in a row%s; the first: %s",
			   w->run, seqs, w->run_reason);
}

/* n damaged lines, the first at offset (reason), go on w's run. */
static void
verify_extend_run(struct verify_walk *w, uint64_t n, uint64_t offset, const char *reason)
{
	if (!n)
		return;
	if (!w->run) {
		w->run_offset = offset;
		w->run_reason = reason;
	}
	w->run += n;
}

/* The first line: the header (name = FIRSTSEQ; the directory id is
 * compared once all are read).  Returns true if the line is done with. */
static bool
verify_header(struct verify_walk *w, const struct segfile_line *l)
{
	struct verify_seg *s = w->s;
	const char *reason = NULL;

	w->header_seen = true;
	if (l->type != SEGFILE_TORN && record_header_decode(l->line, l->len, &s->hdr, &reason) == 0) {
		s->have_header = true;
		w->expect = s->hdr.first_seq;
		if (!s->is_current && s->hdr.first_seq != s->name_seq)
			verify_add(w->pl, 0, "the name says first seq %" PRIu64
				   " but the header says %" PRIu64, s->name_seq, s->hdr.first_seq);
		return true;
	}
	if (l->type == SEGFILE_TORN)
		return false;
	verify_add(w->pl, 0, "bad segment header: %s", reason ? reason : "unreadable");
	if (!s->is_current)
		w->expect = s->name_seq;
	return record_is_header(l->line, l->len);
}

/* A valid record at off: it ends the run of damaged lines before it, and
 * its seq is checked against the one expected and counted. */
static void
verify_record(struct verify_walk *w, uint64_t seq, uint64_t off)
{
	if (w->expect == seq && !w->run) { /* the common case, kept cheap */
		verify_tally_seq(w->t, seq);
		w->expect = seq + 1;
		return;
	}
	verify_end_run(w, seq);
	if (w->expect && seq > w->expect && seq - w->expect > w->run)
		verify_add(w->pl, off, "seqs %" PRIu64 "..%" PRIu64 " missing before this record",
			   w->expect, seq - 1);
	else if (w->expect && seq < w->expect)
		verify_add(w->pl, off, "seq %" PRIu64 " out of order (expected %" PRIu64 ")", seq,
			   w->expect);
	w->run = 0;
	if (w->expect && seq < w->expect)
		return;
	verify_tally_seq(w->t, seq);
	w->expect = seq + 1;
}

static void
verify_line(struct verify_walk *w, const struct segfile_line *l)
{
	if (!w->header_seen && l->offset == 0 && verify_header(w, l))
		return;
	if (l->type == SEGFILE_META)
		return;
	if (l->type != SEGFILE_RECORD) {
		verify_extend_run(w, 1, l->offset, l->reason);
		return;
	}
	if (!w->deferred) {
		verify_record(w, l->rec.seq, l->offset);
		return;
	}
	w->deferred = false;
	w->have_first = true;
	w->first_seq = l->rec.seq;
	w->first_offset = l->offset;
	w->lead = w->run;
	w->lead_offset = w->run_offset;
	w->lead_reason = w->run_reason;
	w->run = 0;
	w->expect = l->rec.seq + 1;
}

/* The format version to check lines with: the header's, or if it does not
 * decode, the version it claims ("#seglog N "), or 1. */
static unsigned
verify_version(struct segfile *f)
{
	char head[16];
	const char *reason;
	ssize_t n;

	if (segfile_read_header(f, NULL, &reason) == 0 || f->hdr_len)
		return f->hdr.version;
	n = segfile_pread(f->fd, head, sizeof(head), 0);
	if (n >= 10 && memcmp(head, "#seglog ", 8) == 0 && head[9] == ' ' && head[8] >= '1' &&
	    head[8] <= '0' + RECORD_FORMAT_MAX)
		return (unsigned)(head[8] - '0');
	return 1;
}

/* Opens s for all its ranges (once, by the first of them to run, under
 * v->lock): a sealed segment by name, `current` through the descriptor
 * taken before the listing.  Leaves s->file.fd < 0 if there is nothing to
 * walk (said, or s->missing). */
static void
verify_open(struct verify *v, struct verify_seg *s)
{
	int k = 0;

	if (!s->regular) {
		verify_add(&s->pl, 0, "not a regular file (an entry named like a segment); skipped");
		return;
	}
	if (s->file.fd < 0)
		k = segfile_open(v->dir_fd, s->name, O_RDONLY, &s->file);
	if (k == -ENOENT) {
		s->missing = true;
		return;
	}
	if (k < 0) {
		verify_add(&s->pl, 0, "cannot open: %s", k == -EISDIR ? "not a regular file"
								    : strerror(-k));
		return;
	}
	(void)posix_fadvise(s->file.fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	s->version = verify_version(&s->file);
}

/* Walks the lines of r, those that start in [r->start, r->end), with w;
 * progress: count the bytes for the progress line (not when walked again). */
static void
verify_walk_range(struct verify *v, struct verify_range *r, struct verify_walk *w,
		  struct segfile_iter *it, bool progress)
{
	struct segfile_line l;
	uint64_t counted = r->start;
	int k;

	segfile_iter_start(it, r->s->file.fd, r->s->version, r->start ? r->start - 1 : 0,
			   r->start > 0);
	r->final = r->torn = false;
	while ((k = segfile_iter_next(it, &l)) > 0 && l.offset < r->end) {
		if (l.type == SEGFILE_TORN) {
			if (!w->header_seen)
				verify_header(w, &l);
			r->torn = r->final = true;
			r->torn_offset = l.offset;
			break;
		}
		verify_line(w, &l);
		if (progress && l.offset - counted >= VERIFY_BLOCK) {
			__atomic_fetch_add(&v->done_bytes, l.offset - counted, __ATOMIC_RELAXED);
			counted = l.offset;
		}
	}
	r->stop = r->torn ? l.offset + l.len : k > 0 ? l.offset : segfile_iter_offset(it);
	if (k < 0) {
		verify_add(w->pl, segfile_iter_offset(it), "read error: %s; the rest of the file is "
			   "not checked", strerror(-k));
		r->final = true;
	}
	if (progress && r->stop > counted)
		__atomic_fetch_add(&v->done_bytes, r->stop - counted, __ATOMIC_RELAXED);
}

/* Merges range r (after its segment's first) into the segment's walk m,
 * as if m had walked on through it: the damaged lines before r's first
 * record extend m's run, the record is checked against m's next seq, and
 * r's own findings follow.  A first record older than that seq would have
 * been refused, which r's own checks did not know: r is walked again. */
static void
verify_merge(struct verify *v, struct verify_walk *m, struct verify_range *r,
	     struct segfile_iter *it)
{
	struct verify_walk *w = &r->w;

	if (w->have_first && m->expect && w->first_seq < m->expect) {
		verify_problems_free(&r->pl);
		verify_walk_range(v, r, m, it, false);
		return;
	}
	if (!w->have_first) {
		verify_extend_run(m, w->run, w->run_offset, w->run_reason);
		verify_problems_move(m->pl, &r->pl);
		return;
	}
	verify_extend_run(m, w->lead, w->lead_offset, w->lead_reason);
	verify_record(m, w->first_seq, w->first_offset);
	verify_problems_move(m->pl, &r->pl);
	verify_tally_add(m->t, &r->t);
	m->expect = w->expect;
	m->run = w->run;
	m->run_offset = w->run_offset;
	m->run_reason = w->run_reason;
}

/* After the last of s's ranges is walked: merges them in order up to the
 * one the file's walk ends in, ends the walk, closes the file. */
static void
verify_segment_done(struct verify *v, struct verify_seg *s, struct segfile_iter *it)
{
	const struct verify_range *end = &s->ranges[0];

	if (s->file.fd >= 0) {
		s->bytes = end->stop;
		for (size_t i = 1; i < s->n_ranges && !end->final; i++) {
			verify_merge(v, &s->w, &s->ranges[i], it);
			end = &s->ranges[i];
			if (end->stop > s->bytes)
				s->bytes = end->stop;
		}
		s->torn = end->torn;
		s->torn_offset = end->torn_offset;
		s->trailing_damaged = s->w.run;
		verify_end_run(&s->w, 0);
		if (!s->w.header_seen)
			verify_add(&s->pl, 0, "empty file: no segment header");
	}
	for (size_t i = 1; i < s->n_ranges; i++)
		verify_problems_free(&s->ranges[i].pl);
	segfile_close(&s->file);
}

void *
verify_worker(void *arg)
{
	struct verify *v = arg;
	_cleanup_segfile_iter_ struct segfile_iter it = SEGFILE_ITER_INIT;

	segfile_iter_init(&it, v->full ? SEGFILE_DECODE : SEGFILE_CHECK,
			  segfile_line_max(SEGFILE_MAX_RECORD), VERIFY_CHUNK);
	for (;;) {
		size_t i = __atomic_fetch_add(&v->next, 1, __ATOMIC_RELAXED);
		if (i >= v->n_ranges)
			break;
		struct verify_range *r = &v->ranges[i];
		struct verify_seg *s = r->s;
		pthread_mutex_lock(&v->lock);
		if (!s->opened)
			verify_open(v, s);
		s->opened = true;
		pthread_mutex_unlock(&v->lock);
		if (s->file.fd >= 0)
			verify_walk_range(v, r, r == s->ranges ? &s->w : &r->w, &it, true);
		if (__atomic_sub_fetch(&s->ranges_left, 1, __ATOMIC_ACQ_REL) == 0)
			verify_segment_done(v, s, &it);
		__atomic_fetch_add(&v->done_ranges, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

/* The range size: VERIFY_RANGE, or for tests (to cut small segments)
 * SEGLOG_VERIFY_RANGE_BYTES, if it is at least VERIFY_RANGE_MIN. */
static uint64_t
verify_range_len(void)
{
	const char *e = getenv("SEGLOG_VERIFY_RANGE_BYTES");
	uint64_t n;

	if (e && parse_u64(e, &n) == 0 && n >= VERIFY_RANGE_MIN)
		return n;
	return VERIFY_RANGE;
}

/* With more than one job, a regular segment of at least two ranges' size
 * (at listing time; `current` may grow, its last range reads on to the
 * end as one walk would) is cut into ranges of len bytes, the last taking
 * the rest; every other segment is one range. */
int
verify_plan(struct verify *v, unsigned jobs)
{
	uint64_t len = verify_range_len();
	size_t n = 0, k = 0;

	for (size_t i = 0; i < v->n_segs; i++) {
		struct verify_seg *s = &v->segs[i];
		s->n_ranges = jobs > 1 && s->regular && s->size >= 2 * len ? s->size / len : 1;
		n += s->n_ranges;
	}
	v->ranges = calloc(n ? n : 1, sizeof(*v->ranges));
	if (!v->ranges)
		return -ENOMEM;
	v->n_ranges = n;
	for (size_t i = 0; i < v->n_segs; i++) {
		struct verify_seg *s = &v->segs[i];
		s->ranges = &v->ranges[k];
		s->ranges_left = s->n_ranges;
		s->w = (struct verify_walk){ .s = s, .pl = &s->pl, .t = &s->t };
		for (size_t j = 0; j < s->n_ranges; j++, k++)
			v->ranges[k] = (struct verify_range){
				.s = s,
				.start = j * len,
				.end = j + 1 < s->n_ranges ? (j + 1) * len : UINT64_MAX,
				.w = { .s = s, .pl = &v->ranges[k].pl, .t = &v->ranges[k].t,
				       .header_seen = true, .deferred = true },
			};
	}
	return 0;
}
