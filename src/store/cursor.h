/* A reader's cursor (docs/format.md §10): where a consumer of a data
 * directory stands, so that it resumes there after a restart, with
 * `seglog tail --cursor-file` and `seglog ship`.  It holds the directory's
 * id and the last seq delivered, in a file of its own outside the data
 * directory, one line:
 *
 *   "seglog-cursor 1 " DIR-ID(32 lowercase hex) " " SEQ(decimal) "\n"
 *   "seglog-cursor 2 " DIR-ID " " SEQ " " TIME(µs, decimal, the record's) "\n"
 *
 * written whole or not at all through the atomic-file guard.  A cursor is
 * refused for a directory with another id (another machine's, or the same
 * path recreated): its seq means nothing there.
 *
 *	_cleanup_cursor_file_ struct cursor_file cf = CURSOR_FILE_INIT;
 *	r = cursor_file_open(&cf, path, data_dir, 1000 * 1000);
 *	r = cursor_file_load(&cf, &c);         -ENOENT: start from scratch
 *	r = cursor_check_dir(&c, dir_id);      -EXDEV: another directory
 *	... deliver records, c.seq = the last one delivered ...
 *	r = cursor_file_save(&cf, &c, now_us, false);   at most every interval
 *	r = cursor_file_save(&cf, &c, now_us, true);    at exit
 *
 * Saving at most once per interval bounds the fsyncs; after a crash (or
 * SIGKILL) the consumer repeats at most what it delivered since the last
 * save.  cursor_format/cursor_parse are pure. */
#pragma once

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cleanup.h"
#include "record.h"

enum {
	/* "seglog-cursor 2 " DIR-ID " " SEQ " " TIME LF */
	CURSOR_LEN_MAX = 16 + 2 * RECORD_DIR_ID_LEN + 1 + 20 + 1 + 20 + 1,
};

struct cursor {
	uint8_t dir_id[RECORD_DIR_ID_LEN];
	uint64_t seq;	  /* the last seq delivered: resume after it; 0 before the first */
	uint64_t time_us; /* that record's receive time, if known (version 2), else 0:
			   * tells a restored older copy whose seq is another record */
};

/* Writes the line (at most CURSOR_LEN_MAX bytes, no NUL): version 1
 * without a time, 2 with one; returns its length. */
size_t cursor_format(const struct cursor *c, char *buf);
/* Parses exactly what cursor_format writes: -EBADMSG for anything else. */
int cursor_parse(const char *buf, size_t len, struct cursor *ret);
/* 0 if the cursor belongs to the directory with this id, else -EXDEV. */
int cursor_check_dir(const struct cursor *c, const uint8_t dir_id[RECORD_DIR_ID_LEN]);

struct cursor_file {
	const char *path;	  /* as given (borrowed), for messages */
	int dir_fd;		  /* the directory holding it */
	char name[NAME_MAX + 1];
	uint64_t interval_us;
	bool have_saved;	  /* saved (or loaded) holds what the file holds */
	struct cursor saved;
	uint64_t saved_us;	  /* when it was last written (the caller's clock) */
};

#define CURSOR_FILE_INIT { .dir_fd = -EBADF }

/* Opens the directory of path (borrowed: it must outlive f).  -EROFS if
 * that is the data directory data_dir (readers never write there),
 * -EISDIR if path names no file, other -errno.  interval_us: the least
 * time between two saves that are not forced. */
int cursor_file_open(struct cursor_file *f, const char *path, const char *data_dir,
		     uint64_t interval_us);
/* Reads the cursor: 0 and *ret; -ENOENT if the file does not exist;
 * -EBADMSG if it does not hold a cursor; other -errno. */
int cursor_file_load(struct cursor_file *f, struct cursor *ret);
/* Saves c unless the file already holds it, and unless !force and the
 * last save is less than the interval before now_us.  Returns 1 if it
 * wrote, 0 if there was nothing to do (yet), -errno on failure. */
int cursor_file_save(struct cursor_file *f, const struct cursor *c, uint64_t now_us, bool force);
/* Microseconds from now_us until a save of c would be due (0: now), or
 * -1 if the file already holds c. */
int64_t cursor_file_due_in(const struct cursor_file *f, const struct cursor *c, uint64_t now_us);
/* Closes the directory; NULL-safe. */
void cursor_file_close(struct cursor_file *f);
#define _cleanup_cursor_file_ _cleanup_(cursor_file_close)
