#include "config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "cleanup.h"
#include "testseg.h"

void
test_put_file(int dir_fd, const char *name, const void *buf, size_t n)
{
	_cleanup_close_ int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, buf, n), (ssize_t)n);
}

void
test_append_file(int dir_fd, const char *name, const void *buf, size_t n)
{
	_cleanup_close_ int fd = openat(dir_fd, name, O_WRONLY | O_APPEND | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, buf, n), (ssize_t)n);
}

void
test_seg_add(struct test_seg *s, const char *p, size_t n)
{
	if (s->len + n > s->cap) {
		s->cap = (s->len + n) * 2;
		s->buf = realloc(s->buf, s->cap);
		ck_assert_ptr_nonnull(s->buf);
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
}

void
test_seg_header(struct test_seg *s, uint64_t first, const uint8_t *id)
{
	struct segment_header h = { .first_seq = first, .created_us = 1 };
	char line[RECORD_HEADER_MAX];

	if (!s->version)
		s->version = 1;
	h.version = s->version;
	memcpy(h.dir_id, id, RECORD_DIR_ID_LEN);
	test_seg_add(s, line, record_header_encode(&h, line));
}

uint64_t
test_seg_record(struct test_seg *s, uint64_t seq, size_t msg_len, char c)
{
	char *msg = malloc(msg_len + 1), *line;
	struct record r = { .seq = seq, .time_us = 1700000000000000ull + seq * 1000000,
			    .pid = 1, .facility = 1, .severity = 6, .tag = "t", .tag_len = 1,
			    .claimed_pid = RECORD_NO_CLAIMED_PID };
	uint64_t off = s->len;

	ck_assert_ptr_nonnull(msg);
	memset(msg, c, msg_len);
	r.msg = msg;
	r.msg_len = msg_len;
	line = malloc(record_size_max(&r));
	ck_assert_ptr_nonnull(line);
	test_seg_add(s, line, record_encode_version(&r, s->version ? s->version : 1, line));
	free(line);
	free(msg);
	return off;
}

void
test_seg_write(int dir_fd, struct test_seg *s, const char *name)
{
	test_put_file(dir_fd, name, s->buf, s->len);
	free(s->buf);
	*s = (struct test_seg){ 0 };
}
