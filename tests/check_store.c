/* The data directory: recovery, rotation steps, locking, retention. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../src/log.h"
#include "../src/recover.h"
#include "../src/store.h"
#include "testutil.h"

static char *dir;

static void
setup(void)
{
	dir = test_mkdtemp();
	log_set_max_level(LOG_WARNING);
}

static void
teardown(void)
{
	test_rm_rf(dir);
	free(dir);
}

static struct store_config
test_config(void)
{
	return (struct store_config){
		.dir = dir,
		.dir_mode = 0750,
		.file_mode = 0640,
		.max_record = 4096,
	};
}

static struct store *
open_store(const struct fsops *ops)
{
	struct store_config cfg = test_config();
	struct store *s = NULL;
	ck_assert_int_eq(store_open(&cfg, ops ? ops : &fsops_syscall, &s), 0);
	return s;
}

/* Appends n records straight into current (what the engine does, without
 * the ring), returning the bytes written. */
static uint64_t
append_records(struct store *s, int n)
{
	char line[8192], msg[128];
	uint64_t total = 0;

	for (int i = 0; i < n; i++) {
		int ml = snprintf(msg, sizeof(msg), "message %llu", (unsigned long long)s->next_seq);
		struct record r = {
			.seq = s->next_seq++,
			.time_us = 1700000000000000ull + s->next_seq,
			.pid = 42, .uid = 1000, .gid = 1000,
			.facility = 1, .severity = 6,
			.tag = "test", .tag_len = 4,
			.msg = msg, .msg_len = (size_t)ml,
			.claimed_pid = RECORD_NO_CLAIMED_PID,
		};
		size_t len = record_encode(&r, line);
		ck_assert_int_eq(pwrite(s->cur_fd, line, len, (off_t)s->cur_size), (ssize_t)len);
		s->cur_size += len;
		s->cur_records++;
		total += len;
	}
	return total;
}

static off_t
file_size(const char *name)
{
	char p[4096];
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	if (stat(p, &st) < 0)
		return -1;
	return st.st_size;
}

static bool
exists(const char *name)
{
	return file_size(name) >= 0;
}

START_TEST(test_first_start_creates_layout)
{
	struct store *s = open_store(NULL);
	ck_assert_uint_eq(s->next_seq, 1);
	ck_assert(exists("current"));
	ck_assert(exists("lock"));
	ck_assert(exists("dir-id"));
	ck_assert_uint_eq(s->cur_hdr.first_seq, 1);
	store_free(s);
	/* reopen: same directory id, same next seq */
	s = open_store(NULL);
	ck_assert_uint_eq(s->next_seq, 1);
	store_free(s);
}
END_TEST

START_TEST(test_second_writer_refused)
{
	struct store_config cfg = test_config();
	struct store *s = open_store(NULL), *t = NULL;
	ck_assert_int_eq(store_open(&cfg, &fsops_syscall, &t), -EBUSY);
	ck_assert_ptr_null(t);
	store_free(s);
	s = open_store(NULL); /* the lock went with the first writer */
	store_free(s);
}
END_TEST

START_TEST(test_refuses_world_writable_dir)
{
	struct store_config cfg = test_config();
	struct store *s = NULL;
	ck_assert_int_eq(chmod(dir, 0777), 0);
	ck_assert_int_eq(store_open(&cfg, &fsops_syscall, &s), -EPERM);
	ck_assert_int_eq(chmod(dir, 0750), 0);
}
END_TEST

START_TEST(test_reopen_continues_seq)
{
	struct store *s = open_store(NULL);
	append_records(s, 10);
	store_free(s);
	s = open_store(NULL);
	ck_assert_uint_eq(s->next_seq, 11);
	ck_assert_uint_eq(s->cur_records, 10);
	store_free(s);
}
END_TEST

/* Cuts current at every byte offset inside its last two records: the
 * complete records survive, the rest moves to quarantine/. */
