/* segfile: the one way segment files, dir-id and the watermark are read.
 * Each test builds the files it needs with the record encoder, so the
 * lines are exactly what the daemon writes. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "segfile.h"
#include "watermark.h"
#include "testseg.h"
#include "testutil.h"

static char *dir;
static int dir_fd = -EBADF;
static const uint8_t test_id[RECORD_DIR_ID_LEN] = { 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde,
						    0xf0, 1, 2, 3, 4, 5, 6, 7, 8 };
static const char test_id_hex[] = "123456789abcdef00102030405060708";

static void
setup(void)
{
	dir = test_mkdtemp();
	dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(dir_fd, 0);
}

static void
teardown(void)
{
	dir_fd = safe_close(dir_fd);
	test_rm_rf(dir);
	free(dir);
}

static void
open_seg(const char *name, struct segfile *f)
{
	const char *reason = NULL;
	ck_assert_int_eq(segfile_open(dir_fd, name, O_RDONLY, f), 0);
	ck_assert_int_eq(segfile_read_header(f, test_id, &reason), 0);
}

/* --- dir-id ------------------------------------------------------------------------ */

START_TEST(test_dir_id_rule)
{
	static const struct {
		const char *content;
		int want;
	} cases[] = {
		{ "123456789abcdef00102030405060708", 0 },
		{ "123456789abcdef00102030405060708\n", 0 },
		{ "123456789abcdef00102030405060708\n\n", -EBADMSG },
		{ "123456789abcdef00102030405060708\nx", -EBADMSG },
		{ "123456789ABCDEF00102030405060708\n", -EBADMSG },
		{ "123456789abcdef0010203040506070\n", -EBADMSG },
		{ "123456789abcdef0010203040506070", -EBADMSG },
		{ " 123456789abcdef00102030405060708", -EBADMSG },
		{ "", -EBADMSG },
	};
	uint8_t id[RECORD_DIR_ID_LEN];
	const char *reason;

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		test_put_file(dir_fd, SEGDIR_DIR_ID, cases[i].content, strlen(cases[i].content));
		reason = NULL;
		ck_assert_msg(segfile_read_dir_id(dir_fd, id, &reason) == cases[i].want,
			      "case %zu", i);
		if (cases[i].want == 0)
			ck_assert_mem_eq(id, test_id, RECORD_DIR_ID_LEN);
		else
			ck_assert_ptr_nonnull(reason);
	}
}
END_TEST

START_TEST(test_dir_id_not_regular)
{
	uint8_t id[RECORD_DIR_ID_LEN];
	const char *reason = NULL;

	ck_assert_int_eq(segfile_read_dir_id(dir_fd, id, &reason), -ENOENT);
	ck_assert_int_eq(mkdirat(dir_fd, SEGDIR_DIR_ID, 0755), 0);
	ck_assert_int_eq(segfile_read_dir_id(dir_fd, id, &reason), -EBADMSG);
	ck_assert_str_eq(reason, "not a regular file");
	ck_assert_int_eq(unlinkat(dir_fd, SEGDIR_DIR_ID, AT_REMOVEDIR), 0);
	/* a FIFO: must not block */
	ck_assert_int_eq(mkfifoat(dir_fd, SEGDIR_DIR_ID, 0644), 0);
	ck_assert_int_eq(segfile_read_dir_id(dir_fd, id, &reason), -EBADMSG);
	ck_assert_int_eq(unlinkat(dir_fd, SEGDIR_DIR_ID, 0), 0);
	test_put_file(dir_fd, "real", test_id_hex, 32);
	ck_assert_int_eq(symlinkat("real", dir_fd, SEGDIR_DIR_ID), 0);
	ck_assert_int_eq(segfile_read_dir_id(dir_fd, id, &reason), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(reason, "symlink"));
}
END_TEST

/* --- open, header, list ---------------------------------------------------------------- */

