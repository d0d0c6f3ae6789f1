/* One segment file, read the one way: the rules every reader of a data
 * directory shares (seglog tail/cat, seglog verify, seglog ship, and the
 * store's recovery), so that none of them accepts what another refuses.
 *
 *   - DIR/dir-id: exactly 32 lowercase hex digits, optionally one LF;
 *     anything else (or not a regular file) is damage.
 *   - Listing: sealed segments by name (20 digits + ".log") sorted by first
 *     seq, then `current`; entries named like a segment that are not
 *     regular files are listed as such, so callers skip them with a warning.
 *   - Opening: O_NOFOLLOW | O_CLOEXEC (and O_NONBLOCK, so a FIFO cannot
 *     block), then S_ISREG.
 *   - The header: the first line, at most RECORD_HEADER_MAX bytes, must
 *     decode; a sealed segment's name must equal its FIRSTSEQ; its DIRID
 *     must be the directory's.
 *   - Lines: read with pread(2) only, never mmap, so a file truncated or
 *     unreadable under the reader gives an error with an offset, not
 *     SIGBUS.  A line is at most line_max bytes (segfile_line_max): a
 *     longer one is damage and skipped up to its LF.
 *
 * Typical use (a reader of one segment):
 *
 *	_cleanup_segfile_ struct segfile f = SEGFILE_INIT;
 *	_cleanup_segfile_iter_ struct segfile_iter it = SEGFILE_ITER_INIT;
 *	r = segfile_open(dir_fd, name, O_RDONLY, &f);
 *	r = segfile_read_header(&f, dir_id, &reason);
 *	segfile_iter_init(&it, SEGFILE_DECODE, segfile_line_max(SEGFILE_MAX_RECORD), 0);
 *	segfile_iter_start(&it, f.fd, f.hdr.version, f.hdr_len, false);
 *	while ((r = segfile_iter_next(&it, &line)) > 0)
 *		... line.type is SEGFILE_RECORD, SEGFILE_DAMAGED, SEGFILE_META or SEGFILE_TORN
 *
 * The store (recovery) uses segfile_open(O_RDWR), segfile_read_header()
 * with its own dir-id, segfile_scan_tail() with segfile_unsynced_max() of
 * its max_record, and segfile_read_dir_id(); readers add segfile_list(),
 * segfile_probe(), segfile_seek(), segfile_last_record(),
 * segfile_current_kept(), segfile_read_watermark() and
 * segfile_writer_active().  Nothing here logs: errors are -errno, and
 * where a file is wrong, -EBADMSG (or -EXDEV) with a static reason. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cleanup.h"
#include "record.h"
#include "recover.h"
#include "segdir.h"

enum {
	/* the largest max_record the configuration accepts (cfg.c): a reader
	 * that does not know the writer's setting assumes it */
	SEGFILE_MAX_RECORD = 1 << 20,
	/* the most the commit engine writes at once (STORE_WRITE_MAX), so
	 * at most this plus one line at the end of `current` is unsynced */
	SEGFILE_WRITE_MAX = 1 << 20,
	/* default read size of the line iterator */
	SEGFILE_CHUNK = 256 << 10,
	/* segfile_seek() leaves this much to be read linearly */
	SEGFILE_SEEK_LINEAR = 64 << 10,
};

/* The longest line a record of at most max_record payload bytes can
 * take: record_line_max(RECORD_TAG_MAX, max_record). */
size_t segfile_line_max(uint32_t max_record);
/* How far from the end of `current` a crash can tear (recovery cuts from
 * the first bad line in this zone): SEGFILE_WRITE_MAX + one line.  A
 * reader that does not know max_record uses SEGFILE_MAX_RECORD, a wider
 * zone than any writer's, so it never counts on a line recovery cuts. */
uint64_t segfile_unsynced_max(uint32_t max_record);

/* Reads all n bytes at off unless the file ends first (then fewer),
 * resuming after EINTR and short reads.  Returns the bytes read or -errno. */
ssize_t segfile_pread(int fd, void *buf, size_t n, uint64_t off);

/* --- the directory ------------------------------------------------------- */

/* Reads DIR/dir-id.  0 and the id; -ENOENT if there is none; -EBADMSG and
 * a reason if it is not a regular file or not exactly 32 lowercase hex
 * digits with at most one LF after them; other -errno if unreadable. */
int segfile_read_dir_id(int dir_fd, uint8_t ret_id[RECORD_DIR_ID_LEN], const char **ret_reason);

