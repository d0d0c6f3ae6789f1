/* The atomic-file guard: a file that appears whole under its name, or not
 * at all.
 *
 *	_cleanup_atomic_file_ struct atomic_file f = ATOMIC_FILE_INIT;
 *	r = atomic_file_begin(&f, &fsops_syscall, dir_fd, "cursor", 0640);
 *	r = atomic_file_write(&f, buf, n);
 *	r = atomic_file_commit(&f, ATOMIC_FILE_REPLACE, NULL);
 *
 * begin creates ".tmp.<target>.<random>" in the target directory; commit
 * fsyncs it, renames it onto the target (replacing it, or failing with
 * -EEXIST for ATOMIC_FILE_NOREPLACE) and fsyncs the directory.  Leaving the
 * scope without a successful commit unlinks the temporary; the target is
 * then untouched.  A crash leaves at worst a stale ".tmp." file, which
 * atomic_file_is_temporary() recognises for clean-up. */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "cleanup.h"
#include "fsops.h"

enum atomic_file_mode {
	ATOMIC_FILE_REPLACE,
	ATOMIC_FILE_NOREPLACE,
};

struct atomic_file {
	const struct fsops *ops;
	int dir_fd; /* borrowed from the caller; must outlive the guard */
	int fd;     /* owned until commit hands it on or closes it */
	off_t size;
	bool linked; /* the temporary name exists in the directory */
	char tmp[NAME_MAX + 1];
	char target[NAME_MAX + 1];
};

#define ATOMIC_FILE_PREFIX ".tmp."
#define ATOMIC_FILE_INIT { .ops = NULL, .dir_fd = -EBADF, .fd = -EBADF }

int atomic_file_begin(struct atomic_file *f, const struct fsops *ops, int dir_fd,
		      const char *target, mode_t mode);
int atomic_file_write(struct atomic_file *f, const void *buf, size_t n);
/* On success the file is durable under its name; if ret_fd is not NULL the
 * open descriptor (positioned nowhere, use pwrite) is handed to the caller. */
int atomic_file_commit(struct atomic_file *f, enum atomic_file_mode mode, int *ret_fd);
/* Destructor: closes and unlinks an uncommitted temporary.  NULL-safe. */
void atomic_file_discard(struct atomic_file *f);
bool atomic_file_is_temporary(const char *name);
/* Writes a whole small file atomically in one call. */
int atomic_file_write_all(const struct fsops *ops, int dir_fd, const char *target, mode_t mode,
			  const void *buf, size_t n);

#define _cleanup_atomic_file_ _cleanup_(atomic_file_discard)