START_TEST(test_recovery_at_every_cut)
{
	struct store *s = open_store(NULL);
	uint64_t before_last2, size;
	char path[4096];
	_cleanup_free_ char *orig = NULL;
	size_t orig_len;

	append_records(s, 8);
	before_last2 = s->cur_size;
	append_records(s, 1);
	uint64_t rec9_end = s->cur_size;
	append_records(s, 1);
	size = s->cur_size;
	store_free(s);
	snprintf(path, sizeof(path), "%s/current", dir);
	orig = test_read_file(path, &orig_len);
	ck_assert_uint_eq(orig_len, size);

	for (uint64_t cut = before_last2; cut <= size; cut++) {
		int fd = open(path, O_WRONLY | O_TRUNC);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(write(fd, orig, cut), (ssize_t)cut);
		close(fd);
		char q[4096];
		snprintf(q, sizeof(q), "%s/quarantine", dir);
		test_rm_rf(q);

		s = open_store(NULL);
		uint64_t want = cut >= size ? 10 : cut >= rec9_end ? 9 : 8;
		ck_assert_uint_eq(s->next_seq, want + 1);
		uint64_t kept = want == 10 ? size : want == 9 ? rec9_end : before_last2;
		ck_assert_uint_eq(s->cur_size, kept);
		ck_assert_int_eq(file_size("current"), (off_t)kept);
		if (cut > kept)
			ck_assert_int_eq(test_count_entries(q), 1);
		else
			ck_assert_int_eq(access(q, F_OK), -1);
		store_free(s);
	}
}
END_TEST

START_TEST(test_garbage_tail_quarantined)
{
	struct store *s = open_store(NULL);
	append_records(s, 5);
	uint64_t good = s->cur_size;
	/* a crash after the size grew but before the data arrived: zeros */
	char zeros[3000] = { 0 };
	ck_assert_int_eq(pwrite(s->cur_fd, zeros, sizeof(zeros), (off_t)good), (ssize_t)sizeof(zeros));
	store_free(s);
	s = open_store(NULL);
	ck_assert_uint_eq(s->next_seq, 6);
	ck_assert_uint_eq(s->cur_size, good);
	ck_assert_uint_eq(s->quarantined_bytes, sizeof(zeros));
	store_free(s);
}
END_TEST

/* Fault injection for the seal sequence: fail the n'th operation. */
struct faulty {
	int calls, fail_at;
};

static bool
faulty_fail(void *ctx)
{
	struct faulty *f = ctx;
	return ++f->calls == f->fail_at;
}
static int
f_openat(void *c, int d, const char *p, int fl, mode_t m)
{
	return faulty_fail(c) ? -EIO : fsops_syscall.openat(NULL, d, p, fl, m);
}
static ssize_t
f_pwrite(void *c, int fd, const void *b, size_t n, off_t o)
{
	return faulty_fail(c) ? -EIO : fsops_syscall.pwrite(NULL, fd, b, n, o);
}
static int
f_fsync(void *c, int fd, bool ds)
{
	return faulty_fail(c) ? -EIO : fsops_syscall.fsync(NULL, fd, ds);
}
static int
f_renameat(void *c, int a, const char *b, int d, const char *e, unsigned f)
{
	return faulty_fail(c) ? -EIO : fsops_syscall.renameat(NULL, a, b, d, e, f);
}
static int
f_unlinkat(void *c, int d, const char *p, int f)
{
	return fsops_syscall.unlinkat(NULL, d, p, f);
}

/* A "crash" after each step of the seal sequence (the step fails, the
 * process goes away), then recovery: every record is still there exactly
 * once and the next seq follows on. */
START_TEST(test_crash_after_each_seal_step)
{
	/* seal ops: rename, fsync dir, openat tmp, pwrite header, fsync,
	 * rename tmp, fsync dir = 7 operations */
	for (int step = 1; step <= 8; step++) {
		struct faulty fy = { .fail_at = step };
		const struct fsops ops = { f_openat, f_pwrite, f_fsync, f_renameat, f_unlinkat, &fy };
		teardown();
		setup();
		struct store *s = open_store(NULL);
		append_records(s, 7);
		s->ops = &ops;
		int r = store_seal(s, store_now_us());
		ck_assert_int_eq(r, step <= 7 ? -EIO : 0);
		store_free(s); /* crash */

		s = open_store(NULL);
		ck_assert_uint_eq(s->next_seq, 8);
		uint64_t in_sealed = s->n_sealed ? 7 : 0;
		ck_assert_uint_eq(in_sealed + s->cur_records, 7);
		ck_assert_uint_eq(s->cur_hdr.first_seq, in_sealed ? 8 : 1);
		ck_assert(exists("current"));
		/* no stale temporary survives recovery */
		ck_assert_int_eq(test_count_entries(dir), 3 + (int)s->n_sealed);
		append_records(s, 1);
		ck_assert_int_eq(store_seal(s, store_now_us()), 0);
		store_free(s);
	}
}
END_TEST