struct segfile_entry {
	uint64_t first_seq; /* from the name; 0 for current */
	bool is_current;
	bool regular;	    /* false: a directory, symlink, FIFO... named like a segment */
	uint64_t size;
	uint64_t ino;
	char name[SEGDIR_NAME_LEN + 1];
};

/* Lists the segments of dir_fd: sealed ones sorted by first seq, then
 * `current` if it exists (regular or not).  *ret is malloc'ed. */
int segfile_list(int dir_fd, struct segfile_entry **ret, size_t *ret_n);

/* True if a process holds the writer's flock on DIR/lock, as
 * /proc/locks shows it (matched by device and inode), so that the reader
 * never takes the lock itself (a shared lock would make a starting
 * seglogd refuse to run). */
bool segfile_writer_active(int dir_fd);

/* Reads DIR/watermark (watermark.h): 0 with the directory id it names and
 * the durable seq; -ENOENT if there is none; -EBADMSG if it does not
 * parse (torn, foreign).  It is read until two reads agree, as the daemon
 * rewrites it in place. */
int segfile_read_watermark(int dir_fd, uint8_t ret_id[RECORD_DIR_ID_LEN], uint64_t *ret_seq);

/* --- one file ------------------------------------------------------------ */

struct segfile {
	int fd;
	bool is_current;
	uint64_t name_seq; /* first seq the name says; 0 for current */
	uint64_t dev, ino;
	uint64_t size;	   /* at open */
	struct segment_header hdr;
	uint64_t hdr_len;  /* 0 until segfile_read_header succeeded */
	char name[SEGDIR_NAME_LEN + 1];
};

#define SEGFILE_INIT { .fd = -EBADF }

/* Opens DIR/name (SEGDIR_CURRENT or a sealed name) with flags (O_RDONLY or
 * O_RDWR) | O_NOFOLLOW | O_CLOEXEC and checks that it is a regular file.
 * -ENOENT if it vanished; -EISDIR if it is not a regular file (directory,
 * symlink, FIFO, device); -EINVAL if the name is neither; other -errno. */
int segfile_open(int dir_fd, const char *name, int flags, struct segfile *ret);
/* Describes a descriptor of DIR/name the caller already holds (the store
 * keeps `current` open across its life): f borrows fd, so the caller must
 * not segfile_close() f.  -EISDIR if fd is not a regular file, -EINVAL if
 * name is neither current nor a sealed name. */
int segfile_borrow(int fd, const char *name, struct segfile *ret);
/* Closes; NULL-safe, idempotent. */
void segfile_close(struct segfile *f);
#define _cleanup_segfile_ _cleanup_(segfile_close)

/* Reads and checks the header line.  dir_id may be NULL (not checked).
 * 0: f->hdr and f->hdr_len are set.  -ENODATA: the file holds no complete
 * header line yet but may still get one (shorter than RECORD_HEADER_MAX:
 * `current` being created, or cut).  -EBADMSG: damaged, or a sealed
 * segment whose name is not its FIRSTSEQ (f->hdr is set then).  -EXDEV:
 * the header names another directory (f->hdr is set).  *ret_reason says
 * which, for all three. */
int segfile_read_header(struct segfile *f, const uint8_t *dir_id, const char **ret_reason);

/* --- where a file's records end ------------------------------------------- */

/* Recovery's view of the end of an open segment: recover_scan() (the pure
 * core) over a window at the end of the file [.., end), at least
 * unsynced_max + 2 * line_max bytes and widened 4 times at a time until
 * it holds a valid record or reaches the header.  Widening is bounded:
 * past 4 * line_max + unsynced_max + 16 MiB the window stops growing and
 * the last valid record before it is found by segfile_last_record()
 * instead (ret->cut and ret->damaged then describe the window). */
int segfile_scan_tail(const struct segfile *f, uint64_t end, uint64_t unsynced_max,
		      size_t line_max, struct recover_result *ret);

/* The seq of the last record of DIR/current that the next recovery keeps
 * (0 if none or if current cannot be read), for readers while no writer
 * runs.  A last record at the very end that the watermark covers needs no
 * scan (a clean stop); otherwise segfile_scan_tail() over the widest torn
 * zone any writer can leave (segfile_unsynced_max(SEGFILE_MAX_RECORD))
 * says where recovery cuts. */
uint64_t segfile_current_kept(int dir_fd, uint64_t watermark, size_t line_max);

struct segfile_probe {
	uint64_t seq;
	uint64_t time_us;
	uint64_t offset; /* of the line */
	uint64_t len;
};