START_TEST(test_open_checks_type)
{
	struct segfile f = SEGFILE_INIT;
	int fds = test_count_fds();

	ck_assert_int_eq(segfile_open(dir_fd, "00000000000000000001.log", O_RDONLY, &f), -ENOENT);
	ck_assert_int_eq(segfile_open(dir_fd, "notasegment", O_RDONLY, &f), -EINVAL);
	ck_assert_int_eq(mkdirat(dir_fd, "00000000000099999999.log", 0755), 0);
	ck_assert_int_eq(segfile_open(dir_fd, "00000000000099999999.log", O_RDONLY, &f), -EISDIR);
	ck_assert_int_eq(mkfifoat(dir_fd, "00000000000000000005.log", 0644), 0);
	ck_assert_int_eq(segfile_open(dir_fd, "00000000000000000005.log", O_RDONLY, &f), -EISDIR);
	test_put_file(dir_fd, "elsewhere", "x", 1);
	ck_assert_int_eq(symlinkat("elsewhere", dir_fd, SEGDIR_CURRENT), 0);
	ck_assert_int_eq(segfile_open(dir_fd, SEGDIR_CURRENT, O_RDONLY, &f), -EISDIR);
	ck_assert_int_eq(test_count_fds(), fds);

	test_put_file(dir_fd, "00000000000000000007.log", "abc", 3);
	ck_assert_int_eq(segfile_open(dir_fd, "00000000000000000007.log", O_RDONLY, &f), 0);
	ck_assert(!f.is_current);
	ck_assert_uint_eq(f.name_seq, 7);
	ck_assert_uint_eq(f.size, 3);
	ck_assert_str_eq(f.name, "00000000000000000007.log");
	ck_assert_int_eq(fcntl(f.fd, F_GETFL) & O_NONBLOCK, 0); /* io_uring would see it */
	ck_assert_int_eq(fcntl(f.fd, F_GETFD), FD_CLOEXEC);
	segfile_close(&f);
	segfile_close(&f);
	ck_assert_int_eq(test_count_fds(), fds);
}
END_TEST

START_TEST(test_header_rules)
{
	static const uint8_t other[RECORD_DIR_ID_LEN] = { 9 };
	struct segfile f = SEGFILE_INIT;
	struct test_seg s = { 0 };
	const char *reason;

	test_seg_header(&s, 11, test_id);
	test_seg_record(&s, 11, 5, 'a');
	test_seg_write(dir_fd, &s, "00000000000000000011.log");
	ck_assert_int_eq(segfile_open(dir_fd, "00000000000000000011.log", O_RDONLY, &f), 0);
	ck_assert_int_eq(segfile_read_header(&f, test_id, &reason), 0);
	ck_assert_uint_eq(f.hdr.first_seq, 11);
	ck_assert_uint_gt(f.hdr_len, 60);
	ck_assert_int_eq(segfile_read_header(&f, NULL, &reason), 0);
	ck_assert_int_eq(segfile_read_header(&f, other, &reason), -EXDEV);
	ck_assert_str_eq(reason, "the header names another data directory");
	segfile_close(&f);

	/* the name must be the header's first seq */
	ck_assert_int_eq(renameat(dir_fd, "00000000000000000011.log", dir_fd,
				  "00000000000000000012.log"), 0);
	ck_assert_int_eq(segfile_open(dir_fd, "00000000000000000012.log", O_RDONLY, &f), 0);
	ck_assert_int_eq(segfile_read_header(&f, test_id, &reason), -EBADMSG);
	ck_assert_str_eq(reason, "the name does not match the header's first seq");
	segfile_close(&f);
	/* but current may start anywhere */
	ck_assert_int_eq(renameat(dir_fd, "00000000000000000012.log", dir_fd, SEGDIR_CURRENT), 0);
	ck_assert_int_eq(segfile_open(dir_fd, SEGDIR_CURRENT, O_RDONLY, &f), 0);
	ck_assert(f.is_current);
	ck_assert_int_eq(segfile_read_header(&f, test_id, &reason), 0);
	segfile_close(&f);

	/* a header being written: ENODATA (may still come); garbage: EBADMSG */
	test_put_file(dir_fd, SEGDIR_CURRENT, "#seglog 1 1 2026", 16);
	ck_assert_int_eq(segfile_open(dir_fd, SEGDIR_CURRENT, O_RDONLY, &f), 0);
	ck_assert_int_eq(segfile_read_header(&f, test_id, &reason), -ENODATA);
	segfile_close(&f);
	test_put_file(dir_fd, SEGDIR_CURRENT, "#seglog 1 1 bad\n", 16);
	ck_assert_int_eq(segfile_open(dir_fd, SEGDIR_CURRENT, O_RDONLY, &f), 0);
	ck_assert_int_eq(segfile_read_header(&f, test_id, &reason), -EBADMSG);
	ck_assert_uint_eq(f.hdr_len, 0);
	segfile_close(&f);
	{
		char big[RECORD_HEADER_MAX + 10];
		memset(big, '#', sizeof(big));
		test_put_file(dir_fd, SEGDIR_CURRENT, big, sizeof(big));
	}
	ck_assert_int_eq(segfile_open(dir_fd, SEGDIR_CURRENT, O_RDONLY, &f), 0);
	ck_assert_int_eq(segfile_read_header(&f, test_id, &reason), -EBADMSG);
	ck_assert_str_eq(reason, "no complete header line");
	segfile_close(&f);
}
END_TEST

