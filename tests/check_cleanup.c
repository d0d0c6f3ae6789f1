/* Guard objects: every scope exit releases exactly what the guard owns. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "testutil.h"

static int frees_seen;

static void
counting_free(int *p)
{
	frees_seen++;
	free(p);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(int *, counting_free)

/* Opens n descriptors under guards and bails out at step fail_at. */
static int
open_some(int n, int fail_at)
{
	_cleanup_close_ int a = -EBADF, b = -EBADF, c = -EBADF;
	_cleanup_free_ char *buf = malloc(64);
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_closedir_ DIR *d = NULL;

	if (fail_at == 0)
		return -EIO;
	a = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fail_at == 1)
		return -EIO;
	b = open("/dev/null", O_RDONLY | O_CLOEXEC);
	f = fopen("/dev/null", "re");
	if (fail_at == 2)
		return -EIO;
	c = open("/dev/null", O_RDONLY | O_CLOEXEC);
	d = opendir("/");
	if (fail_at == 3)
		return -EIO;
	return n;
}

START_TEST(test_no_leak_on_any_exit)
{
	int before = test_count_fds();
	for (int i = 0; i <= 4; i++) {
		int r = open_some(3, i);
		ck_assert_int_eq(r, i == 4 ? 3 : -EIO);
		ck_assert_int_eq(test_count_fds(), before);
	}
}
END_TEST

static int
take_fd_helper(int *ret_fd)
{
	_cleanup_close_ int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*ret_fd = TAKE_FD(fd);
	ck_assert_int_eq(fd, -EBADF);
	return 0;
}

START_TEST(test_take_fd_moves_ownership)
{
	int before = test_count_fds();
	int fd = -EBADF;

	ck_assert_int_eq(take_fd_helper(&fd), 0);
	/* the guard in the helper did not close it: it is still usable */
	ck_assert_int_ge(fd, 0);
	ck_assert_int_ne(fcntl(fd, F_GETFD), -1);
	ck_assert_int_eq(test_count_fds(), before + 1);
	{
		_cleanup_close_ int owner = TAKE_FD(fd);
		ck_assert_int_eq(fd, -EBADF);
	}
	ck_assert_int_eq(test_count_fds(), before);
}
END_TEST

START_TEST(test_take_ptr_frees_once)
{
	int *kept;
	frees_seen = 0;
	{
		_cleanup_(counting_freep) int *p = malloc(sizeof(int));
		_cleanup_(counting_freep) int *q = malloc(sizeof(int));
		ck_assert_ptr_nonnull(p);
		kept = TAKE_PTR(p);
		ck_assert_ptr_null(p);
		(void)q;
	}
	/* only q was released by its guard */
	ck_assert_int_eq(frees_seen, 1);
	{
		_cleanup_(counting_freep) int *owner = TAKE_PTR(kept);
		ck_assert_ptr_null(kept);
	}
	ck_assert_int_eq(frees_seen, 2);
}
END_TEST

START_TEST(test_safe_close_keeps_errno)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	errno = ENOSPC;
	fd = safe_close(fd);
	ck_assert_int_eq(errno, ENOSPC);
	ck_assert_int_eq(fd, -EBADF);
	/* closing the empty descriptor (or a bad one) never fails loudly */
	errno = EDQUOT;
	ck_assert_int_eq(safe_close(-EBADF), -EBADF);
	ck_assert_int_eq(safe_close(-1), -EBADF);
	ck_assert_int_eq(errno, EDQUOT);
}
END_TEST

/* RET_NERRNO: -errno for a failed call, the result otherwise;
 * free_and_replace: the old value freed, ownership moved. */
START_TEST(test_ret_nerrno_and_free_and_replace)
{
	ck_assert_int_eq(RET_NERRNO(close(-1)), -EBADF);
	int fd = RET_NERRNO(open("/dev/null", O_RDONLY | O_CLOEXEC));
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(RET_NERRNO(close(fd)), 0);

	char *a = strdup("old"), *b = strdup("new");
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	char *was_b = b;
	ck_assert_int_eq(free_and_replace(a, b), 0);
	ck_assert_ptr_eq(a, was_b);
	ck_assert_ptr_null(b);
	ck_assert_str_eq(a, "new");
	free(a); /* valgrind: "old" was freed, nothing leaks */
}
END_TEST

START_TEST(test_protect_errno)
{
	errno = ENOENT;
	{
		PROTECT_ERRNO;
		errno = EPERM;
	}
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

static Suite *
cleanup_suite(void)
{
	Suite *s = suite_create("cleanup");
	TCase *tc = tcase_create("guards");

	tcase_add_test(tc, test_no_leak_on_any_exit);
	tcase_add_test(tc, test_take_fd_moves_ownership);
	tcase_add_test(tc, test_take_ptr_frees_once);
	tcase_add_test(tc, test_safe_close_keeps_errno);
	tcase_add_test(tc, test_protect_errno);
	tcase_add_test(tc, test_ret_nerrno_and_free_and_replace);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_run_suite(cleanup_suite());
}
