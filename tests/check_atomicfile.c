/* The atomic-file guard: the target appears whole or not at all, and no
 * path leaks a descriptor or leaves a temporary behind. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"
#include "testutil.h"

/* Fault injection: a table of operations that fails the fail_at'th call
 * (counting every operation) with fail_errno, and otherwise forwards to the
 * real system calls. */
struct faulty {
	int calls;
	int fail_at;
	int fail_errno;
};

static bool
faulty_fail(void *ctx)
{
	struct faulty *f = ctx;
	return ++f->calls == f->fail_at;
}

static int
f_openat(void *ctx, int d, const char *p, int fl, mode_t m)
{
	return faulty_fail(ctx) ? -((struct faulty *)ctx)->fail_errno
				: fsops_syscall.openat(NULL, d, p, fl, m);
}

static ssize_t
f_pwrite(void *ctx, int fd, const void *b, size_t n, off_t o)
{
	if (faulty_fail(ctx))
		return -((struct faulty *)ctx)->fail_errno;
	/* also exercise short writes: write at most 3 bytes at a time */
	return fsops_syscall.pwrite(NULL, fd, b, n > 3 ? 3 : n, o);
}

static int
f_fsync(void *ctx, int fd, bool ds)
{
	return faulty_fail(ctx) ? -((struct faulty *)ctx)->fail_errno
				: fsops_syscall.fsync(NULL, fd, ds);
}

static int
f_renameat(void *ctx, int od, const char *op, int nd, const char *np, unsigned fl)
{
	return faulty_fail(ctx) ? -((struct faulty *)ctx)->fail_errno
				: fsops_syscall.renameat(NULL, od, op, nd, np, fl);
}

static int
f_unlinkat(void *ctx, int d, const char *p, int fl)
{
	return fsops_syscall.unlinkat(NULL, d, p, fl); /* clean-up never fails here */
}

static char *dir;
static int dir_fd = -EBADF;

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
write_target(const char *content)
{
	ck_assert_int_eq(atomic_file_write_all(&fsops_syscall, dir_fd, "target", 0640, content,
					       strlen(content)),
			 0);
}

static void
assert_target(const char *content)
{
	char path[PATH_MAX];
	_cleanup_free_ char *got = NULL;

	snprintf(path, sizeof(path), "%s/target", dir);
	got = test_read_file(path, NULL);
	if (!content) {
		ck_assert_ptr_null(got);
		return;
	}
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, content);
}

/* Runs begin/write/commit with the n'th operation failing. */
static int
attempt(struct faulty *fy, enum atomic_file_mode mode)
{
	const struct fsops ops = { f_openat, f_pwrite, f_fsync, f_renameat, f_unlinkat, fy };
	_cleanup_atomic_file_ struct atomic_file f = ATOMIC_FILE_INIT;
	int r;

	r = atomic_file_begin(&f, &ops, dir_fd, "target", 0640);
	if (r < 0)
		return r;
	r = atomic_file_write(&f, "new content\n", 12);
	if (r < 0)
		return r;
	return atomic_file_commit(&f, mode, NULL);
}

START_TEST(test_commit_replaces)
{
	write_target("old\n");
	assert_target("old\n");
	write_target("new content\n");
	assert_target("new content\n");
	ck_assert_int_eq(test_count_entries(dir), 1);
}
END_TEST

START_TEST(test_every_failure_leaves_target_and_no_temporary)
{
	int fds = test_count_fds();

	write_target("old\n");
	/* operations: openat, 4 short pwrites, fsync, rename, fsync(dir) */
	for (int n = 1; n <= 7; n++) {
		struct faulty fy = { .fail_at = n, .fail_errno = ENOSPC };
		ck_assert_int_eq(attempt(&fy, ATOMIC_FILE_REPLACE), -ENOSPC);
		assert_target("old\n");
		ck_assert_int_eq(test_count_entries(dir), 1);
		ck_assert_int_eq(test_count_fds(), fds);
	}
	/* failing the directory fsync: renamed, but the error is reported */
	struct faulty fy = { .fail_at = 8, .fail_errno = EIO };
	ck_assert_int_eq(attempt(&fy, ATOMIC_FILE_REPLACE), -EIO);
	assert_target("new content\n");
	ck_assert_int_eq(test_count_entries(dir), 1);
	ck_assert_int_eq(test_count_fds(), fds);
	/* and with nothing failing it commits */
	struct faulty ok = { .fail_at = 0 };
	write_target("old\n");
	ck_assert_int_eq(attempt(&ok, ATOMIC_FILE_REPLACE), 0);
	assert_target("new content\n");
	ck_assert_int_eq(test_count_fds(), fds);
}
END_TEST