START_TEST(test_list_sorted_and_flags_irregular)
{
	_cleanup_free_ struct segfile_entry *e = NULL;
	size_t n;

	test_put_file(dir_fd, "00000000000000000100.log", "a", 1);
	test_put_file(dir_fd, "00000000000000000002.log", "bb", 2);
	test_put_file(dir_fd, SEGDIR_CURRENT, "ccc", 3);
	test_put_file(dir_fd, "0000000000000000003.log", "x", 1);  /* 19 digits: not a segment */
	test_put_file(dir_fd, "00000000000000000000.log", "x", 1); /* seq 0: not a segment */
	test_put_file(dir_fd, "00000000000000000004.log.zst", "x", 1);
	test_put_file(dir_fd, SEGDIR_DIR_ID, test_id_hex, 32);
	ck_assert_int_eq(mkdirat(dir_fd, "00000000000099999999.log", 0755), 0);
	ck_assert_int_eq(segfile_list(dir_fd, &e, &n), 0);
	ck_assert_uint_eq(n, 4);
	ck_assert_str_eq(e[0].name, "00000000000000000002.log");
	ck_assert_uint_eq(e[0].first_seq, 2);
	ck_assert_uint_eq(e[0].size, 2);
	ck_assert(e[0].regular);
	ck_assert_str_eq(e[1].name, "00000000000000000100.log");
	ck_assert_str_eq(e[2].name, "00000000000099999999.log");
	ck_assert(!e[2].regular);
	ck_assert_str_eq(e[3].name, SEGDIR_CURRENT);
	ck_assert(e[3].is_current && e[3].regular);
}
END_TEST

/* --- the line iterator ------------------------------------------------------------------ */

START_TEST(test_iter_records_damage_torn)
{
	_cleanup_segfile_ struct segfile f = SEGFILE_INIT;
	_cleanup_segfile_iter_ struct segfile_iter it = SEGFILE_ITER_INIT;
	struct segfile_line l;
	struct test_seg s = { 0 };
	uint64_t off2, off3;

	test_seg_header(&s, 1, test_id);
	test_seg_record(&s, 1, 10, 'a');
	off2 = test_seg_record(&s, 2, 10, 'b');
	off3 = test_seg_record(&s, 3, 10, 'c');
	s.buf[off2 + 40] ^= 1; /* damage record 2 */
	test_seg_add(&s, "2026-11-24T09:02:35.123456Z 4 user", 34);
	test_seg_write(dir_fd, &s, SEGDIR_CURRENT);
	open_seg(SEGDIR_CURRENT, &f);

	segfile_iter_init(&it, SEGFILE_DECODE, 1000, 64);
	segfile_iter_start(&it, f.fd, f.hdr.version, f.hdr_len, false);
	ck_assert_int_eq(segfile_iter_next(&it, &l), 1);
	ck_assert_int_eq(l.type, SEGFILE_RECORD);
	ck_assert_uint_eq(l.rec.seq, 1);
	ck_assert_uint_eq(l.offset, f.hdr_len);
	ck_assert_uint_eq(l.rec.msg_len, 10);
	ck_assert_int_eq(memcmp(l.rec.msg, "aaaaaaaaaa", 10), 0);
	ck_assert_int_eq(segfile_iter_next(&it, &l), 1);
	ck_assert_int_eq(l.type, SEGFILE_DAMAGED);
	ck_assert_uint_eq(l.offset, off2);
	ck_assert_ptr_nonnull(l.reason);
	ck_assert_int_eq(segfile_iter_next(&it, &l), 1);
	ck_assert_int_eq(l.type, SEGFILE_RECORD);
	ck_assert_uint_eq(l.rec.seq, 3);
	ck_assert_uint_eq(l.offset, off3);
	/* unread: the same line again */
	segfile_iter_unread(&it);
	ck_assert_uint_eq(segfile_iter_offset(&it), off3);
	ck_assert_int_eq(segfile_iter_next(&it, &l), 1);
	ck_assert_uint_eq(l.rec.seq, 3);
	/* the incomplete last line, every time until it is complete */
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(segfile_iter_next(&it, &l), 1);
		ck_assert_int_eq(l.type, SEGFILE_TORN);
		ck_assert_uint_eq(l.len, 34);
	}
	/* the writer finishes it (here: a whole record 4 replaces it) */
	{
		struct test_seg t = { 0 };
		test_seg_record(&t, 4, 10, 'd');
		_cleanup_close_ int fd = openat(dir_fd, SEGDIR_CURRENT, O_WRONLY | O_CLOEXEC);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(pwrite(fd, t.buf, t.len, (off_t)(off3 + (off3 - off2))),
				 (ssize_t)t.len);
		free(t.buf);
	}
	ck_assert_int_eq(segfile_iter_next(&it, &l), 1);
	ck_assert_int_eq(l.type, SEGFILE_RECORD);
	ck_assert_uint_eq(l.rec.seq, 4);
	ck_assert_int_eq(segfile_iter_next(&it, &l), 0);
	ck_assert_int_eq(segfile_iter_next(&it, &l), 0);
}
END_TEST