/* The last valid record line (record_check) of f that ends at or before
 * end, however much damage precedes it, read backwards in windows of
 * bounded size.  1 and *ret; 0 if there is none after the header. */
int segfile_last_record(const struct segfile *f, uint64_t end, size_t line_max,
			struct segfile_probe *ret);

/* The first valid record line starting in [off, end) of f (if
 * !at_line_start, the bytes up to the first LF at or after off are
 * skipped: off may point into a line).  The read buffer grows up to
 * line_max, so a valid line of any length is seen whole; a longer line is
 * stepped over.  1 and *ret; 0 if there is none. */
int segfile_probe(const struct segfile *f, uint64_t off, uint64_t end, bool at_line_start,
		  size_t line_max, struct segfile_probe *ret);

enum segfile_key {
	SEGFILE_KEY_SEQ,
	SEGFILE_KEY_TIME, /* receive time, microseconds */
};

/* Where to start reading f so that the first record with a key >= target
 * is not missed: a binary search over byte offsets with segfile_probe(),
 * down to SEGFILE_SEEK_LINEAR bytes read linearly.  Keys must not
 * decrease through the file (times do unless the clock stepped back).  A
 * probe that finds nothing narrows the search towards the start: starting
 * early only costs reading.  *ret_offset is a line start >= f->hdr_len. */
int segfile_seek(const struct segfile *f, enum segfile_key key, uint64_t target,
		 size_t line_max, uint64_t *ret_offset);

/* --- the line iterator ----------------------------------------------------- */

enum segfile_mode {
	SEGFILE_CHECK,	/* record_check: seq and time only (verify, seeking) */
	SEGFILE_DECODE, /* record_decode: every field (tail/cat, verify --full) */
};

enum segfile_line_type {
	SEGFILE_RECORD = 1, /* a valid record: rec (all fields with DECODE) */
	SEGFILE_META,	    /* a valid version 2 meta line: not a record */
	SEGFILE_DAMAGED,    /* a complete line that does not check, or a line
			     * longer than line_max (then len is what was seen
			     * of it and the rest up to its LF is skipped) */
	SEGFILE_TORN,	    /* bytes after the last LF at the end of the file: an
			     * incomplete last line (being written, or torn) */
};

struct segfile_line {
	enum segfile_line_type type;
	uint64_t offset;    /* of the line in the file */
	const char *line;   /* its bytes (LF included but for TORN); valid until
			     * the next call */
	size_t len;
	struct record rec;  /* SEGFILE_RECORD */
	const char *reason; /* SEGFILE_DAMAGED, SEGFILE_TORN */
};

/* The iterator's state; its fields are private to segfile.c. */
struct segfile_iter {
	int fd; /* borrowed */
	unsigned version;
	enum segfile_mode mode;
	size_t line_max;
	char *buf, *scratch;
	size_t cap, scratch_cap, chunk;
	size_t len, pos, last_pos;
	uint64_t base; /* file offset of buf[0] */
	bool skipping; /* dropping bytes up to the next LF */
};

#define SEGFILE_ITER_INIT { .fd = -EBADF }

/* Sets the mode, the longest valid line and the read size (0: SEGFILE_CHUNK).
 * Allocates nothing yet; buffers are kept across segfile_iter_start(). */
void segfile_iter_init(struct segfile_iter *it, enum segfile_mode mode, size_t line_max,
		       size_t chunk);
/* Points the iterator at fd (borrowed), whose lines are in format version
 * `version`, from offset off; skip_partial: off may be inside a line, so
 * start after the next LF. */
void segfile_iter_start(struct segfile_iter *it, int fd, unsigned version, uint64_t off,
			bool skip_partial);
/* The next line: 1 and *ret; 0 at the end of the file's complete lines
 * for now (call again later: a growing file is read on); -errno if a read
 * failed (segfile_iter_offset() then says where).  After SEGFILE_TORN the
 * incomplete line is read again from its start on the next call, so a
 * follower sees it whole once it is, and a cut file is not misread. */
int segfile_iter_next(struct segfile_iter *it, struct segfile_line *ret);
/* Makes the line just returned by segfile_iter_next() come again. */
void segfile_iter_unread(struct segfile_iter *it);
/* File offset of the next line to be returned. */
uint64_t segfile_iter_offset(const struct segfile_iter *it);
/* Frees the buffers; NULL-safe, the iterator may be initialised again. */
void segfile_iter_free(struct segfile_iter *it);
#define _cleanup_segfile_iter_ _cleanup_(segfile_iter_free)
