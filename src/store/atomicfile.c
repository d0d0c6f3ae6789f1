#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "atomicfile.h"

bool
atomic_file_is_temporary(const char *name)
{
	return strncmp(name, ATOMIC_FILE_PREFIX, strlen(ATOMIC_FILE_PREFIX)) == 0;
}

/* Creates the temporary with O_EXCL under a random name, retrying on the
 * unlikely collision.  The target must be a plain name in dir_fd. */
int
atomic_file_begin(struct atomic_file *f, const struct fsops *ops, int dir_fd, const char *target,
		  mode_t mode)
{
	uint64_t rnd;

	if (!target[0] || strchr(target, '/') || strlen(target) + 32 > NAME_MAX)
		return -EINVAL;
	atomic_file_discard(f);
	f->ops = ops;
	f->dir_fd = dir_fd;
	f->size = 0;
	snprintf(f->target, sizeof(f->target), "%s", target);

	for (int attempt = 0; attempt < 16; attempt++) {
		ssize_t got = getrandom(&rnd, sizeof(rnd), 0);
		if (got != (ssize_t)sizeof(rnd))
			return got < 0 ? -errno : -EIO; /* a short read sets no errno */
		snprintf(f->tmp, sizeof(f->tmp), ATOMIC_FILE_PREFIX "%s.%016llx", target,
			 (unsigned long long)rnd);
		int fd = ops->openat(ops->ctx, dir_fd, f->tmp,
				     O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
		if (fd == -EEXIST)
			continue;
		if (fd < 0)
			return fd;
		f->fd = fd;
		f->linked = true;
		return 0;
	}
	return -EEXIST;
}

int
atomic_file_write(struct atomic_file *f, const void *buf, size_t n)
{
	if (f->fd < 0)
		return -EBADF;
	int r = fsops_pwrite_all(f->ops, f->fd, buf, n, f->size);
	if (r < 0)
		return r;
	f->size += (off_t)n;
	return 0;
}

/* fsync the data, rename into place, fsync the directory (rename(2) is only
 * durable once the directory is; see fsync(2)).  If the rename succeeded but
 * the directory fsync failed, the file is in place: the guard no longer owns
 * a temporary, and the error is returned so the caller retries the sync. */
int
atomic_file_commit(struct atomic_file *f, enum atomic_file_mode mode, int *ret_fd)
{
	const struct fsops *ops = f->ops;
	int r;

	if (f->fd < 0 || !f->linked)
		return -EBADF;
	r = ops->fsync(ops->ctx, f->fd, false);
	if (r < 0)
		return r;
	r = ops->renameat(ops->ctx, f->dir_fd, f->tmp, f->dir_fd, f->target,
			  mode == ATOMIC_FILE_NOREPLACE ? RENAME_NOREPLACE : 0);
	if (r < 0)
		return r;
	f->linked = false;
	r = ops->fsync(ops->ctx, f->dir_fd, false);
	if (r < 0)
		return r;
	if (ret_fd)
		*ret_fd = TAKE_FD(f->fd);
	else
		f->fd = safe_close(f->fd);
	return 0;
}

void
atomic_file_discard(struct atomic_file *f)
{
	if (!f)
		return;
	PROTECT_ERRNO;
	if (f->linked && f->ops)
		(void)f->ops->unlinkat(f->ops->ctx, f->dir_fd, f->tmp, 0);
	f->linked = false;
	f->fd = safe_close(f->fd);
}

int
atomic_file_write_all(const struct fsops *ops, int dir_fd, const char *target, mode_t mode,
		      const void *buf, size_t n)
{
	_cleanup_atomic_file_ struct atomic_file f = ATOMIC_FILE_INIT;
	int r;

	r = atomic_file_begin(&f, ops, dir_fd, target, mode);
	if (r < 0)
		return r;
	r = atomic_file_write(&f, buf, n);
	if (r < 0)
		return r;
	return atomic_file_commit(&f, ATOMIC_FILE_REPLACE, NULL);
}