START_TEST(test_iter_long_lines_and_overlong)
{
	_cleanup_segfile_ struct segfile f = SEGFILE_INIT;
	_cleanup_segfile_iter_ struct segfile_iter it = SEGFILE_ITER_INIT;
	struct segfile_line l;
	struct test_seg s = { 0 };
	size_t line_max = segfile_line_max(100000);
	uint64_t off;

	test_seg_header(&s, 1, test_id);
	test_seg_record(&s, 1, 100000, '\x01'); /* every byte escaped: 4x */
	off = s.len;
	for (size_t i = 0; i < 3 * line_max; i++) /* no record is this long */
		test_seg_add(&s, "z", 1);
	test_seg_add(&s, "\n", 1);
	test_seg_record(&s, 2, 3, 'x');
	test_seg_write(dir_fd, &s, "00000000000000000001.log");
	open_seg("00000000000000000001.log", &f);

	/* small chunks: the buffer grows to the longest valid line */
	segfile_iter_init(&it, SEGFILE_CHECK, line_max, 4096);
	segfile_iter_start(&it, f.fd, f.hdr.version, f.hdr_len, false);
	ck_assert_int_eq(segfile_iter_next(&it, &l), 1);
	ck_assert_int_eq(l.type, SEGFILE_RECORD);
	ck_assert_uint_eq(l.rec.seq, 1);
	ck_assert_uint_gt(l.len, 400000);
	ck_assert_uint_le(l.len, line_max);
	ck_assert_int_eq(segfile_iter_next(&it, &l), 1);
	ck_assert_int_eq(l.type, SEGFILE_DAMAGED);
	ck_assert_uint_eq(l.offset, off);
	ck_assert_str_eq(l.reason, "line longer than the longest possible record");
	ck_assert_int_eq(segfile_iter_next(&it, &l), 1);
	ck_assert_int_eq(l.type, SEGFILE_RECORD);
	ck_assert_uint_eq(l.rec.seq, 2);
	ck_assert_int_eq(segfile_iter_next(&it, &l), 0);
	ck_assert_uint_le(it.cap, 2 * (line_max + 4096));
}
END_TEST

