/* Which segment the reader reads next, and opening it: the oldest or the
 * one after the last record read, found by name (first seqs) rather than
 * trusted to a listing, a `current` sealed under the reader followed into
 * its sealed name, and segments that vanished (retention) or are bad
 * (reported once, then passed over). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "reader.h"
#include "reader_internal.h"
#include "segdir.h"
#include "segfile.h"

enum {
	READER_LIST_RETRIES = 8, /* listings tried while a sealed segment is missing from them */
};

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

/* Opens the segment s and checks its header: READER_OPENED with r->file
 * open, another enum reader_open_result with it closed, or -errno. */
static int
reader_open_checked(struct reader *r, struct reader_event *ev, const struct segfile_entry *s)
{
	const char *reason = NULL;
	int k;

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
	return k < 0 ? k : READER_OPENED;
}

/* A segment opened from a listing readdir(3) took while seglogd sealed
 * others may not be the one that follows the last record: READER_MOVED
 * (closed, idx at the one that does), READER_OPENED, or -errno.  (The
 * listing may have been taken again: r->segs entries are not valid
 * across this call.) */
static int
reader_check_follows(struct reader *r)
{
	bool moved;
	int k;

	if (!r->have_last || r->file.hdr.first_seq <= r->last_seq + 1)
		return READER_OPENED;
	if (r->file.is_current) {
		moved = reader_missed_seal(r);
	} else {
		k = reader_point_at(r, r->last_seq + 1);
		if (k < 0)
			return k;
		moved = k > 0;
	}
	if (!moved)
		return READER_OPENED;
	reader_close_file(r);
	return READER_MOVED;
}

/* The open file is the one to read: its header names the directory if
 * nothing did yet, and reading starts after the header, or where a seek
 * into this file put it.  READER_OPENED, or -EXDEV. */
static int
reader_start_file(struct reader *r)
{
	uint64_t off = r->file.hdr_len;

	if (!r->have_dir_id) {
		memcpy(r->dir_id, r->file.hdr.dir_id, RECORD_DIR_ID_LEN);
		r->have_dir_id = true;
	}
	if (reader_wrong_dir(r)) {
		reader_close_file(r);
		return -EXDEV;
	}
	if (r->seek_offset > off && strcmp(r->seek_name, r->file.name) == 0)
		off = r->seek_offset;
	r->seek_offset = 0;
	segfile_iter_start(&r->it, r->file.fd, r->file.hdr.version, off, false);
	return READER_OPENED;
}

/* Opens the segment at r->idx, checks its header and that it is the one
 * that follows, and starts reading it (an enum reader_open_result, or
 * -errno). */
int
reader_open_file(struct reader *r, struct reader_event *ev)
{
	int k;

	reader_close_file(r);
	k = reader_open_checked(r, ev, &r->segs[r->idx]);
	if (k == READER_OPENED)
		k = reader_check_follows(r);
	if (k == READER_OPENED)
		k = reader_start_file(r);
	return k;
}

/* After the file at idx ended: the next segment by first seq. */
int
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
int
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

