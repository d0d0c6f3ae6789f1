/* Where the reader starts (reader_seek_seq, reader_seek_time): a binary
 * search over the segments by each one's first key (seq from the name, or
 * the first record's time), then over byte offsets inside the chosen one
 * (segfile_seek).  `current` is opened before the listing and, if the
 * search ends in it, reading starts in that very file. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "reader.h"
#include "reader_internal.h"
#include "segdir.h"
#include "segfile.h"

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