START_TEST(test_iter_skip_partial_and_meta)
{
	_cleanup_segfile_ struct segfile f = SEGFILE_INIT;
	_cleanup_segfile_iter_ struct segfile_iter it = SEGFILE_ITER_INIT;
	struct segfile_line l;
	struct test_seg s = { 0 };
	struct segment_header h = { .version = 2, .first_seq = 1, .created_us = 1 };
	char line[512];
	uint64_t off;

	memcpy(h.dir_id, test_id, RECORD_DIR_ID_LEN);
	test_seg_add(&s, line, record_header_encode(&h, line));
	{
		struct record r = { .seq = 1, .time_us = 1700000000000000ull, .pid = 1,
				    .facility = 1, .severity = 6, .tag = "t", .tag_len = 1,
				    .msg = "m", .msg_len = 1, .claimed_pid = RECORD_NO_CLAIMED_PID,
				    .hostname = "host", .hostname_len = 4 };
		test_seg_add(&s, line, record_encode_version(&r, 2, line));
		test_seg_add(&s, line, record_meta_encode("seal", 4, "x", 1, line));
		off = s.len;
		r.seq = 2;
		test_seg_add(&s, line, record_encode_version(&r, 2, line));
	}
	test_seg_write(dir_fd, &s, SEGDIR_CURRENT);
	open_seg(SEGDIR_CURRENT, &f);
	ck_assert_uint_eq(f.hdr.version, 2);

	segfile_iter_init(&it, SEGFILE_DECODE, 4096, 0);
	segfile_iter_start(&it, f.fd, f.hdr.version, f.hdr_len, false);
	ck_assert_int_eq(segfile_iter_next(&it, &l), 1);
	ck_assert_int_eq(l.type, SEGFILE_RECORD);
	ck_assert_uint_eq(l.rec.hostname_len, 4);
	ck_assert_int_eq(segfile_iter_next(&it, &l), 1);
	ck_assert_int_eq(l.type, SEGFILE_META);
	ck_assert_int_eq(segfile_iter_next(&it, &l), 1);
	ck_assert_uint_eq(l.rec.seq, 2);
	/* started inside a line: the rest of it is skipped */
	segfile_iter_start(&it, f.fd, f.hdr.version, off - 5, true);
	ck_assert_int_eq(segfile_iter_next(&it, &l), 1);
	ck_assert_uint_eq(l.rec.seq, 2);
	ck_assert_uint_eq(l.offset, off);
}
END_TEST

/* --- probe, last record, recovery's tail scan ----------------------------------------------- */

START_TEST(test_probe_first_line_longer_than_64k)
{
	_cleanup_segfile_ struct segfile f = SEGFILE_INIT;
	struct segfile_probe p;
	struct test_seg s = { 0 };
	uint64_t off2;

	/* the bug of issue 11: a first line over 64 KiB made the probe give up */
	test_seg_header(&s, 11, test_id);
	test_seg_record(&s, 11, 70000, 'L');
	off2 = test_seg_record(&s, 12, 10, 's');
	test_seg_record(&s, 13, 10, 's');
	test_seg_write(dir_fd, &s, "00000000000000000011.log");
	open_seg("00000000000000000011.log", &f);
	ck_assert_int_eq(segfile_probe(&f, f.hdr_len, f.size, true, segfile_line_max(1 << 20), &p),
			 1);
	ck_assert_uint_eq(p.seq, 11);
	ck_assert_uint_eq(p.offset, f.hdr_len);
	ck_assert_uint_eq(p.time_us, 1700000000000000ull + 11 * 1000000);
	/* from the middle of the long line: the next one */
	ck_assert_int_eq(segfile_probe(&f, f.hdr_len + 100, f.size, false,
				       segfile_line_max(1 << 20), &p), 1);
	ck_assert_uint_eq(p.seq, 12);
	ck_assert_uint_eq(p.offset, off2);
	/* no line starts in [off2 + 1, off2 + 2) */
	ck_assert_int_eq(segfile_probe(&f, off2 + 1, off2 + 2, false, segfile_line_max(1 << 20), &p),
			 0);
	/* a record at max_record, every byte escaped: the longest line there is */
	s = (struct test_seg){ 0 };
	test_seg_header(&s, 20, test_id);
	test_seg_record(&s, 20, SEGFILE_MAX_RECORD, '\x7f');
	test_seg_record(&s, 21, 1, 'x');
	test_seg_write(dir_fd, &s, "00000000000000000020.log");
	segfile_close(&f);
	open_seg("00000000000000000020.log", &f);
	ck_assert_int_eq(segfile_probe(&f, 0, f.size, false, segfile_line_max(SEGFILE_MAX_RECORD), &p),
			 1);
	ck_assert_uint_eq(p.seq, 20);
	ck_assert_uint_gt(p.len, 4 * SEGFILE_MAX_RECORD);
	ck_assert_uint_le(p.len, segfile_line_max(SEGFILE_MAX_RECORD));
}
END_TEST

