/* reader: seeks and reads across a rotation that happens between them,
 * and every event reader_next() gives and every way it stops.  The
 * directories are built with the record encoder (testseg.h), and the
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

	while ((k = reader_next(rd, &ev)) == READER_NEXT_EVENT) {
		ck_assert_msg(ev.type == READER_RECORD, "event %d at %s:%" PRIu64 " (gap %" PRIu64
			      "..%" PRIu64 ") while %" PRIu64 " was due", (int)ev.type, ev.file,
			      ev.offset, ev.gap_first, ev.gap_last, want);
		ck_assert_uint_eq(ev.rec.seq, want);
		want++;
	}
	ck_assert_int_eq(k, READER_NEXT_WAIT);
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

/* --- reader_next(): every event and every way it stops ------------------ */

/* Reads up to max events (0: until reader_next() has nothing more for now
 * or fails) and writes what it gave, space-separated: "rN" a record, "gA-B"
 * a gap ("GA-B" at the start: retention), "d@OFF" damage ("c@OFF": the
 * incomplete last line of current), "b:NAME" a bad segment, "i" a damaged
 * dir-id, "m" a meta line; then "." for "nothing more for now", or "eN"
 * for the error -N. */
static void
trace_n(struct reader *rd, unsigned max, char *buf, size_t cap)
{
	struct reader_event ev;
	size_t n = 0;

	buf[0] = 0;
	for (unsigned i = 0; max == 0 || i < max; i++) {
		int k = reader_next(rd, &ev);
		if (n >= cap - 64) {
			fprintf(stderr, "trace: %s\n", buf);
			ck_abort_msg("reader_next() does not stop");
		}
		if (k != READER_NEXT_EVENT) {
			if (k == READER_NEXT_WAIT)
				n += (size_t)snprintf(buf + n, cap - n, "%s.", n ? " " : "");
			else
				n += (size_t)snprintf(buf + n, cap - n, "%se%d", n ? " " : "", -k);
			return;
		}
		if (n)
			buf[n++] = ' ';
		switch (ev.type) {
		case READER_RECORD:
			n += (size_t)snprintf(buf + n, cap - n, "r%" PRIu64, ev.rec.seq);
			break;
		case READER_GAP:
			n += (size_t)snprintf(buf + n, cap - n, "%c%" PRIu64 "-%" PRIu64,
					      ev.gap_at_start ? 'G' : 'g', ev.gap_first, ev.gap_last);
			break;
		case READER_DAMAGED:
			n += (size_t)snprintf(buf + n, cap - n, "%c@%" PRIu64,
					      ev.in_current ? 'c' : 'd', ev.offset);
			break;
		case READER_BAD_SEGMENT:
			n += (size_t)snprintf(buf + n, cap - n, "b:%s", ev.file);
			break;
		case READER_BAD_DIR_ID:
			n += (size_t)snprintf(buf + n, cap - n, "i");
			break;
		case READER_META:
			n += (size_t)snprintf(buf + n, cap - n, "m");
			break;
		}
		buf[n] = 0;
	}
}

#define ck_trace(rd, max, want)                                          \
	do {                                                             \
		char _t[4096];                                           \
		trace_n(rd, max, _t, sizeof(_t));                        \
		ck_assert_str_eq(_t, want);                              \
	} while (0)

/* Sealed segments and current in order, then "nothing more"; again
 * "nothing more" (no event twice). */
START_TEST(test_next_in_order)
{
	_cleanup_(reader_freep) struct reader *rd = NULL;

	make_sealed(1, 3);
	make_sealed(4, 5);
	make_seg(SEGDIR_CURRENT, 6, 7);
	ck_assert_int_eq(reader_open(dir, &rd), 0);
	ck_trace(rd, 0, "r1 r2 r3 r4 r5 r6 r7 .");
	ck_trace(rd, 0, ".");
}
END_TEST

/* An empty directory, and one with only sealed segments. */
START_TEST(test_next_nothing)
{
	_cleanup_(reader_freep) struct reader *rd = NULL;

	ck_assert_int_eq(reader_open(dir, &rd), 0);
	ck_trace(rd, 0, ".");
	make_sealed(1, 2);
	ck_trace(rd, 0, "r1 r2 .");
}
END_TEST

/* Missing seqs between segments: a GAP, then the record behind it; from a
 * seek before the oldest segment: a gap at the start (retention). */
START_TEST(test_next_gaps)
{
	_cleanup_(reader_freep) struct reader *rd = NULL;

	make_sealed(4, 5);
	make_sealed(8, 9);
	make_seg(SEGDIR_CURRENT, 10, 10);
	ck_assert_int_eq(reader_open(dir, &rd), 0);
	ck_trace(rd, 0, "r4 r5 g6-7 r8 r9 r10 .");
	ck_assert_int_eq(reader_seek_seq(rd, 1), 0);
	ck_trace(rd, 0, "G1-3 r4 r5 g6-7 r8 r9 r10 .");
}
END_TEST

/* A sealed segment that vanishes (retention) after the one before it was
 * read: the gap it leaves is a gap at the start, not damage. */
