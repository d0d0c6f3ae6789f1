/* The segment reader (reader.h): opening a data directory, turning the
 * lines of the segment being read into events (records, gaps, damage),
 * and reader_next(), the state machine that drives it all.  Which segment
 * comes next is reader_segment.c's, what may be delivered
 * reader_durable.c's, where to start reader_seek.c's. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reader.h"
#include "reader_internal.h"
#include "segdir.h"
#include "segfile.h"

/* What reading the open file gave. */
enum reader_step {
	READER_STEP_EVENT, /* *ev is filled */
	READER_STEP_WAIT,  /* nothing more for now */
	READER_STEP_NEXT,  /* the file is done: on to the next */
	READER_STEP_AGAIN, /* read on */
};

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

int
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
void
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
bool
reader_wrong_dir(const struct reader *r)
{
	return r->have_required && r->have_dir_id &&
	       memcmp(r->required_id, r->dir_id, RECORD_DIR_ID_LEN) != 0;
}

void
reader_close_file(struct reader *r)
{
	segfile_close(&r->file);
	r->renamed = false;
	r->torn_reported = false;
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

