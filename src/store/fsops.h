/* The file-system operations the storage code needs, behind one table, so
 * that the same logic runs on plain system calls (tools, tests) or through
 * the daemon's io_uring (ring.c), and so tests can inject faults.
 * Every operation returns >= 0 on success and -errno on failure. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct fsops {
	int (*openat)(void *ctx, int dir_fd, const char *path, int flags, mode_t mode);
	ssize_t (*pwrite)(void *ctx, int fd, const void *buf, size_t n, off_t off);
	int (*fsync)(void *ctx, int fd, bool datasync);
	int (*renameat)(void *ctx, int old_dir, const char *old_path, int new_dir,
			const char *new_path, unsigned flags);
	int (*unlinkat)(void *ctx, int dir_fd, const char *path, int flags);
	void *ctx;
};

/* Plain system calls. */
extern const struct fsops fsops_syscall;

/* Writes all n bytes at off, resuming after short writes and EINTR. */
int fsops_pwrite_all(const struct fsops *ops, int fd, const void *buf, size_t n, off_t off);