START_TEST(test_next_vanished)
{
	_cleanup_(reader_freep) struct reader *rd = NULL;
	char name[SEGDIR_NAME_LEN + 1];

	make_sealed(1, 2);
	make_sealed(3, 4);
	make_seg(SEGDIR_CURRENT, 5, 5);
	ck_assert_int_eq(reader_open(dir, &rd), 0);
	ck_trace(rd, 2, "r1 r2");
	segdir_name(3, name);
	ck_assert_int_eq(unlinkat(dir_fd, name, 0), 0);
	ck_trace(rd, 0, "G3-4 r5 .");
}
END_TEST

/* A seek back after everything was read, then the segment it landed in
 * vanishes before it is opened: the new listing must still offer the
 * segments after it, although they were read to their end before the seek
 * (the reader remembers that, in done_first; the seek's target is what
 * counts now). */
START_TEST(test_seek_back_then_vanished)
{
	_cleanup_(reader_freep) struct reader *rd = NULL;
	char name[SEGDIR_NAME_LEN + 1];

	make_sealed(1, 2);
	make_sealed(3, 4);
	make_sealed(5, 6);
	make_seg(SEGDIR_CURRENT, 7, 7);
	ck_assert_int_eq(reader_open(dir, &rd), 0);
	ck_trace(rd, 0, "r1 r2 r3 r4 r5 r6 r7 .");
	ck_assert_int_eq(reader_seek_seq(rd, 1), 0);
	segdir_name(1, name);
	ck_assert_int_eq(unlinkat(dir_fd, name, 0), 0);
	ck_trace(rd, 0, "G1-2 r3 r4 r5 r6 r7 .");
}
END_TEST

/* Something named like a segment that is not a regular file: reported,
 * then skipped. */
START_TEST(test_next_bad_segment)
{
	_cleanup_(reader_freep) struct reader *rd = NULL;
	char name[SEGDIR_NAME_LEN + 1], want[256];

	make_sealed(1, 2);
	segdir_name(5, name);
	ck_assert_int_eq(mkdirat(dir_fd, name, 0755), 0);
	make_sealed(7, 8);
	make_seg(SEGDIR_CURRENT, 9, 9);
	ck_assert_int_eq(reader_open(dir, &rd), 0);
	snprintf(want, sizeof(want), "r1 r2 b:%s g3-6 r7 r8 r9 .", name);
	ck_trace(rd, 0, want);
}
END_TEST

/* A bad segment named by the seq after the last record read is reported
 * once, then passed over.  The old code went back to it from the segment
 * after it (sealed, or current), or picked it again from a new listing,
 * and reported it for ever: seglog cat never ended (each seen failing). */
static void
bad_segment_next(bool regular, uint64_t after, bool sealed_after)
{
	_cleanup_(reader_freep) struct reader *rd = NULL;
	static const char junk[] = "not a header\n";
	char name[SEGDIR_NAME_LEN + 1], want[256];

	segdir_name(3, name);
	make_sealed(1, 2);
	if (regular)
		test_put_file(dir_fd, name, junk, sizeof(junk) - 1);
	else
		ck_assert_int_eq(mkdirat(dir_fd, name, 0755), 0);
	if (sealed_after)
		make_sealed(after, after + 1);
	else if (after)
		make_seg(SEGDIR_CURRENT, after, after);
	ck_assert_int_eq(reader_open(dir, &rd), 0);
	if (sealed_after)
		snprintf(want, sizeof(want), "r1 r2 b:%s g3-%" PRIu64 " r%" PRIu64 " r%" PRIu64 " .",
			 name, after - 1, after, after + 1);
	else if (after)
		snprintf(want, sizeof(want), "r1 r2 b:%s g3-%" PRIu64 " r%" PRIu64 " .", name,
			 after - 1, after);
	else
		snprintf(want, sizeof(want), "r1 r2 b:%s .", name);
	ck_trace(rd, 0, want);
	ck_trace(rd, 0, ".");
}

START_TEST(test_next_bad_segment_then_sealed)
{
	bad_segment_next(true, 7, true);
}
END_TEST

START_TEST(test_next_bad_segment_then_current)
{
	bad_segment_next(true, 7, false);
}
END_TEST

START_TEST(test_next_bad_segment_last)
{
	bad_segment_next(false, 0, false);
}
END_TEST

/* A damaged line inside a sealed segment is reported and skipped; a torn
 * last line of current is reported once (in_current), and reading stays
 * there. */