/* A failed step is retried by the next call, from where it stopped. */
START_TEST(test_seal_resumes)
{
	for (int step = 1; step <= 7; step++) {
		struct faulty fy = { .fail_at = step };
		const struct fsops ops = { f_openat, f_pwrite, f_fsync, f_renameat, f_unlinkat, &fy };
		teardown();
		setup();
		struct store *s = open_store(NULL);
		append_records(s, 3);
		s->ops = &ops;
		ck_assert_int_eq(store_seal(s, store_now_us()), -EIO);
		ck_assert_int_ne(s->seal_step, STORE_SEAL_IDLE);
		s->ops = &fsops_syscall;
		ck_assert_int_eq(store_seal(s, store_now_us()), 0);
		ck_assert_int_eq(s->seal_step, STORE_SEAL_IDLE);
		ck_assert_uint_eq(s->n_sealed, 1);
		ck_assert(exists("00000000000000000001.log"));
		ck_assert_uint_eq(s->cur_hdr.first_seq, 4);
		ck_assert_int_eq(test_count_entries(dir), 4); /* current, lock, dir-id, sealed */
		store_free(s);
	}
}
END_TEST

START_TEST(test_sealed_is_read_only_and_named)
{
	struct store *s = open_store(NULL);
	struct stat st;
	char p[4096];
	append_records(s, 4);
	ck_assert_int_eq(store_seal(s, store_now_us()), 0);
	append_records(s, 2);
	ck_assert_int_eq(store_seal(s, store_now_us()), 0);
	/* empty current: nothing to seal */
	ck_assert_int_eq(store_seal(s, store_now_us()), 0);
	ck_assert_uint_eq(s->n_sealed, 2);
	snprintf(p, sizeof(p), "%s/00000000000000000005.log", dir);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_mode & 0222, 0);
	store_free(s);
	/* missing current (crash between seal and create): recreated */
	snprintf(p, sizeof(p), "%s/current", dir);
	ck_assert_int_eq(unlink(p), 0);
	s = open_store(NULL);
	ck_assert_uint_eq(s->next_seq, 7);
	ck_assert_uint_eq(s->cur_hdr.first_seq, 7);
	store_free(s);
}
END_TEST

static struct store *
store_with_segments(int n)
{
	struct store *s = open_store(NULL);
	for (int i = 0; i < n; i++) {
		append_records(s, 3);
		ck_assert_int_eq(store_seal(s, store_now_us()), 0);
	}
	return s;
}

START_TEST(test_retention_max_segments)
{
	struct store *s = store_with_segments(5);
	s->cfg.retention.max_segments = 2;
	ck_assert_int_eq(store_retention(s, store_now_us()), 0);
	ck_assert_uint_eq(s->n_sealed, 2);
	ck_assert(!exists("00000000000000000001.log"));
	ck_assert(exists("00000000000000000010.log"));
	ck_assert(exists("00000000000000000013.log"));
	ck_assert(exists("current"));
	store_free(s);
}
END_TEST

START_TEST(test_retention_max_bytes)
{
	struct store *s = store_with_segments(4);
	s->cfg.retention.max_bytes = s->sealed[2].size + s->sealed[3].size;
	ck_assert_int_eq(store_retention(s, store_now_us()), 0);
	ck_assert_uint_eq(s->n_sealed, 2);
	ck_assert_uint_eq(s->sealed[0].first_seq, 7);
	store_free(s);
}
END_TEST

START_TEST(test_retention_max_age)
{
	struct store *s = store_with_segments(3);
	/* pretend the two oldest are old */
	s->sealed[0].mtime_us -= 3600ull * 1000000;
	s->sealed[1].mtime_us -= 3600ull * 1000000;
	s->cfg.retention.max_age_us = 60ull * 1000000;
	ck_assert_int_eq(store_retention(s, store_now_us()), 0);
	ck_assert_uint_eq(s->n_sealed, 1);
	ck_assert_uint_eq(s->sealed[0].first_seq, 7);
	store_free(s);
}
END_TEST

