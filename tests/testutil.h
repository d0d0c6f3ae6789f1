/* Helpers shared by the Check suites. */
#pragma once

#include <check.h>

/* Number of open descriptors of this process, counted in /proc/self/fd. */
int test_count_fds(void);
/* Makes a fresh temporary directory under $TMPDIR (or /tmp); returns a
 * malloc'ed path.  test_rm_rf removes it again. */
char *test_mkdtemp(void);
void test_rm_rf(const char *path);
/* Number of entries (not . and ..) in a directory. */
int test_count_entries(const char *path);
/* Reads a whole file into a malloc'ed NUL-terminated buffer. */
char *test_read_file(const char *path, size_t *ret_size);
/* Runs a suite with CK_ENV-controlled output; returns the exit status. */
int test_run_suite(Suite *s);
