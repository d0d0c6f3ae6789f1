/* The reader's durability rule (reader.h, PRODUCT.md §2.9, docs/format.md
 * §11): which seqs may be delivered now.  At or below DIR/watermark
 * always; above it nothing while a writer holds DIR/lock, and with none
 * what seglogd's recovery keeps.  Also the newest seq that may be shown
 * (reader_last_seq) and whether a writer runs (reader_writer_active). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "now.h"
#include "reader.h"
#include "reader_internal.h"
#include "segfile.h"

enum {
	/* a writer seen holding the lock is taken to be there this long
	 * (only the watermark is reread meanwhile: always safe).  Reading
	 * /proc/locks takes the kernel's file_rwsem for writing, which can
	 * wait for an RCU grace period (milliseconds) and holds up every
	 * flock(2) and fcntl(2) lock meanwhile, so it is read sparingly. */
	READER_WRITER_RECHECK_US = 1000 * 1000,
};

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
	uint64_t now = now_us(CLOCK_MONOTONIC), kept;

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

bool
reader_durable(struct reader *r, uint64_t seq)
{
	if (reader_within_limit(r, seq))
		return true;
	reader_refresh(r, seq);
	return reader_within_limit(r, seq);
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

