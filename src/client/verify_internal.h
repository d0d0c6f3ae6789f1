/* seglog verify's state, shared by cmd_verify.c (listing, report, the
 * command) and cmd_verify_walk.c (the workers: line walks over segments and
 * over byte ranges of big ones, and the merge of the ranges' results).
 * Private to src/client. */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"
#include "segdir.h"
#include "segfile.h"

enum {
	/* read size: the copy pread makes is checked while it is still in the
	 * L2 cache (4 MiB cost ~5% more CPU on warm sealed segments) */
	VERIFY_CHUNK = 1 << 20,
	VERIFY_BLOCK = 4 << 20, /* progress granularity */
	VERIFY_PROBLEMS_PER_SEGMENT = 1000,
	VERIFY_THREADS_MAX = 8,
	VERIFY_PROGRESS_MIN_BYTES = 256 << 20,
	/* a segment of at least twice this is cut into ranges of this many
	 * bytes (the last takes the rest), walked by the workers in parallel */
	VERIFY_RANGE = 64 << 20,
	/* the least range size SEGLOG_VERIFY_RANGE_BYTES may set (tests) */
	VERIFY_RANGE_MIN = 4096,
};

struct verify_problem {
	uint64_t offset;
	char *text;
};

/* Problems in file order; at most VERIFY_PROBLEMS_PER_SEGMENT kept. */
struct verify_problems {
	struct verify_problem *p;
	size_t n, cap, dropped;
};

/* The valid records a walk counted. */
struct verify_tally {
	uint64_t records;
	bool have_seq;
	uint64_t first_seq, last_seq;
};

struct verify_seg;

/* The state of a line walk: of a segment from its start, or of a range
 * after the first ("deferred": it cannot know what the lines before it
 * left, so the checks of its first record against them, and the run of
 * damaged lines before that record, wait for the merge). */
struct verify_walk {
	struct verify_seg *s;
	struct verify_problems *pl;
	struct verify_tally *t;
	bool header_seen;
	bool deferred;		  /* the first record is still to come */
	uint64_t expect;	  /* next seq (0: unknown) */
	uint64_t run, run_offset; /* consecutive damaged lines */
	const char *run_reason;
	bool have_first; /* deferred: the range's first record, unchecked ... */
	uint64_t first_seq, first_offset;
	uint64_t lead, lead_offset; /* ... and the damaged lines before it */
	const char *lead_reason;
};

/* A byte range of a segment: the lines that start in [start, end). */
struct verify_range {
	struct verify_seg *s;
	uint64_t start, end; /* end UINT64_MAX: to the end of the file */
	struct verify_walk w; /* ranges after the first; the first walks s->w */
	struct verify_problems pl;
	struct verify_tally t;
	uint64_t stop;	     /* the offset the walk ended at */
	bool final;	     /* a torn line or a read error: the segment's walk ends here */
	bool torn;
	uint64_t torn_offset;
};

/* One segment and, once the workers are done with it, what they found. */
struct verify_seg {
	char name[SEGDIR_NAME_LEN + 1];
	bool is_current;
	uint64_t name_seq;
	uint64_t size; /* at listing time: the ranges, the progress line */
	bool regular;  /* false: named like a segment but not a regular file */
	struct segfile file; /* current: opened before the listing */
	bool opened;	     /* the first of its ranges to run tried (v->lock) */
	unsigned version;    /* the format version its lines are checked in */
	struct verify_range *ranges;
	size_t n_ranges, ranges_left; /* ranges_left: atomic */

	bool missing; /* vanished before it was read (retention) */
	bool have_header;
	struct segment_header hdr;
	struct verify_walk w; /* the walk from the start, the ranges merged in */
	struct verify_problems pl;
	struct verify_tally t;
	uint64_t bytes;
	uint64_t trailing_damaged; /* damaged lines after the last valid record */
	bool torn;		   /* an incomplete last line ... */
	uint64_t torn_offset;	   /* ... starting here */
};

struct verify {
	const char *dir;
	int dir_fd;
	bool full;
	struct verify_seg *segs;
	size_t n_segs;
	struct verify_range *ranges; /* every segment's, in order */
	size_t n_ranges;
	pthread_mutex_t lock; /* opening a segment */
	uint64_t total_bytes;
	size_t next;	     /* next range to take (atomic) */
	uint64_t done_bytes; /* atomic */
	size_t done_ranges;  /* atomic */
	unsigned problems;
	unsigned notes;
	size_t irregular; /* entries named like segments that are not files */
};

/* Cuts the segments into ranges for jobs workers: 0 or -ENOMEM. */
int verify_plan(struct verify *v, unsigned jobs);
/* A worker thread: walks ranges until none is left. */
void *verify_worker(void *arg);
/* Frees what the workers found. */
void verify_problems_free(struct verify_problems *pl);
