/* reader: seeks and reads across a rotation that happens between them.
 * The directories are built with the record encoder (testseg.h), and the
 * rotation is done as seglogd does it: `current` renamed to its sealed
 * name, a new `current` created. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reader.h"
#include "segdir.h"
#include "testseg.h"
#include "testutil.h"

static char *dir;
static int dir_fd = -EBADF;
static const uint8_t test_id[RECORD_DIR_ID_LEN] = { 7, 7, 7, 7, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };

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

/* Writes the segment holding seqs first..last as name (version 2). */
static void
make_seg(const char *name, uint64_t first, uint64_t last)
{
	struct test_seg s = { .version = 2 };

	test_seg_header(&s, first, test_id);
	for (uint64_t q = first; q <= last; q++)
		test_seg_record(&s, q, 40, 'a' + (char)(q % 26));
	test_seg_write(dir_fd, &s, name);
}

static void
make_sealed(uint64_t first, uint64_t last)
{
	char name[SEGDIR_NAME_LEN + 1];

	segdir_name(first, name);
	make_seg(name, first, last);
}

/* A rotation: `current` (first seq first) sealed, a new one holding
 * next..last. */
static void
rotate(uint64_t first, uint64_t next, uint64_t last)
{
	char name[SEGDIR_NAME_LEN + 1];

	segdir_name(first, name);
	ck_assert_int_eq(renameat(dir_fd, SEGDIR_CURRENT, dir_fd, name), 0);
	make_seg(SEGDIR_CURRENT, next, last);
}

/* Reads everything there is now; checks it is exactly seqs from..to, in
 * order, with no gap, damage or other event. */
static void
expect_records(struct reader *rd, uint64_t from, uint64_t to)
{
	struct reader_event ev;
	uint64_t want = from;
	int k;

	while ((k = reader_next(rd, &ev)) > 0) {
		ck_assert_msg(ev.type == READER_RECORD, "event %d at %s:%" PRIu64 " (gap %" PRIu64
			      "..%" PRIu64 ") while %" PRIu64 " was due", (int)ev.type, ev.file,
			      ev.offset, ev.gap_first, ev.gap_last, want);
		ck_assert_uint_eq(ev.rec.seq, want);
		want++;
	}
	ck_assert_int_eq(k, 0);
	ck_assert_uint_eq(want, to + 1);
}

/* A cursor's seek lands in `current`; before the first read, a rotation
 * seals it and starts a new one.  The old code reopened `current` by name
 * and applied the old file's offset to the new one: tail -f reported the
 * records sealed meanwhile as missing (seen failing before the fix). */
START_TEST(test_seek_seq_then_rotation)
{
	_cleanup_(reader_freep) struct reader *rd = NULL;

	make_sealed(1, 10);
	make_seg(SEGDIR_CURRENT, 11, 20);
	ck_assert_int_eq(reader_open(dir, &rd), 0);
	ck_assert_int_eq(reader_seek_seq(rd, 15), 0);
	rotate(11, 21, 25);
	expect_records(rd, 15, 25);
}
END_TEST

/* The same for a seek by time (--since): nothing reports a gap there, so
 * the old code skipped the records silently. */
START_TEST(test_seek_time_then_rotation)
{
	_cleanup_(reader_freep) struct reader *rd = NULL;

	make_sealed(1, 10);
	make_seg(SEGDIR_CURRENT, 11, 20);
	ck_assert_int_eq(reader_open(dir, &rd), 0);
	ck_assert_int_eq(reader_seek_time(rd, 1700000000000000ull + 13 * 1000000ull), 0);
	rotate(11, 21, 25);
	expect_records(rd, 13, 25);
}
END_TEST

/* Two rotations between the seek and the first read: the sealed segment
 * the seek chose, then the one after it, then `current`. */
START_TEST(test_seek_then_two_rotations)
{
	_cleanup_(reader_freep) struct reader *rd = NULL;

	make_sealed(1, 10);
	make_seg(SEGDIR_CURRENT, 11, 20);
	ck_assert_int_eq(reader_open(dir, &rd), 0);
	ck_assert_int_eq(reader_seek_seq(rd, 18), 0);
	rotate(11, 21, 30);
	rotate(21, 31, 33);
	expect_records(rd, 18, 33);
}
END_TEST

/* A seek into a sealed segment, then a rotation: unchanged behaviour
 * (sealed names are stable). */
START_TEST(test_seek_sealed_then_rotation)
{
	_cleanup_(reader_freep) struct reader *rd = NULL;

	make_sealed(1, 10);
	make_sealed(11, 20);
	make_seg(SEGDIR_CURRENT, 21, 30);
	ck_assert_int_eq(reader_open(dir, &rd), 0);
	ck_assert_int_eq(reader_seek_seq(rd, 5), 0);
	rotate(21, 31, 35);
	expect_records(rd, 5, 35);
}
END_TEST

/* No `current` at the moment of the seek (between the rename and the new
 * one): the seek ends in the last sealed segment and reading goes on into
 * the `current` that appears. */
START_TEST(test_seek_without_current)
{
	_cleanup_(reader_freep) struct reader *rd = NULL;

	make_sealed(1, 10);
	make_sealed(11, 20);
	ck_assert_int_eq(reader_open(dir, &rd), 0);
	ck_assert_int_eq(reader_seek_seq(rd, 25), 0);
	make_seg(SEGDIR_CURRENT, 21, 30);
	expect_records(rd, 25, 30);
}
END_TEST

static Suite *
reader_suite(void)
{
	Suite *s = suite_create("reader");
	TCase *tc = tcase_create("seek");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_seek_seq_then_rotation);
	tcase_add_test(tc, test_seek_time_then_rotation);
	tcase_add_test(tc, test_seek_then_two_rotations);
	tcase_add_test(tc, test_seek_sealed_then_rotation);
	tcase_add_test(tc, test_seek_without_current);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_run_suite(reader_suite());
}
