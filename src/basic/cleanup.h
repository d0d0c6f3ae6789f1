/* Guard objects: scope-bound owners built on __attribute__((cleanup)).
 *
 * The C counterpart of Python's "with": a variable declared with one of the
 * _cleanup_*_ attributes releases what it holds when it goes out of scope, on
 * every path out of the block, error paths included.  Ownership leaves a
 * guard only through TAKE_FD() / TAKE_PTR(), which empty the guard so the
 * resource is not released twice.  The vocabulary follows systemd's
 * fd-util.h and alloc-util.h; the empty descriptor is -EBADF. */
#pragma once

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

/* Restores errno when the enclosing scope ends. */
static inline void
reset_errnop(int *saved)
{
	errno = *saved;
}

#define PROTECT_ERRNO \
	_cleanup_(reset_errnop) __attribute__((unused)) int _saved_errno_ = errno

/* Closes fd if it is valid; never fails, keeps errno, returns -EBADF so that
 * "fd = safe_close(fd);" leaves the variable empty.  Closing a descriptor
 * that is not open is a bug (a double close, which may have closed someone
 * else's): it asserts, as systemd's does. */
static inline int
safe_close(int fd)
{
	if (fd >= 0) {
		PROTECT_ERRNO;
		/* Linux releases the descriptor even on EINTR */
		int r = close(fd);
		assert(r == 0 || errno != EBADF);
		(void)r;
	}
	return -EBADF;
}

/* x < 0 ? -errno : x, for calls that return -1 and set errno: "return
 * RET_NERRNO(fsync(fd));".  Not for a short read or write, which sets no
 * errno (say what it means instead, e.g. -EIO). */
#define RET_NERRNO(expr)                            \
	({                                          \
		__typeof__(expr) _r_ = (expr);      \
		_r_ < 0 ? -errno : (int)_r_;        \
	})

/* Frees a and moves b into it, emptying b (ownership passes): 0. */
#define free_and_replace(a, b)                      \
	({                                          \
		free(a);                            \
		(a) = (b);                          \
		(b) = NULL;                         \
		0;                                  \
	})

static inline void
closep(int *fd)
{
	*fd = safe_close(*fd);
}

static inline void
freep(void *p)
{
	free(*(void **)p);
	*(void **)p = NULL;
}

/* Generates "static inline void funcp(type *p)" calling func(*p) when *p is
 * not NULL; the destructor for new guard types (libevent objects, ...). */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)     \
	static inline void func##p(type *p)         \
	{                                           \
		if (*p) {                           \
			PROTECT_ERRNO;              \
			func(*p);                   \
			*p = NULL;                  \
		}                                   \
	}

DEFINE_TRIVIAL_CLEANUP_FUNC(FILE *, fclose)
DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir)

#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _cleanup_closedir_ _cleanup_(closedirp)

/* Moves ownership out of a guard: yields the value and empties the guard. */
#define TAKE_GENERIC(var, type, empty)              \
	({                                          \
		type *_pvar_ = &(var);              \
		type _var_ = *_pvar_;               \
		*_pvar_ = (empty);                  \
		_var_;                              \
	})
#define TAKE_FD(fd) TAKE_GENERIC(fd, int, -EBADF)
#define TAKE_PTR(ptr) TAKE_GENERIC(ptr, __typeof__(ptr), NULL)

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
