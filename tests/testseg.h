/* Segment files built in a test, line by line, with the record encoder:
 * exactly what the daemon writes. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "record.h"

/* A growing segment image in memory. */
struct test_seg {
	char *buf;
	size_t len, cap;
	unsigned version; /* of the header and every record line */
};

void test_seg_add(struct test_seg *s, const char *p, size_t n);
/* Starts s with a header of s->version (1 if unset) naming first and id. */
void test_seg_header(struct test_seg *s, uint64_t first, const uint8_t *id);
/* Appends record seq (time 1700000000 s + seq s) with a message of
 * msg_len bytes of c; returns the line's offset. */
uint64_t test_seg_record(struct test_seg *s, uint64_t seq, size_t msg_len, char c);
/* Writes s to DIR/name (replacing it) and empties s. */
void test_seg_write(int dir_fd, struct test_seg *s, const char *name);

/* Writes (replacing) or appends n bytes to DIR/name. */
void test_put_file(int dir_fd, const char *name, const void *buf, size_t n);
void test_append_file(int dir_fd, const char *name, const void *buf, size_t n);