START_TEST(test_last_record_behind_damage)
{
	_cleanup_segfile_ struct segfile f = SEGFILE_INIT;
	struct segfile_probe p;
	struct test_seg s = { 0 };
	uint64_t off;
	char junk[200];

	test_seg_header(&s, 1, test_id);
	for (uint64_t i = 1; i <= 100; i++)
		off = test_seg_record(&s, i, 50, 'r');
	/* 3 MiB of damaged lines after it: more than the first window */
	memset(junk, 'j', sizeof(junk));
	junk[sizeof(junk) - 1] = '\n';
	for (int i = 0; i < (3 << 20) / (int)sizeof(junk); i++)
		test_seg_add(&s, junk, sizeof(junk));
	test_seg_add(&s, "torn", 4);
	test_seg_write(dir_fd, &s, SEGDIR_CURRENT);
	open_seg(SEGDIR_CURRENT, &f);
	ck_assert_int_eq(segfile_last_record(&f, f.size, 4096, &p), 1);
	ck_assert_uint_eq(p.seq, 100);
	ck_assert_uint_eq(p.offset, off);
	/* none before the end of the header */
	ck_assert_int_eq(segfile_last_record(&f, f.hdr_len, 4096, &p), 0);
	ck_assert_int_eq(segfile_last_record(&f, off, 4096, &p), 1);
	ck_assert_uint_eq(p.seq, 99);
}
END_TEST

START_TEST(test_scan_tail_is_recovery)
{
	_cleanup_segfile_ struct segfile f = SEGFILE_INIT;
	struct recover_result res;
	struct test_seg s = { 0 };
	uint64_t off5, off9;

	test_seg_header(&s, 1, test_id);
	for (uint64_t i = 1; i <= 10; i++) {
		uint64_t o = test_seg_record(&s, i, 30, 'x');
		if (i == 5)
			off5 = o;
		if (i == 9)
			off9 = o;
	}
	s.buf[off9 + 35] ^= 4; /* damage near the end: a torn tail from there */
	s.buf[off5 + 35] ^= 4; /* and far back */
	test_seg_write(dir_fd, &s, SEGDIR_CURRENT);
	open_seg(SEGDIR_CURRENT, &f);
	/* with a zone covering only record 9 and 10: 5 is damage, 9.. is cut */
	ck_assert_int_eq(segfile_scan_tail(&f, f.size, f.size - off9, 2000, &res), 0);
	ck_assert(res.have_last);
	ck_assert_uint_eq(res.last_seq, 8);
	ck_assert_uint_eq(res.cut, off9);
	ck_assert_uint_eq(res.damaged, 1);
	/* a zone covering everything: cut at record 5 */
	ck_assert_int_eq(segfile_scan_tail(&f, f.size, f.size, 2000, &res), 0);
	ck_assert_uint_eq(res.last_seq, 4);
	ck_assert_uint_eq(res.cut, off5);
}
END_TEST

START_TEST(test_current_kept)
{
	struct test_seg s = { 0 };
	uint64_t off4;

	ck_assert_uint_eq(segfile_current_kept(dir_fd, 0, 4096), 0); /* no current */
	test_seg_header(&s, 1, test_id);
	for (uint64_t i = 1; i <= 3; i++)
		test_seg_record(&s, i, 20, 'k');
	off4 = test_seg_record(&s, 4, 20, 'k');
	test_seg_record(&s, 5, 20, 'k');
	s.buf[off4 + 30] ^= 2; /* a bad line near the end: recovery cuts 4 and 5 */
	test_seg_write(dir_fd, &s, SEGDIR_CURRENT);
	ck_assert_uint_eq(segfile_current_kept(dir_fd, 0, 4096), 3);
	/* a watermark that covers the last record at the very end: no scan,
	 * since that record is durable; here it shows by the answer */
	ck_assert_uint_eq(segfile_current_kept(dir_fd, 5, 4096), 5);
	test_append_file(dir_fd, SEGDIR_CURRENT, "torn", 4);
	ck_assert_uint_eq(segfile_current_kept(dir_fd, 5, 4096), 3);
}
END_TEST

