/* cursor: the format byte for byte, the refusal of another directory's
 * cursor, and saving at most once per interval through the atomic-file
 * guard. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cursor.h"
#include "testutil.h"

static const struct cursor test_cursor = {
	.dir_id = { 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 1, 2, 3, 4, 5, 6, 7, 8 },
	.seq = 40100,
};
static const char test_line[] = "seglog-cursor 1 123456789abcdef00102030405060708 40100\n";

static char *dir, *data, *path;

static void
setup(void)
{
	dir = test_mkdtemp();
	ck_assert_int_ge(asprintf(&data, "%s/data", dir), 0);
	ck_assert_int_ge(asprintf(&path, "%s/cursor", dir), 0);
	ck_assert_int_eq(mkdir(data, 0755), 0);
}

static void
teardown(void)
{
	test_rm_rf(dir);
	free(dir);
	free(data);
	free(path);
}

static void
write_path(const char *content)
{
	FILE *f = fopen(path, "we");
	ck_assert_ptr_nonnull(f);
	fputs(content, f);
	ck_assert_int_eq(fclose(f), 0);
}

START_TEST(test_format_exact)
{
	char buf[CURSOR_LEN_MAX];
	struct cursor c = test_cursor;
	size_t n = cursor_format(&c, buf);

	ck_assert_uint_eq(n, sizeof(test_line) - 1);
	ck_assert_int_eq(memcmp(buf, test_line, n), 0);
	c.seq = 0;
	n = cursor_format(&c, buf);
	ck_assert_int_eq(memcmp(buf + n - 3, " 0\n", 3), 0);
	c.seq = UINT64_MAX;
	ck_assert_uint_eq(cursor_format(&c, buf), CURSOR_LEN_MAX - 21); /* version 1 */
	c.time_us = UINT64_MAX;
	ck_assert_uint_eq(cursor_format(&c, buf), CURSOR_LEN_MAX);
	c.seq = 40100;
	c.time_us = 1764547200123456;
	n = cursor_format(&c, buf);
	ck_assert_int_eq(memcmp(buf, "seglog-cursor 2 ", 16), 0);
	ck_assert_int_eq(memcmp(buf + n - 24, " 40100 1764547200123456\n", 24), 0);
}
END_TEST

START_TEST(test_parse_roundtrip)
{
	static const uint64_t seqs[] = { 0, 1, 9, 10, 40100, UINT64_MAX - 1, UINT64_MAX };
	char buf[CURSOR_LEN_MAX];
	struct cursor c = test_cursor, got;

	for (size_t i = 0; i < ELEMENTSOF(seqs); i++) {
		c.seq = seqs[i];
		ck_assert_int_eq(cursor_parse(buf, cursor_format(&c, buf), &got), 0);
		ck_assert_uint_eq(got.seq, seqs[i]);
		ck_assert_uint_eq(got.time_us, 0);
		ck_assert_mem_eq(got.dir_id, c.dir_id, RECORD_DIR_ID_LEN);
		c.time_us = seqs[i] ? seqs[i] : 1; /* version 2 */
		ck_assert_int_eq(cursor_parse(buf, cursor_format(&c, buf), &got), 0);
		ck_assert_uint_eq(got.seq, seqs[i]);
		ck_assert_uint_eq(got.time_us, c.time_us);
		c.time_us = 0;
	}
}
END_TEST

START_TEST(test_parse_rejects)
{
	static const char *const bad[] = {
		"40100\n", /* the old bare seq: it cannot be checked against a directory */
		"seglog-cursor 1 123456789abcdef00102030405060708 40100",
		"seglog-cursor 1 123456789abcdef00102030405060708 040100\n",
		"seglog-cursor 1 123456789abcdef00102030405060708 \n",
		"seglog-cursor 1 123456789abcdef00102030405060708 4o100\n",
		"seglog-cursor 1 123456789abcdef00102030405060708 18446744073709551616\n",
		"seglog-cursor 1 123456789ABCDEF00102030405060708 40100\n",
		"seglog-cursor 1 123456789abcdef0010203040506070 40100\n",
		"seglog-cursor 2 123456789abcdef00102030405060708 40100\n", /* 2 needs a time */
		"seglog-cursor 1 123456789abcdef00102030405060708 40100 17\n", /* 1 has none */
		"seglog-cursor 2 123456789abcdef00102030405060708 40100 0\n",
		"seglog-cursor 2 123456789abcdef00102030405060708 40100 017\n",
		"seglog-cursor 2 123456789abcdef00102030405060708 40100 17 \n",
		"seglog-cursor 2 123456789abcdef00102030405060708 40100  17\n",
		"seglog-cursor 2 123456789abcdef00102030405060708 40100 18446744073709551616\n",
		"seglog-cursor 3 123456789abcdef00102030405060708 40100 17\n",
		"seglog-cursorX1 123456789abcdef00102030405060708 40100\n",
		"seglog-cursor 1 123456789abcdef00102030405060708 40100\n\n",
		"seglog-cursor 1 123456789abcdef00102030405060708  40100\n",
		"seglog-ship-cursor 1 123456789abcdef00102030405060708 40100\n",
		"",
	};
	struct cursor got = { .seq = 7 };

	for (size_t i = 0; i < ELEMENTSOF(bad); i++)
		ck_assert_msg(cursor_parse(bad[i], strlen(bad[i]), &got) == -EBADMSG, "case %zu", i);
	ck_assert_uint_eq(got.seq, 7); /* untouched on error */
}
END_TEST