START_TEST(test_noreplace_refuses_existing)
{
	struct faulty ok = { .fail_at = 0 };
	int fds = test_count_fds();

	ck_assert_int_eq(attempt(&ok, ATOMIC_FILE_NOREPLACE), 0);
	assert_target("new content\n");
	write_target("other\n");
	ok.calls = 0;
	ck_assert_int_eq(attempt(&ok, ATOMIC_FILE_NOREPLACE), -EEXIST);
	assert_target("other\n");
	ck_assert_int_eq(test_count_entries(dir), 1);
	ck_assert_int_eq(test_count_fds(), fds);
}
END_TEST

START_TEST(test_scope_exit_without_commit)
{
	int fds = test_count_fds();
	{
		_cleanup_atomic_file_ struct atomic_file f = ATOMIC_FILE_INIT;
		ck_assert_int_eq(atomic_file_begin(&f, &fsops_syscall, dir_fd, "target", 0600), 0);
		ck_assert_int_eq(atomic_file_write(&f, "partial", 7), 0);
		ck_assert_int_eq(test_count_entries(dir), 1);
		ck_assert(atomic_file_is_temporary(f.tmp));
	}
	ck_assert_int_eq(test_count_entries(dir), 0);
	assert_target(NULL);
	ck_assert_int_eq(test_count_fds(), fds);
}
END_TEST

START_TEST(test_commit_hands_fd)
{
	_cleanup_atomic_file_ struct atomic_file f = ATOMIC_FILE_INIT;
	_cleanup_close_ int fd = -EBADF;
	int fds = test_count_fds();

	ck_assert_int_eq(atomic_file_begin(&f, &fsops_syscall, dir_fd, "target", 0600), 0);
	ck_assert_int_eq(atomic_file_write(&f, "abc", 3), 0);
	ck_assert_int_eq(atomic_file_commit(&f, ATOMIC_FILE_NOREPLACE, &fd), 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(f.fd, -EBADF);
	ck_assert_int_eq(pwrite(fd, "def\n", 4, 3), 4);
	atomic_file_discard(&f); /* the guard no longer owns anything */
	ck_assert_int_eq(test_count_fds(), fds + 1);
	ck_assert_int_eq(fcntl(fd, F_GETFD), FD_CLOEXEC);
	assert_target("abcdef\n");
}
END_TEST

START_TEST(test_rejects_bad_names)
{
	_cleanup_atomic_file_ struct atomic_file f = ATOMIC_FILE_INIT;
	ck_assert_int_eq(atomic_file_begin(&f, &fsops_syscall, dir_fd, "a/b", 0600), -EINVAL);
	ck_assert_int_eq(atomic_file_begin(&f, &fsops_syscall, dir_fd, "", 0600), -EINVAL);
	ck_assert_int_eq(test_count_entries(dir), 0);
}
END_TEST

static Suite *
atomicfile_suite(void)
{
	Suite *s = suite_create("atomicfile");
	TCase *tc = tcase_create("guard");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_commit_replaces);
	tcase_add_test(tc, test_every_failure_leaves_target_and_no_temporary);
	tcase_add_test(tc, test_noreplace_refuses_existing);
	tcase_add_test(tc, test_scope_exit_without_commit);
	tcase_add_test(tc, test_commit_hands_fd);
	tcase_add_test(tc, test_rejects_bad_names);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_run_suite(atomicfile_suite());
}