START_TEST(test_next_damage)
{
	_cleanup_(reader_freep) struct reader *rd = NULL;
	struct test_seg s = { .version = 2 };
	static const char garbage[] = "this is no record line\n", torn[] = "2026-01-01 partial";
	char name[SEGDIR_NAME_LEN + 1], want[256];
	uint64_t bad_off, torn_off;

	test_seg_header(&s, 1, test_id);
	test_seg_record(&s, 1, 10, 'a');
	bad_off = s.len;
	test_seg_add(&s, garbage, sizeof(garbage) - 1);
	test_seg_record(&s, 2, 10, 'b');
	segdir_name(1, name);
	test_seg_write(dir_fd, &s, name);
	s = (struct test_seg){ .version = 2 };
	test_seg_header(&s, 3, test_id);
	test_seg_record(&s, 3, 10, 'c');
	torn_off = s.len;
	test_seg_add(&s, torn, sizeof(torn) - 1);
	test_seg_write(dir_fd, &s, SEGDIR_CURRENT);
	ck_assert_int_eq(reader_open(dir, &rd), 0);
	snprintf(want, sizeof(want), "r1 d@%" PRIu64 " r2 r3 c@%" PRIu64 " .", bad_off, torn_off);
	ck_trace(rd, 0, want);
	ck_trace(rd, 0, ".");
}
END_TEST

/* A damaged DIR/dir-id is said first, once; the headers are then checked
 * against the first one read. */
START_TEST(test_next_bad_dir_id)
{
	_cleanup_(reader_freep) struct reader *rd = NULL;
	static const char junk[] = "nonsense\n";

	test_put_file(dir_fd, SEGDIR_DIR_ID, junk, sizeof(junk) - 1);
	make_sealed(1, 2);
	make_seg(SEGDIR_CURRENT, 3, 3);
	ck_assert_int_eq(reader_open(dir, &rd), 0);
	ck_trace(rd, 0, "i r1 r2 r3 .");
}
END_TEST

/* A directory whose id is not the one required: -EXDEV before any record,
 * and again at the next call. */
START_TEST(test_next_wrong_dir)
{
	_cleanup_(reader_freep) struct reader *rd = NULL;
	uint8_t other[RECORD_DIR_ID_LEN] = { 1 };
	char want[32];

	make_sealed(1, 2);
	make_seg(SEGDIR_CURRENT, 3, 3);
	ck_assert_int_eq(reader_open(dir, &rd), 0);
	reader_require_dir_id(rd, other);
	snprintf(want, sizeof(want), "e%d", EXDEV);
	ck_trace(rd, 0, want);
	ck_trace(rd, 0, want);
}
END_TEST

/* Following: "nothing more" at the end of current, then what is appended,
 * then across a rotation into the next current.  A torn last line is not
 * reported while following (a writer may be writing it); once its file is
 * sealed it is damage. */
START_TEST(test_next_follow)
{
	_cleanup_(reader_freep) struct reader *rd = NULL;
	struct test_seg s = { .version = 2 };
	static const char torn[] = "2026-01-01 partial";
	struct stat st;
	char want[64];
	uint64_t torn_off;

	make_sealed(1, 2);
	make_seg(SEGDIR_CURRENT, 3, 4);
	ck_assert_int_eq(reader_open(dir, &rd), 0);
	reader_set_follow(rd, true);
	ck_trace(rd, 0, "r1 r2 r3 r4 .");
	ck_assert_int_eq(fstatat(dir_fd, SEGDIR_CURRENT, &st, 0), 0);
	test_seg_record(&s, 5, 10, 'e');
	test_seg_record(&s, 6, 10, 'f');
	torn_off = (uint64_t)st.st_size + s.len;
	test_seg_add(&s, torn, sizeof(torn) - 1);
	test_append_file(dir_fd, SEGDIR_CURRENT, s.buf, s.len);
	free(s.buf);
	ck_trace(rd, 0, "r5 r6 .");
	ck_trace(rd, 0, ".");
	rotate(3, 7, 8);
	snprintf(want, sizeof(want), "d@%" PRIu64 " r7 r8 .", torn_off);
	ck_trace(rd, 0, want);
}
END_TEST

/* Following with no current (between a seal and the new current): wait,
 * then go on in the current that appears. */
START_TEST(test_next_follow_no_current)
{
	_cleanup_(reader_freep) struct reader *rd = NULL;

	make_sealed(1, 2);
	ck_assert_int_eq(reader_open(dir, &rd), 0);
	reader_set_follow(rd, true);
	ck_trace(rd, 0, "r1 r2 .");
	ck_trace(rd, 0, ".");
	make_seg(SEGDIR_CURRENT, 3, 4);
	ck_trace(rd, 0, "r3 r4 .");
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
	tc = tcase_create("next");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_next_in_order);
	tcase_add_test(tc, test_next_nothing);
	tcase_add_test(tc, test_next_gaps);
	tcase_add_test(tc, test_next_vanished);
	tcase_add_test(tc, test_seek_back_then_vanished);
	tcase_add_test(tc, test_next_bad_segment);
	tcase_add_test(tc, test_next_bad_segment_then_sealed);
	tcase_add_test(tc, test_next_bad_segment_then_current);
	tcase_add_test(tc, test_next_bad_segment_last);
	tcase_add_test(tc, test_next_damage);
	tcase_add_test(tc, test_next_bad_dir_id);
	tcase_add_test(tc, test_next_wrong_dir);
	tcase_add_test(tc, test_next_follow);
	tcase_add_test(tc, test_next_follow_no_current);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_run_suite(reader_suite());
}