START_TEST(test_check_dir)
{
	uint8_t other[RECORD_DIR_ID_LEN];

	ck_assert_int_eq(cursor_check_dir(&test_cursor, test_cursor.dir_id), 0);
	memcpy(other, test_cursor.dir_id, sizeof(other));
	other[15] ^= 1;
	ck_assert_int_eq(cursor_check_dir(&test_cursor, other), -EXDEV);
}
END_TEST

START_TEST(test_open_refuses_data_directory)
{
	_cleanup_cursor_file_ struct cursor_file f = CURSOR_FILE_INIT;
	_cleanup_free_ char *inside = NULL, *slash = NULL, *missing = NULL;
	int fds = test_count_fds();

	ck_assert_int_ge(asprintf(&inside, "%s/cursor", data), 0);
	ck_assert_int_ge(asprintf(&slash, "%s/", dir), 0);
	ck_assert_int_ge(asprintf(&missing, "%s/nodir/cursor", dir), 0);
	ck_assert_int_eq(cursor_file_open(&f, inside, data, 0), -EROFS);
	ck_assert_int_eq(cursor_file_open(&f, slash, data, 0), -EISDIR);
	ck_assert_int_eq(cursor_file_open(&f, missing, data, 0), -ENOENT);
	ck_assert_int_eq(test_count_fds(), fds);
	ck_assert_int_eq(cursor_file_open(&f, path, data, 0), 0);
	ck_assert_int_eq(test_count_fds(), fds + 1);
	cursor_file_close(&f);
	cursor_file_close(&f);
	ck_assert_int_eq(test_count_fds(), fds);
}
END_TEST

START_TEST(test_load)
{
	_cleanup_cursor_file_ struct cursor_file f = CURSOR_FILE_INIT;
	struct cursor c;

	ck_assert_int_eq(cursor_file_open(&f, path, data, 0), 0);
	ck_assert_int_eq(cursor_file_load(&f, &c), -ENOENT);
	write_path("100\n");
	ck_assert_int_eq(cursor_file_load(&f, &c), -EBADMSG);
	write_path(test_line);
	ck_assert_int_eq(cursor_file_load(&f, &c), 0);
	ck_assert_uint_eq(c.seq, 40100);
	ck_assert_mem_eq(c.dir_id, test_cursor.dir_id, RECORD_DIR_ID_LEN);
	/* what was loaded counts as saved: nothing to write */
	ck_assert_int_eq(cursor_file_due_in(&f, &c, 5), -1);
	ck_assert_int_eq(cursor_file_save(&f, &c, 5, true), 0);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	ck_assert_int_ne(cursor_file_load(&f, &c), 0);
}
END_TEST

START_TEST(test_save_at_most_every_interval)
{
	_cleanup_cursor_file_ struct cursor_file f = CURSOR_FILE_INIT;
	_cleanup_free_ char *text = NULL;
	struct cursor c = test_cursor, got;
	const uint64_t second = 1000000;

	ck_assert_int_eq(cursor_file_open(&f, path, data, second), 0);
	ck_assert_int_eq(cursor_file_due_in(&f, &c, 10 * second), 0);
	ck_assert_int_eq(cursor_file_save(&f, &c, 10 * second, false), 1);
	text = test_read_file(path, NULL);
	ck_assert_str_eq(text, test_line);
	ck_assert_int_eq(test_count_entries(dir), 2); /* data/ and cursor: no temporary */
	ck_assert_int_eq(cursor_file_save(&f, &c, 10 * second, false), 0); /* unchanged */

	c.seq = 40200;
	ck_assert_int_eq(cursor_file_due_in(&f, &c, 10 * second + 300000), 700000);
	ck_assert_int_eq(cursor_file_save(&f, &c, 10 * second + 300000, false), 0);
	ck_assert_int_eq(cursor_file_load(&f, &got), 0);
	ck_assert_uint_eq(got.seq, 40100); /* not yet */
	ck_assert_int_eq(cursor_file_save(&f, &c, 11 * second, false), 1);
	ck_assert_int_eq(cursor_file_load(&f, &got), 0);
	ck_assert_uint_eq(got.seq, 40200);

	c.seq = 40300; /* at exit: forced */
	ck_assert_int_eq(cursor_file_save(&f, &c, 11 * second + 1, true), 1);
	ck_assert_int_eq(cursor_file_load(&f, &got), 0);
	ck_assert_uint_eq(got.seq, 40300);
	ck_assert_int_eq(test_count_entries(dir), 2);
	{
		struct stat st;
		ck_assert_int_eq(stat(path, &st), 0);
		ck_assert(S_ISREG(st.st_mode));
	}
}
END_TEST

static Suite *
cursor_suite(void)
{
	Suite *s = suite_create("cursor");
	TCase *tc = tcase_create("cursor");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_format_exact);
	tcase_add_test(tc, test_parse_roundtrip);
	tcase_add_test(tc, test_parse_rejects);
	tcase_add_test(tc, test_check_dir);
	tcase_add_test(tc, test_open_refuses_data_directory);
	tcase_add_test(tc, test_load);
	tcase_add_test(tc, test_save_at_most_every_interval);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_run_suite(cursor_suite());
}