START_TEST(test_retention_keep_free)
{
	struct segdir_entry e[3] = { { 1, 100, 0, 0 }, { 4, 100, 0, 0 }, { 7, 100, 0, 0 } };
	struct segdir_retention r = { .keep_free_bytes = 1000 };
	enum segdir_reason why;
	/* 850 free: removing two segments reaches 1050 >= 1000 */
	ck_assert_uint_eq(segdir_retention_pick(e, 3, &r, 0, 850, 10000, &why), 2);
	ck_assert_int_eq(why, SEGDIR_KEEP_FREE);
	ck_assert_uint_eq(segdir_retention_pick(e, 3, &r, 0, 1000, 10000, &why), 0);
	/* never more than there are; current is not in the list at all */
	ck_assert_uint_eq(segdir_retention_pick(e, 3, &r, 0, 0, 10000, &why), 3);
	r = (struct segdir_retention){ .keep_free_percent = 20 };
	ck_assert_uint_eq(segdir_retention_pick(e, 3, &r, 0, 1950, 10000, &why), 1);
	/* on a real store with an impossible keep_free, every sealed one goes */
	struct store *s = store_with_segments(2);
	s->cfg.retention.keep_free_percent = 99;
	ck_assert_int_eq(store_retention(s, store_now_us()), 0);
	ck_assert_uint_eq(s->n_sealed, 0);
	ck_assert(exists("current"));
	store_free(s);
}
END_TEST

START_TEST(test_segment_names)
{
	char name[SEGDIR_NAME_LEN + 1];
	uint64_t seq;
	segdir_name(42, name);
	ck_assert_str_eq(name, "00000000000000000042.log");
	ck_assert(segdir_parse_name(name, &seq));
	ck_assert_uint_eq(seq, 42);
	segdir_name(UINT64_MAX, name);
	ck_assert(segdir_parse_name(name, &seq));
	ck_assert_uint_eq(seq, UINT64_MAX);
	ck_assert(!segdir_parse_name("99999999999999999999.log", &seq)); /* overflow */
	ck_assert(!segdir_parse_name("00000000000000000000.log", &seq));
	ck_assert(!segdir_parse_name("0000000000000000001.log", &seq));
	ck_assert(!segdir_parse_name("0000000000000000000a.log", &seq));
	ck_assert(!segdir_parse_name("00000000000000000001.txt", &seq));
	ck_assert(!segdir_parse_name("current", &seq));
}
END_TEST

START_TEST(test_symlink_not_followed)
{
	char p[4096], target[4096];
	struct store *s = open_store(NULL);
	store_free(s);
	snprintf(p, sizeof(p), "%s/current", dir);
	snprintf(target, sizeof(target), "%s/elsewhere", dir);
	ck_assert_int_eq(rename(p, target), 0);
	ck_assert_int_eq(symlink(target, p), 0);
	struct store_config cfg = test_config();
	ck_assert_int_eq(store_open(&cfg, &fsops_syscall, &s), -ELOOP);
}
END_TEST

static Suite *
store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("store");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_first_start_creates_layout);
	tcase_add_test(tc, test_second_writer_refused);
	tcase_add_test(tc, test_refuses_world_writable_dir);
	tcase_add_test(tc, test_reopen_continues_seq);
	tcase_add_test(tc, test_recovery_at_every_cut);
	tcase_add_test(tc, test_garbage_tail_quarantined);
	tcase_add_test(tc, test_crash_after_each_seal_step);
	tcase_add_test(tc, test_seal_resumes);
	tcase_add_test(tc, test_sealed_is_read_only_and_named);
	tcase_add_test(tc, test_retention_max_segments);
	tcase_add_test(tc, test_retention_max_bytes);
	tcase_add_test(tc, test_retention_max_age);
	tcase_add_test(tc, test_retention_keep_free);
	tcase_add_test(tc, test_segment_names);
	tcase_add_test(tc, test_symlink_not_followed);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_run_suite(store_suite());
}
