/* The segment reader used by the client tools: records in seq order over
 * the sealed segments and `current` of a data directory, from a seq or a
 * time, optionally following `current` across rotations.  Damaged lines
 * and seq gaps are reported as events, never fatal.  Read-only: it never
 * writes to the data directory. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "cleanup.h"
#include "record.h"

enum reader_event_type {
	READER_RECORD = 1,
	READER_DAMAGED,	    /* a line that does not check; skipped */
	READER_GAP,	    /* seqs gap_first..gap_last are missing */
	READER_BAD_SEGMENT, /* a segment whose header or name is wrong; skipped */
};

struct reader_event {
	enum reader_event_type type;
	struct record rec;	/* READER_RECORD; pointers valid until the next call */
	const char *file;	/* segment file name within the directory */
	uint64_t offset;	/* byte offset of the line in that file */
	const char *reason;	/* READER_DAMAGED, READER_BAD_SEGMENT */
	uint64_t gap_first;	/* READER_GAP */
	uint64_t gap_last;
	bool gap_at_start;	/* the gap lies before the oldest segment (retention) */
	bool in_current;	/* READER_DAMAGED: the incomplete last line of `current`,
				 * which a running writer may still be writing */
};

struct reader;

int reader_open(const char *dir, struct reader **ret);
struct reader *reader_free(struct reader *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct reader *, reader_free)

/* follow: at the end of `current` wait for more instead of reporting its
 * incomplete last line, and move on to the next segment after a rotation. */
void reader_set_follow(struct reader *r, bool follow);
/* Start at the first record with seq >= seq (binary search by segment
 * name, then within the file). */
int reader_seek_seq(struct reader *r, uint64_t seq);
/* Start at the first record received at or after time_us (binary search
 * as above; records before the first such one are skipped).  Either seek
 * may be called again at any time: it restarts reading from there. */
int reader_seek_time(struct reader *r, uint64_t time_us);
/* The seq of the newest valid record in the directory (0 if none). */
int reader_last_seq(struct reader *r, uint64_t *ret);

/* 1: *ev is filled; 0: nothing more for now (end of data); <0: error. */
int reader_next(struct reader *r, struct reader_event *ev);

/* The data directory's path as given to reader_open. */
const char *reader_dir(const struct reader *r);

/* True if a writer (seglogd) holds the directory's lock right now; read
 * from /proc/locks, so the reader never touches the lock itself. */
bool reader_writer_active(const char *dir);
