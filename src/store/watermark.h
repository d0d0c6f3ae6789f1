/* The durable watermark (docs/format.md): DIR/watermark tells readers the
 * highest seq that is durable, so `seglog tail/cat/ship` never deliver a
 * record that a power loss could take back (PRODUCT.md §2.9).
 *
 * The daemon rewrites the file in place, always WATERMARK_LEN bytes at
 * offset 0, after every completed commit (after the fdatasync in
 * durability=fsync); it is not fsynced: after a crash recovery defines the
 * durable end anyway, and a stale (lower) value is always safe.  A value is
 * never written before the records it covers are durable.
 *
 *   "seglog-watermark 1 " DIR-ID(32 hex) " " SEQ(20 digits) "\n"
 *
 * Pure: formatting and parsing only. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "record.h"

#define WATERMARK_FILE "watermark"

enum {
	WATERMARK_LEN = 73,
};

/* Writes exactly WATERMARK_LEN bytes (no NUL) into buf. */
void watermark_format(const uint8_t dir_id[RECORD_DIR_ID_LEN], uint64_t seq, char *buf);
/* Parses what watermark_format wrote: -EBADMSG for anything else (a torn
 * or foreign file), 0 with the directory id and the seq otherwise. */
int watermark_parse(const char *buf, size_t len, uint8_t ret_dir_id[RECORD_DIR_ID_LEN],
		    uint64_t *ret_seq);
