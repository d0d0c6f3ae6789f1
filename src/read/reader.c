#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "reader.h"
#include "segdir.h"
#include "segfile.h"

enum {
	/* a writer seen holding the lock is taken to be there this long
	 * (only the watermark is reread meanwhile: always safe).  Reading
	 * /proc/locks takes the kernel's file_rwsem for writing, which can
	 * wait for an RCU grace period (milliseconds) and holds up every
	 * flock(2) and fcntl(2) lock meanwhile, so it is read sparingly. */
	READER_WRITER_RECHECK_US = 1000 * 1000,
	READER_LIST_RETRIES = 8, /* listings tried while a sealed segment is missing from them */
};

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

/* What reading the open file gave. */
enum reader_step {
	READER_STEP_EVENT, /* *ev is filled */
	READER_STEP_WAIT,  /* nothing more for now */
	READER_STEP_NEXT,  /* the file is done: on to the next */
	READER_STEP_AGAIN, /* read on */
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

static uint64_t
reader_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

struct reader *
reader_free(struct reader *r)
{
	if (!r)
		return NULL;
	segfile_close(&r->file);
	segfile_iter_free(&r->it);
	safe_close(r->dir_fd);
	free(r->segs);
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
reader_list(struct reader *r)
{
	struct segfile_entry *v;
	size_t n;
	int k = segfile_list(r->dir_fd, &v, &n);

	if (k < 0)
		return k;
	free(r->segs);
	r->segs = v;
	r->n_segs = n;
	return 0;
}

/* The directory's own id from DIR/dir-id, so that even the oldest segment
 * is checked against it; without the file, the first header seen sets it.
 * A damaged file is reported (once) by reader_next(). */
static void
reader_load_dir_id(struct reader *r, bool report)
{
	const char *reason = NULL;
	int k = segfile_read_dir_id(r->dir_fd, r->dir_id, &reason);

	if (k == 0)
		r->have_dir_id = true;
	else if (k != -ENOENT && report)
		r->dir_id_problem = reason ? reason : "cannot be read";
}

int
reader_open(const char *dir, struct reader **ret)
{
	_cleanup_(reader_freep) struct reader *r = calloc(1, sizeof(*r));
	int k;

	if (!r)
		return -ENOMEM;
	r->file = (struct segfile)SEGFILE_INIT;
	r->it = (struct segfile_iter)SEGFILE_ITER_INIT;
	r->dir_fd = -EBADF;
	r->dir = strdup(dir);
	if (!r->dir)
		return -ENOMEM;
	r->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r->dir_fd < 0)
		return -errno;
	r->line_max = segfile_line_max(SEGFILE_MAX_RECORD);
	segfile_iter_init(&r->it, SEGFILE_DECODE, r->line_max, 0);
	reader_load_dir_id(r, true);
	k = reader_list(r);
	if (k < 0)
		return k;
	*ret = TAKE_PTR(r);
	return 0;
}

bool
reader_dir_id(struct reader *r, uint8_t ret_id[RECORD_DIR_ID_LEN])
{
	if (!r->have_dir_id)
		reader_load_dir_id(r, false);
	if (r->have_dir_id)
		memcpy(ret_id, r->dir_id, RECORD_DIR_ID_LEN);
	return r->have_dir_id;
}

void
reader_require_dir_id(struct reader *r, const uint8_t id[RECORD_DIR_ID_LEN])
{
	memcpy(r->required_id, id, RECORD_DIR_ID_LEN);
	r->have_required = true;
}

/* The directory is not the one reader_require_dir_id() asked for. */
static bool
reader_wrong_dir(const struct reader *r)
{
	return r->have_required && r->have_dir_id &&
	       memcmp(r->required_id, r->dir_id, RECORD_DIR_ID_LEN) != 0;
}

static void
reader_close_file(struct reader *r)
{
	segfile_close(&r->file);
	r->renamed = false;
	r->torn_reported = false;
}

/* --- durability ------------------------------------------------------------- */

/* The watermark, if it names this directory; else 0: nothing is durable. */
static uint64_t
reader_watermark(struct reader *r)
{
	uint8_t id[RECORD_DIR_ID_LEN];
	uint64_t seq;

	if (!r->have_dir_id)
		reader_load_dir_id(r, false);
	if (!r->have_dir_id || segfile_read_watermark(r->dir_fd, id, &seq) < 0 ||
	    memcmp(id, r->dir_id, RECORD_DIR_ID_LEN) != 0)
		return 0;
	return seq;
}

/* Finds out whether seq may be delivered now.  A seq at or below the
 * watermark is durable, whoever holds the lock (so after a clean stop,
 * /proc/locks is never read).  Above it: not while a writer holds the
 * lock; with none, what recovery keeps.  `current` is scanned before the
 * lock is checked: records seen while no writer held it were written by
 * one that has exited, and a writer that starts meanwhile is seen. */
static void
reader_refresh(struct reader *r, uint64_t seq)
{
	uint64_t now = reader_now_us(), kept;

	r->watermark = reader_watermark(r);
	if (seq <= r->watermark)
		return;
	if (r->durability == READER_DURABLE_WRITER) {
		if (now - r->writer_seen_us < READER_WRITER_RECHECK_US)
			return;
		if (segfile_writer_active(r->dir_fd)) {
			r->writer_seen_us = now;
			return;
		}
	}
	kept = segfile_current_kept(r->dir_fd, r->watermark, r->line_max);
	if (segfile_writer_active(r->dir_fd)) {
		r->durability = READER_DURABLE_WRITER;
		r->writer_seen_us = now;
		return;
	}
	r->durability = READER_DURABLE_NO_WRITER;
	r->limit = kept;
}

static bool
reader_within_limit(const struct reader *r, uint64_t seq)
{
	if (seq <= r->watermark)
		return true;
	if (r->durability != READER_DURABLE_NO_WRITER)
		return false;
	return !(r->file.is_current && !r->renamed) || seq <= r->limit;
}

static bool
reader_durable(struct reader *r, uint64_t seq)
{
	if (reader_within_limit(r, seq))
		return true;
	reader_refresh(r, seq);
	return reader_within_limit(r, seq);
}

/* --- opening segments ------------------------------------------------------- */

/* Reports the segment s as bad (BAD_SEGMENT) and passes over it. */
static int
reader_report(struct reader *r, struct reader_event *ev, const struct segfile_entry *s,
	      const char *reason)
{
	snprintf(r->bad_name, sizeof(r->bad_name), "%s", s->name);
	if (!s->is_current && s->first_seq > r->bad_first)
		r->bad_first = s->first_seq;
	reader_close_file(r);
	memset(ev, 0, sizeof(*ev));
	ev->type = READER_BAD_SEGMENT;
	ev->file = r->bad_name;
	ev->reason = reason;
	return READER_REPORTED;
}

/* Points idx at the sealed segment whose first seq is seq, if it exists:
 * 1 then, 0 if there is none, -errno.  Names are first seqs, so the
 * segment after the last record read is found by name, not trusted to a
 * listing: readdir(3) may miss a name renamed in while it runs, and under
 * load seglogd seals many segments a second (a hostile test saw tail -f
 * skip whole segments).  The listing is retried while the name exists but
 * is not in it.  A segment reported bad is never pointed at again. */
static int
reader_point_at(struct reader *r, uint64_t seq)
{
	char name[SEGDIR_NAME_LEN + 1];
	struct stat st;

	if (seq <= r->bad_first)
		return 0;
	segdir_name(seq, name);
	if (fstatat(r->dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	if (r->idx + 1 < r->n_segs && !r->segs[r->idx + 1].is_current &&
	    r->segs[r->idx + 1].first_seq == seq) {
		r->idx++;
		return 1;
	}
	for (int tries = 0; tries < READER_LIST_RETRIES; tries++) {
		int k = reader_list(r);
		if (k < 0)
			return k;
		for (size_t i = 0; i < r->n_segs; i++)
			if (!r->segs[i].is_current && r->segs[i].first_seq == seq) {
				r->idx = i;
				return 1;
			}
	}
	return 0;
}

/* A `current` opened from a stale listing may already be a newer one than
 * the segment after the last record read: a rotation sealed the one we
 * wanted in between.  Relists and points idx at that sealed segment.
 * readdir(3) may miss a name that is renamed in while it runs, and under
 * load seglogd seals many segments a second, so the listing is retried
 * while the segment that must follow (named by the next seq: names are
 * first seqs) exists but is not listed.  Found by a hostile test: tail -f
 * skipped whole segments at high rates.  Segments reported bad are passed. */
static bool
reader_missed_seal(struct reader *r)
{
	uint64_t want = r->last_seq, got = r->file.hdr.first_seq;
	char name[SEGDIR_NAME_LEN + 1];
	struct stat st;
	bool exact;

	segdir_name(want + 1, name);
	exact = want + 1 > r->bad_first &&
		fstatat(r->dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
	for (int tries = 0; tries < READER_LIST_RETRIES; tries++) {
		if (reader_list(r) < 0)
			return false;
		for (size_t i = 0; i < r->n_segs; i++)
			if (!r->segs[i].is_current && r->segs[i].regular &&
			    r->segs[i].first_seq > want && r->segs[i].first_seq < got &&
			    r->segs[i].first_seq > r->bad_first) {
				r->idx = i;
				return true;
			}
		if (!exact)
			return false;
	}
	return false;
}

/* Opens the segment at r->idx and checks its header and name (an enum
 * reader_open_result, or -errno). */
static int
reader_open_file(struct reader *r, struct reader_event *ev)
{
	const struct segfile_entry *s = &r->segs[r->idx];
	const char *reason = NULL;
	uint64_t off;
	int k;

	reader_close_file(r);
	if (!s->regular)
		return reader_report(r, ev, s, "not a regular file (named like a segment)");
	k = segfile_open(r->dir_fd, s->name, O_RDONLY, &r->file);
	if (k == -ENOENT) {
		if (s->is_current)
			return READER_NOT_YET; /* no current right now: rotation */
		r->vanished = true;
		return READER_SKIPPED;
	}
	if (k == -EISDIR)
		return reader_report(r, ev, s, "not a regular file (named like a segment)");
	if (k < 0)
		return k;
	if (s->is_current && r->file.ino == r->bad_current) {
		reader_close_file(r);
		return READER_NOT_YET;
	}
	k = segfile_read_header(&r->file, r->have_dir_id ? r->dir_id : NULL, &reason);
	if (k == -ENODATA && s->is_current && r->follow) {
		reader_close_file(r); /* being created; try later */
		return READER_NOT_YET;
	}
	if (k == -ENODATA || k == -EBADMSG || k == -EXDEV) {
		if (s->is_current)
			r->bad_current = r->file.ino;
		return reader_report(r, ev, s, reason);
	}
	if (k < 0)
		return k;
	/* a segment opened from a listing readdir(3) took while seglogd
	 * sealed others may not be the one that follows the last record */
	if (r->have_last && r->file.hdr.first_seq > r->last_seq + 1) {
		bool moved;
		if (s->is_current) {
			moved = reader_missed_seal(r);
		} else {
			k = reader_point_at(r, r->last_seq + 1);
			if (k < 0)
				return k;
			moved = k > 0;
		}
		if (moved) {
			reader_close_file(r);
			return READER_MOVED;
		}
	}
	if (!r->have_dir_id) {
		memcpy(r->dir_id, r->file.hdr.dir_id, RECORD_DIR_ID_LEN);
		r->have_dir_id = true;
	}
	if (reader_wrong_dir(r)) {
		reader_close_file(r);
		return -EXDEV;
	}
	off = r->file.hdr_len;
	if (r->seek_offset > off && strcmp(r->seek_name, s->name) == 0)
		off = r->seek_offset;
	r->seek_offset = 0;
	segfile_iter_start(&r->it, r->file.fd, r->file.hdr.version, off, false);
	return READER_OPENED;
}

/* After the file at idx ended: the next segment by first seq. */
static int
reader_advance(struct reader *r)
{
	uint64_t first = r->file.hdr.first_seq;
	bool was_current = r->file.is_current;
	int k;

	if (!was_current && first > r->done_first)
		r->done_first = first;
	reader_close_file(r);
	/* (only forward: a damaged segment whose records lie below its own
	 * name would otherwise be found and read again for ever) */
	if (r->have_last && r->last_seq + 1 > first) {
		k = reader_point_at(r, r->last_seq + 1);
		if (k != 0)
			return k < 0 ? k : 0;
	}
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

/* With no file open and the listing used up: relists and picks the
 * segment to read (the oldest, or the first after the last record read and
 * after any reported bad).  1 if there is one. */
static int
reader_pick(struct reader *r)
{
	int k = reader_list(r);

	if (k < 0)
		return k;
	for (r->idx = 0; r->idx < r->n_segs; r->idx++)
		if (r->segs[r->idx].is_current ||
		    ((!r->have_last || r->segs[r->idx].first_seq > r->last_seq) &&
		     r->segs[r->idx].first_seq > r->done_first &&
		     r->segs[r->idx].first_seq > r->bad_first))
			break;
	return r->idx < r->n_segs;
}

/* --- reading lines ------------------------------------------------------------ */

static bool
reader_current_renamed(struct reader *r)
{
	struct stat st;
	if (fstatat(r->dir_fd, SEGDIR_CURRENT, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return true;
	return (uint64_t)st.st_ino != r->file.ino;
}

/* Following, at the end of `current`: a file that shrank below what was
 * read was cut by recovery (a torn tail); reading resumes at its new end.
 * Only records recovery keeps were delivered, so the ones that follow
 * still come after the last one; one that does not is reported as out of
 * order, never shown twice. */
static void
reader_check_cut(struct reader *r)
{
	struct stat st;

	if (fstat(r->file.fd, &st) == 0 && (uint64_t)st.st_size < segfile_iter_offset(&r->it)) {
		uint64_t off = (uint64_t)st.st_size > r->file.hdr_len ? (uint64_t)st.st_size
								   : r->file.hdr_len;
		segfile_iter_start(&r->it, r->file.fd, r->file.hdr.version, off, false);
	}
}

static void
reader_line_event(struct reader *r, struct reader_event *ev, enum reader_event_type type,
		  uint64_t offset, const char *reason)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	ev->file = r->file.name;
	ev->offset = offset;
	ev->reason = reason;
}

/* The oldest segment there is: no regular sealed one before idx. */
static bool
reader_in_oldest(const struct reader *r)
{
	for (size_t i = 0; i < r->idx && i < r->n_segs; i++)
		if (r->segs[i].regular && !r->segs[i].is_current)
			return false;
	return true;
}

/* A record was held back at offset: it is read again (from the file, not
 * a stale buffer) next time.  With no writer, a record of `current` that
 * recovery will cut is reported once. */
static int
reader_hold(struct reader *r, struct reader_event *ev, uint64_t offset)
{
	segfile_iter_start(&r->it, r->file.fd, r->file.hdr.version, offset, false);
	if (r->follow && r->file.is_current && !r->renamed)
		reader_check_cut(r);
	if (r->durability != READER_DURABLE_NO_WRITER ||
	    (r->hold_reported && r->hold_offset == offset))
		return READER_STEP_WAIT;
	r->hold_reported = true;
	r->hold_offset = offset;
	reader_line_event(r, ev, READER_DAMAGED, offset,
			  "a record after a torn tail or out of sequence at the end of current: "
			  "not shown (seglogd's recovery cuts it when it starts)");
	return READER_STEP_EVENT;
}

/* Turns one valid record line into an event (an enum reader_step). */
static int
reader_record(struct reader *r, const struct segfile_line *l, struct reader_event *ev)
{
	const struct record *rec = &l->rec;

	if (rec->seq < r->start_seq)
		return READER_STEP_AGAIN;
	if (r->seeking_time && rec->time_us < r->start_time)
		return READER_STEP_AGAIN;
	if (r->have_last && rec->seq <= r->last_seq) {
		reader_line_event(r, ev, READER_DAMAGED, l->offset,
				  "seq out of order (not greater than the previous record's)");
		return READER_STEP_EVENT;
	}
	if (!reader_durable(r, rec->seq))
		return reader_hold(r, ev, l->offset);
	r->seeking_time = false;
	reader_line_event(r, ev, READER_RECORD, l->offset, NULL);
	ev->rec = *rec;
	if ((r->have_last && rec->seq > r->last_seq + 1) ||
	    (!r->have_last && r->start_seq && rec->seq > r->start_seq)) {
		r->pending = true;
		r->pending_ev = *ev;
		reader_line_event(r, ev, READER_GAP, l->offset, NULL);
		ev->gap_first = r->have_last ? r->last_seq + 1 : r->start_seq;
		ev->gap_last = rec->seq - 1;
		/* before the oldest segment's first seq, or in one that vanished
		 * as it was to be read: retention, not damage */
		ev->gap_at_start = r->vanished ||
				   (reader_in_oldest(r) && ev->gap_last < r->file.hdr.first_seq);
	}
	r->last_seq = rec->seq;
	r->have_last = true;
	r->vanished = false;
	return READER_STEP_EVENT;
}

/* The end of the complete lines (and, if torn, the incomplete last line
 * l) of the open file: an enum reader_step. */
static int
reader_at_end(struct reader *r, struct reader_event *ev, const struct segfile_line *l)
{
	if (r->file.is_current && !r->renamed) {
		if (reader_current_renamed(r)) {
			r->renamed = true; /* sealed under us: read the rest, then move on */
			return READER_STEP_AGAIN;
		}
		if (r->follow) {
			reader_check_cut(r);
			return READER_STEP_WAIT;
		}
		if (!l || (r->torn_reported && r->torn_offset == l->offset))
			return READER_STEP_WAIT;
		r->torn_reported = true;
		r->torn_offset = l->offset;
		reader_line_event(r, ev, READER_DAMAGED, l->offset,
				  "incomplete last line (a torn tail; recovery cuts it)");
		ev->in_current = true;
		return READER_STEP_EVENT; /* stays open: nothing after it */
	}
	if (!l)
		return READER_STEP_NEXT;
	reader_line_event(r, ev, READER_DAMAGED, l->offset, "incomplete last line");
	int k = reader_advance(r);
	return k < 0 ? k : READER_STEP_EVENT;
}

/* A read error in the open file: in a sealed segment the rest of it is
 * skipped (reported); in `current` it is the caller's error. */
static int
reader_read_error(struct reader *r, struct reader_event *ev, int error)
{
	if (r->file.is_current && !r->renamed)
		return error;
	reader_line_event(r, ev, READER_DAMAGED, segfile_iter_offset(&r->it),
			  "cannot be read (I/O error); the rest of the file is skipped");
	int k = reader_advance(r);
	return k < 0 ? k : READER_STEP_EVENT;
}

/* Reads the open file up to the next event (an enum reader_step). */
static int
reader_step(struct reader *r, struct reader_event *ev)
{
	struct segfile_line l;

	for (;;) {
		int k = segfile_iter_next(&r->it, &l);
		if (k < 0)
			k = reader_read_error(r, ev, k);
		else if (k == 0)
			k = reader_at_end(r, ev, NULL);
		else if (l.type == SEGFILE_META && r->meta_ino == r->file.ino)
			k = READER_STEP_AGAIN;
		else if (l.type == SEGFILE_META) {
			/* nothing writes meta lines yet (sealing will): say once per
			 * file that this reader skips what it does not understand */
			r->meta_ino = r->file.ino;
			reader_line_event(r, ev, READER_META, l.offset,
					  "meta line skipped (this seglog does not use it)");
			k = READER_STEP_EVENT;
		}
		else if (l.type == SEGFILE_TORN)
			k = reader_at_end(r, ev, &l);
		else if (l.type == SEGFILE_DAMAGED) {
			reader_line_event(r, ev, READER_DAMAGED, l.offset, l.reason);
			k = READER_STEP_EVENT;
		} else
			k = reader_record(r, &l, ev);
		if (k != READER_STEP_AGAIN)
			return k;
	}
}

/* Where reader_next() stands.  Each call starts in the state the reader's
 * fields say (reader_state), so it resumes where the last call stopped;
 * each state does one thing and names the next, until the call ends in
 * READER_STATE_EVENT or READER_STATE_WAIT (or fails). */
enum reader_state {
	READER_STATE_DIR_ID,  /* DIR/dir-id is damaged: say so first, once */
	READER_STATE_PENDING, /* a record waits behind the GAP event just returned */
	READER_STATE_PICK,    /* no file open, the listing used up: relist, pick one */
	READER_STATE_OPEN,    /* idx names the segment to open */
	READER_STATE_READ,    /* a file is open: read it up to the next event */
	READER_STATE_ADVANCE, /* the open file is done: on to the next segment */
	READER_STATE_EVENT,   /* the end of the call: *ev is filled */
	READER_STATE_WAIT,    /* the end of the call: nothing more for now */
};

/* The state a call starts in, or goes on in after a segment was passed. */
static enum reader_state
reader_state(const struct reader *r)
{
	if (r->dir_id_problem)
		return READER_STATE_DIR_ID;
	if (r->pending)
		return READER_STATE_PENDING;
	if (r->file.fd >= 0)
		return READER_STATE_READ;
	return r->idx < r->n_segs ? READER_STATE_OPEN : READER_STATE_PICK;
}

static enum reader_state
reader_dir_id_event(struct reader *r, struct reader_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = READER_BAD_DIR_ID;
	ev->file = SEGDIR_DIR_ID;
	ev->reason = r->dir_id_problem;
	r->dir_id_problem = NULL;
	return READER_STATE_EVENT;
}

static enum reader_state
reader_pending_event(struct reader *r, struct reader_event *ev)
{
	r->pending = false;
	*ev = r->pending_ev;
	return READER_STATE_EVENT;
}

/* READER_STATE_PICK: the next state, or -errno. */
static int
reader_do_pick(struct reader *r)
{
	int k = reader_pick(r);

	if (k < 0)
		return k;
	return k > 0 ? READER_STATE_OPEN : READER_STATE_WAIT;
}

/* READER_STATE_OPEN: the next state, or -errno. */
static int
reader_do_open(struct reader *r, struct reader_event *ev)
{
	int k = reader_open_file(r, ev);

	if (k < 0)
		return k;
	switch ((enum reader_open_result)k) {
	case READER_OPENED:
		return READER_STATE_READ;
	case READER_NOT_YET:
		return READER_STATE_WAIT;
	case READER_REPORTED:
		r->idx++;
		return READER_STATE_EVENT;
	case READER_SKIPPED:
		r->idx++;
		return reader_state(r);
	case READER_MOVED:
		return reader_state(r);
	}
	return -EINVAL; /* not reached */
}

/* READER_STATE_READ: the next state, or -errno. */
static int
reader_do_read(struct reader *r, struct reader_event *ev)
{
	int k = reader_step(r, ev);

	if (k < 0)
		return k;
	if (k == READER_STEP_EVENT)
		return READER_STATE_EVENT;
	if (k == READER_STEP_WAIT)
		return READER_STATE_WAIT;
	return READER_STATE_ADVANCE; /* READER_STEP_NEXT */
}

/* READER_STATE_ADVANCE: the next state, or -errno. */
static int
reader_do_advance(struct reader *r)
{
	int k = reader_advance(r);

	return k < 0 ? k : (int)reader_state(r);
}

int
reader_next(struct reader *r, struct reader_event *ev)
{
	int state = reader_state(r);

	for (;;) {
		/* every state that reads the directory first checks it is
		 * the one required */
		if (state >= READER_STATE_PICK && state <= READER_STATE_ADVANCE &&
		    reader_wrong_dir(r))
			return -EXDEV;
		switch ((enum reader_state)state) {
		case READER_STATE_DIR_ID:
			state = reader_dir_id_event(r, ev);
			break;
		case READER_STATE_PENDING:
			state = reader_pending_event(r, ev);
			break;
		case READER_STATE_PICK:
			state = reader_do_pick(r);
			break;
		case READER_STATE_OPEN:
			state = reader_do_open(r, ev);
			break;
		case READER_STATE_READ:
			state = reader_do_read(r, ev);
			break;
		case READER_STATE_ADVANCE:
			state = reader_do_advance(r);
			break;
		case READER_STATE_EVENT:
			return READER_NEXT_EVENT;
		case READER_STATE_WAIT:
			return READER_NEXT_WAIT;
		}
		if (state < 0)
			return state;
	}
}

/* --- seeking ------------------------------------------------------------------- */

/* The key (first seq or first record's time) of the open file f: 1 and
 * *ret, 0 if it has no record, -errno. */
static int
reader_file_key(struct reader *r, const struct segfile *f, enum segfile_key key, uint64_t *ret)
{
	struct segfile_probe p;
	int k;

	if (key == SEGFILE_KEY_SEQ) {
		*ret = f->hdr.first_seq;
		return 1;
	}
	k = segfile_probe(f, f->hdr_len, f->size, true, r->line_max, &p);
	if (k > 0)
		*ret = p.time_us;
	return k;
}

/* The key of segment i: 1 and *ret; 0 if it cannot be known (not a
 * regular file, vanished, damaged).  Sealed segments' first seqs come
 * from their names, without I/O. */
static int
reader_first_key(struct reader *r, size_t i, enum segfile_key key, uint64_t *ret)
{
	_cleanup_segfile_ struct segfile f = SEGFILE_INIT;
	const struct segfile_entry *s = &r->segs[i];
	const char *reason;
	int k;

	if (!s->regular)
		return 0;
	if (key == SEGFILE_KEY_SEQ && !s->is_current) {
		*ret = s->first_seq;
		return 1;
	}
	k = segfile_open(r->dir_fd, s->name, O_RDONLY, &f);
	if (k == 0)
		k = segfile_read_header(&f, NULL, &reason);
	if (k == -ENOENT || k == -EISDIR || k == -ENODATA || k == -EBADMSG || k == -EXDEV)
		return 0;
	if (k < 0)
		return k;
	return reader_file_key(r, &f, key, ret);
}

/* Where in the sealed segment idx to start reading (segfile_seek). */
static int
reader_seek_in_file(struct reader *r, enum segfile_key key, uint64_t target)
{
	_cleanup_segfile_ struct segfile f = SEGFILE_INIT;
	const char *reason;
	int k;

	k = segfile_open(r->dir_fd, r->segs[r->idx].name, O_RDONLY, &f);
	if (k == 0)
		k = segfile_read_header(&f, NULL, &reason);
	if (k < 0)
		return 0; /* reading it reports what is wrong */
	k = segfile_seek(&f, key, target, r->line_max, &r->seek_offset);
	if (k < 0)
		return k;
	snprintf(r->seek_name, sizeof(r->seek_name), "%s", f.name);
	return 0;
}

/* Opens `current` for a seek, with its header checked as reading it
 * would: 0 and *f open, or 0 and *f closed where reading it would wait or
 * report (absent, being created, damaged), or -errno. */
static int
reader_seek_open_current(struct reader *r, struct segfile *f)
{
	const char *reason = NULL;
	int k = segfile_open(r->dir_fd, SEGDIR_CURRENT, O_RDONLY, f);

	if (k == 0)
		k = segfile_read_header(f, r->have_dir_id ? r->dir_id : NULL, &reason);
	if (k == 0 && f->ino == r->bad_current)
		k = -EBADMSG;
	if (k < 0)
		segfile_close(f);
	if (k == -ENOENT || k == -EISDIR || k == -ENODATA || k == -EBADMSG || k == -EXDEV)
		return 0;
	return k;
}

/* Where the `current` opened before the listing stands in it: the entry
 * with its inode (still `current`, or sealed since), else the first one
 * sealed after it or listed as `current` (readdir(3) may miss a name
 * renamed while it runs). */
static size_t
reader_seek_place(const struct reader *r, const struct segfile *cur)
{
	size_t i;

	for (i = 0; i < r->n_segs; i++)
		if (r->segs[i].ino == cur->ino)
			return i;
	for (i = 0; i < r->n_segs; i++)
		if (r->segs[i].is_current || r->segs[i].first_seq >= cur->hdr.first_seq)
			break;
	return i;
}

/* Reading starts in the `current` the seek opened, from this very file:
 * a rotation that renames it meanwhile only makes it a sealed segment
 * read to its end (reader_at_end), never one whose offset is applied to
 * the next `current`. */
static int
reader_seek_adopt(struct reader *r, struct segfile *cur, enum segfile_key key, uint64_t target)
{
	uint64_t off = cur->hdr_len;
	int k = segfile_seek(cur, key, target, r->line_max, &off);

	if (k < 0)
		return k;
	if (off < cur->hdr_len)
		off = cur->hdr_len;
	if (!r->have_dir_id) {
		memcpy(r->dir_id, cur->hdr.dir_id, RECORD_DIR_ID_LEN);
		r->have_dir_id = true;
	}
	if (reader_wrong_dir(r))
		return -EXDEV;
	r->file = *cur;
	*cur = (struct segfile)SEGFILE_INIT;
	segfile_iter_start(&r->it, r->file.fd, r->file.hdr.version, off, false);
	return 0;
}

/* Positions the reader before the first record whose key >= target:
 * binary search over the segments (by each one's first key), then over
 * byte offsets inside the chosen one.  Keys must be non-decreasing; times
 * are, as long as the clock did not step back.  A segment whose key
 * cannot be known narrows the search to the segments before it: starting
 * early only costs reading, starting late would skip records.
 *
 * `current` is opened before the directory is listed, so every segment
 * sealed before it is in the listing, and reading starts from that open
 * file if the search ends in it.  Found by tail-restart.sh in CI: a
 * cursor's seek chose `current`, a rotation replaced it before it was
 * reopened by name, and tail -f reported the records sealed meanwhile
 * as missing. */
static int
reader_seek(struct reader *r, enum segfile_key key, uint64_t target)
{
	_cleanup_segfile_ struct segfile cur = SEGFILE_INIT;
	size_t lo = 0, hi, place;
	int k;

	reader_close_file(r);
	r->have_last = false;
	r->pending = false;
	r->vanished = false;
	r->bad_first = 0;
	r->seek_offset = 0;
	if (!r->have_dir_id)
		reader_load_dir_id(r, false);
	k = reader_seek_open_current(r, &cur);
	if (k < 0)
		return k;
	k = reader_list(r);
	if (k < 0)
		return k;
	/* the candidates: segments [0, place), then the open `current` */
	place = cur.fd >= 0 ? reader_seek_place(r, &cur) : r->n_segs;
	hi = cur.fd >= 0 ? place + 1 : r->n_segs;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		uint64_t v;
		k = mid == place && cur.fd >= 0 ? reader_file_key(r, &cur, key, &v)
						: reader_first_key(r, mid, key, &v);
		if (k < 0)
			return k;
		if (k > 0 && v <= target)
			lo = mid;
		else
			hi = mid;
	}
	r->idx = lo;
	if (cur.fd >= 0 && lo == place)
		return reader_seek_adopt(r, &cur, key, target);
	if (lo >= r->n_segs || !r->segs[lo].regular || r->segs[lo].is_current)
		return 0;
	return reader_seek_in_file(r, key, target);
}

int
reader_seek_seq(struct reader *r, uint64_t seq)
{
	r->start_seq = seq;
	r->seeking_time = false;
	return reader_seek(r, SEGFILE_KEY_SEQ, seq);
}

int
reader_seek_time(struct reader *r, uint64_t time_us)
{
	r->start_seq = 0;
	r->start_time = time_us;
	r->seeking_time = true;
	return reader_seek(r, SEGFILE_KEY_TIME, time_us);
}

int
reader_last_seq(struct reader *r, uint64_t *ret)
{
	_cleanup_free_ struct segfile_entry *segs = NULL;
	size_t n_segs;
	int k = segfile_list(r->dir_fd, &segs, &n_segs);

	if (k < 0)
		return k;
	*ret = 0;
	for (size_t i = n_segs; i-- > 0;) {
		_cleanup_segfile_ struct segfile f = SEGFILE_INIT;
		struct segfile_probe p;
		const char *reason;

		if (!segs[i].regular || segfile_open(r->dir_fd, segs[i].name, O_RDONLY, &f) < 0 ||
		    segfile_read_header(&f, NULL, &reason) < 0)
			continue;
		k = segfile_last_record(&f, f.size, r->line_max, &p);
		if (k < 0)
			return k;
		if (k == 0)
			continue;
		reader_refresh(r, p.seq);
		if (p.seq <= r->watermark ||
		    (r->durability == READER_DURABLE_NO_WRITER && !f.is_current)) {
			*ret = p.seq;
			return 0;
		}
		if (r->durability != READER_DURABLE_NO_WRITER) {
			*ret = r->watermark;
			return 0;
		}
		/* nothing of current that recovery keeps: the sealed ones may have */
		if (r->limit < f.hdr.first_seq)
			continue;
		*ret = p.seq < r->limit ? p.seq : r->limit;
		return 0;
	}
	return 0;
}

bool
reader_writer_active(const char *dir)
{
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	return fd >= 0 && segfile_writer_active(fd);
}