/* --- the writer's lock and the watermark ------------------------------------------------------- */

START_TEST(test_writer_active_by_device_and_inode)
{
	_cleanup_close_ int lock = -EBADF, other = -EBADF;

	ck_assert(!segfile_writer_active(dir_fd)); /* no lock file */
	lock = openat(dir_fd, SEGDIR_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	ck_assert_int_ge(lock, 0);
	ck_assert(!segfile_writer_active(dir_fd));
	other = openat(dir_fd, "other", O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	ck_assert_int_eq(flock(other, LOCK_EX), 0);
	ck_assert(!segfile_writer_active(dir_fd)); /* another file's lock */
	ck_assert_int_eq(flock(lock, LOCK_SH), 0);
	ck_assert(!segfile_writer_active(dir_fd)); /* a reader's shared lock */
	ck_assert_int_eq(flock(lock, LOCK_EX), 0);
	ck_assert(segfile_writer_active(dir_fd));
	ck_assert_int_eq(flock(lock, LOCK_UN), 0);
	ck_assert(!segfile_writer_active(dir_fd));
}
END_TEST

START_TEST(test_watermark_read)
{
	char buf[WATERMARK_LEN + 1];
	uint8_t id[RECORD_DIR_ID_LEN];
	uint64_t seq = 0;

	ck_assert_int_eq(segfile_read_watermark(dir_fd, id, &seq), -ENOENT);
	watermark_format(test_id, 12345, buf);
	test_put_file(dir_fd, WATERMARK_FILE, buf, WATERMARK_LEN);
	ck_assert_int_eq(segfile_read_watermark(dir_fd, id, &seq), 0);
	ck_assert_uint_eq(seq, 12345);
	ck_assert_mem_eq(id, test_id, RECORD_DIR_ID_LEN);
	test_append_file(dir_fd, WATERMARK_FILE, "x", 1); /* longer than one watermark */
	ck_assert_int_eq(segfile_read_watermark(dir_fd, id, &seq), -EBADMSG);
	test_put_file(dir_fd, WATERMARK_FILE, buf, WATERMARK_LEN - 1);
	ck_assert_int_eq(segfile_read_watermark(dir_fd, id, &seq), -EBADMSG);
	test_put_file(dir_fd, WATERMARK_FILE, "", 0);
	ck_assert_int_eq(segfile_read_watermark(dir_fd, id, &seq), -EBADMSG);
	ck_assert_int_eq(unlinkat(dir_fd, WATERMARK_FILE, 0), 0);
	ck_assert_int_eq(mkdirat(dir_fd, WATERMARK_FILE, 0755), 0);
	ck_assert_int_eq(segfile_read_watermark(dir_fd, id, &seq), -EBADMSG);
}
END_TEST

START_TEST(test_limits)
{
	ck_assert_uint_eq(segfile_line_max(65536), record_line_max(RECORD_TAG_MAX, 65536));
	ck_assert_uint_eq(segfile_unsynced_max(65536),
			  SEGFILE_WRITE_MAX + record_line_max(RECORD_TAG_MAX, 65536));
	ck_assert_uint_gt(segfile_unsynced_max(SEGFILE_MAX_RECORD), segfile_unsynced_max(65536));
}
END_TEST

static Suite *
segfile_suite(void)
{
	Suite *s = suite_create("segfile");
	TCase *tc = tcase_create("segfile");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_dir_id_rule);
	tcase_add_test(tc, test_dir_id_not_regular);
	tcase_add_test(tc, test_open_checks_type);
	tcase_add_test(tc, test_header_rules);
	tcase_add_test(tc, test_list_sorted_and_flags_irregular);
	tcase_add_test(tc, test_iter_records_damage_torn);
	tcase_add_test(tc, test_iter_long_lines_and_overlong);
	tcase_add_test(tc, test_iter_skip_partial_and_meta);
	tcase_add_test(tc, test_probe_first_line_longer_than_64k);
	tcase_add_test(tc, test_last_record_behind_damage);
	tcase_add_test(tc, test_scan_tail_is_recovery);
	tcase_add_test(tc, test_current_kept);
	tcase_add_test(tc, test_writer_active_by_device_and_inode);
	tcase_add_test(tc, test_watermark_read);
	tcase_add_test(tc, test_limits);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_run_suite(segfile_suite());
}
