#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsops.h"

static int
sys_openat(void *ctx, int dir_fd, const char *path, int flags, mode_t mode)
{
	return RET_NERRNO(openat(dir_fd, path, flags | O_CLOEXEC, mode));
}

static ssize_t
sys_pwrite(void *ctx, int fd, const void *buf, size_t n, off_t off)
{
	ssize_t k = pwrite(fd, buf, n, off);
	return k < 0 ? -errno : k;
}

static int
sys_fsync(void *ctx, int fd, bool datasync)
{
	return RET_NERRNO(datasync ? fdatasync(fd) : fsync(fd));
}

static int
sys_renameat(void *ctx, int old_dir, const char *old_path, int new_dir, const char *new_path,
	     unsigned flags)
{
	return RET_NERRNO(renameat2(old_dir, old_path, new_dir, new_path, flags));
}

static int
sys_unlinkat(void *ctx, int dir_fd, const char *path, int flags)
{
	return RET_NERRNO(unlinkat(dir_fd, path, flags));
}

const struct fsops fsops_syscall = {
	.openat = sys_openat,
	.pwrite = sys_pwrite,
	.fsync = sys_fsync,
	.renameat = sys_renameat,
	.unlinkat = sys_unlinkat,
	.ctx = NULL,
};

int
fsops_pwrite_all(const struct fsops *ops, int fd, const void *buf, size_t n, off_t off)
{
	const char *p = buf;

	while (n > 0) {
		ssize_t k = ops->pwrite(ops->ctx, fd, p, n, off);
		if (k == -EINTR || k == -EAGAIN)
			continue;
		if (k < 0)
			return (int)k;
		if (k == 0)
			return -EIO;
		p += k;
		n -= (size_t)k;
		off += k;
	}
	return 0;
}
