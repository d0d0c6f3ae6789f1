/* The segment reader used by the client tools (seglog tail/cat, seglog
 * ship): records in seq order over the sealed segments and `current` of a
 * data directory, from a seq or a time, optionally following `current`
 * across rotations.  Damaged lines and seq gaps are reported as events,
 * never fatal.  Read-only: it never writes to the data directory, and
 * reads every file through segfile.c.
 *
 * Durability (PRODUCT.md §2.9, docs/format.md §11): a record is delivered
 * only once no power loss can take it back: a seq at or below the seq in
 * DIR/watermark always (if the watermark names this directory); above it,
 * nothing while a writer holds DIR/lock (so a watermark that is missing,
 * foreign or torn means "nothing yet"), and with no writer every valid
 * record of the sealed segments and those of `current` that recovery
 * keeps (not the ones after a torn tail, which the next seglogd start
 * cuts; the first of those is reported once).  A record above the limit
 * is not consumed: reader_next() returns READER_NEXT_WAIT ("nothing more
 * for now") and delivers it on a later call, once the watermark passed
 * it.  The writer's lock is looked up in /proc/locks only for records
 * above the watermark, at most once a second while a writer is seen. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "cleanup.h"
#include "record.h"

enum reader_event_type {
	READER_RECORD = 1,
	READER_DAMAGED,	    /* a line that does not check; skipped */
	READER_GAP,	    /* seqs gap_first..gap_last are missing */
	READER_BAD_SEGMENT, /* a segment whose header or name is wrong, or an entry
			     * named like a segment that is not a regular file;
			     * skipped */
	READER_BAD_DIR_ID,  /* DIR/dir-id is damaged (reason); headers are checked
			     * against the first one read instead */
	READER_META,	    /* a version 2 meta line (offset), skipped; reported
			     * once per file, not a problem */
};

struct reader_event {
	enum reader_event_type type;
	struct record rec;	/* READER_RECORD; pointers valid until the next call */
	const char *file;	/* segment file name within the directory */
	uint64_t offset;	/* byte offset of the line in that file */
	const char *reason;	/* READER_DAMAGED, READER_BAD_SEGMENT, READER_BAD_DIR_ID,
				 * READER_META */
	uint64_t gap_first;	/* READER_GAP */
	uint64_t gap_last;
	bool gap_at_start;	/* the missing seqs were removed by retention: they lie
				 * before the oldest segment, or their segment vanished
				 * just before it was read */
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
/* The seq of the newest record that may be delivered now (0 if none):
 * the newest valid one, but not above the durable limit. */
int reader_last_seq(struct reader *r, uint64_t *ret);

/* What reader_next() gives when it does not fail. */
enum reader_next_result {
	READER_NEXT_WAIT = 0,  /* nothing more for now (the end of the durable data) */
	READER_NEXT_EVENT = 1, /* *ev is filled */
};

/* The next event: an enum reader_next_result, or -errno (-EXDEV: the
 * directory's id is not the required one). */
int reader_next(struct reader *r, struct reader_event *ev);

/* The data directory's path as given to reader_open. */
const char *reader_dir(const struct reader *r);
/* The directory's id, from DIR/dir-id or else the first header read;
 * false while it is not known. */
bool reader_dir_id(struct reader *r, uint8_t ret_id[RECORD_DIR_ID_LEN]);
/* From now on reader_next() fails with -EXDEV rather than deliver a
 * record of a directory whose id is not id (a cursor's directory). */
void reader_require_dir_id(struct reader *r, const uint8_t id[RECORD_DIR_ID_LEN]);

/* True if a writer (seglogd) holds the directory's lock right now; read
 * from /proc/locks, so the reader never touches the lock itself. */
bool reader_writer_active(const char *dir);
