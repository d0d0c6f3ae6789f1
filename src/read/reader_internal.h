/* The reader's state, shared by the files of the reader module and by no
 * one else (reader.h is the interface): reader.c (lines to events, the
 * state machine of reader_next), reader_segment.c (which segment is next),
 * reader_durable.c (what may be delivered), reader_seek.c (where to
 * start).  Each field is written by the file that owns its job. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reader.h"
#include "segdir.h"
#include "segfile.h"

/* What is known about the writer, for records above the watermark. */
enum reader_durability {
	READER_DURABLE_UNKNOWN,	  /* not looked yet */
	READER_DURABLE_WRITER,	  /* a writer holds the lock: nothing above the watermark */
	READER_DURABLE_NO_WRITER, /* none: sealed segments all; current up to limit (what
				   * recovery keeps) */
};

/* How opening the segment at idx went. */
enum reader_open_result {
	READER_OPENED,	 /* open and positioned */
	READER_SKIPPED,	 /* it vanished (retention): go on with the next */
	READER_NOT_YET,	 /* no (complete) current right now: wait */
	READER_MOVED,	 /* idx now points at a segment sealed under us: open that */
	READER_REPORTED, /* *ev is a BAD_SEGMENT event: go on with the next */
};

struct reader {
	char *dir;
	int dir_fd;
	bool follow;
	size_t line_max;

	struct segfile_entry *segs;
	size_t n_segs;
	size_t idx; /* segment being read, or n_segs when none */

	struct segfile file; /* the segment being read (fd -EBADF: none) */
	struct segfile_iter it;
	bool renamed;	     /* our current was sealed under us: read to EOF, move on */
	bool torn_reported;  /* the incomplete last line at torn_offset was reported */
	uint64_t meta_ino;   /* the file whose meta line was reported (0: none) */
	uint64_t done_first; /* name of the last sealed segment read to its end (0: none) */
	uint64_t bad_first;  /* name of the newest sealed segment reported bad (0: none):
			      * reading never goes back to it or to one before it */
	uint64_t torn_offset;
	uint64_t bad_current; /* inode of a `current` already reported bad; not reread */
	char bad_name[SEGDIR_NAME_LEN + 1];

	uint64_t start_seq;
	uint64_t start_time;  /* skip records before the first one at/after it */
	bool seeking_time;
	uint64_t last_seq;
	bool have_last;
	bool vanished;	      /* a segment vanished before it could be read */
	uint64_t seek_offset; /* where to start in seek_name, 0 = after header */
	char seek_name[SEGDIR_NAME_LEN + 1];

	uint8_t dir_id[RECORD_DIR_ID_LEN];
	bool have_dir_id;
	const char *dir_id_problem; /* DIR/dir-id is damaged: reported once */
	uint8_t required_id[RECORD_DIR_ID_LEN];
	bool have_required;

	uint64_t watermark;  /* the last one read: every seq <= it is durable */
	enum reader_durability durability;
	uint64_t limit;	     /* NO_WRITER: the last seq of current that recovery keeps */
	uint64_t writer_seen_us;
	bool hold_reported; /* the record held at hold_offset was reported */
	uint64_t hold_offset;

	bool pending; /* a record waits behind the GAP event just returned */
	struct reader_event pending_ev;
};

/* reader.c: relist the segments; read DIR/dir-id (report: say if it is
 * damaged); the directory is not the one required; close the open file */
int reader_list(struct reader *r);
void reader_load_dir_id(struct reader *r, bool report);
bool reader_wrong_dir(const struct reader *r);
void reader_close_file(struct reader *r);

/* reader_segment.c: open the segment at idx (an enum reader_open_result,
 * or -errno); after the open file ended, point idx at the next segment;
 * relist and pick the segment to read (1 if there is one) */
int reader_open_file(struct reader *r, struct reader_event *ev);
int reader_advance(struct reader *r);
int reader_pick(struct reader *r);

/* reader_durable.c: whether seq may be delivered now (rereads the
 * watermark, and the writer's lock at most once a second, as needed) */
bool reader_durable(struct reader *r, uint64_t seq);
