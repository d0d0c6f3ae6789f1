#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "now.h"
#include "ring.h"

enum {
	RING_GRACE_US = 1000000, /* ring_free: wait this long, cancel, wait again */
	RING_RETRY_MAX = 10000,	 /* transient enter failures in one synchronous wait */
};

struct ring {
	struct io_uring uring;
	bool uring_ready;
	int efd;
	struct event *ev;
	unsigned inflight;
	struct fsops fs;
	struct ring_ops ops;
};

static void ring_eventfd_readcb(evutil_socket_t fd, short what, void *arg);
static const struct fsops ring_fsops_template;
static const struct ring_ops ring_ops_template;

int
ring_new(unsigned entries, struct event_base *base, struct ring **ret)
{
	_cleanup_(ring_freep) struct ring *r = calloc(1, sizeof(*r));
	int k;

	if (!r)
		return -ENOMEM;
	r->efd = -EBADF;
	k = io_uring_queue_init(entries, &r->uring, 0);
	if (k < 0)
		return k;
	r->uring_ready = true;
	r->fs = ring_fsops_template;
	r->fs.ctx = r;
	r->ops = ring_ops_template;
	r->ops.ctx = r;
	if (base) {
		r->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (r->efd < 0)
			return -errno;
		k = io_uring_register_eventfd(&r->uring, r->efd);
		if (k < 0)
			return k;
		r->ev = event_new(base, r->efd, EV_READ | EV_PERSIST, ring_eventfd_readcb, r);
		if (!r->ev || event_add(r->ev, NULL) < 0)
			return -ENOMEM;
	}
	*ret = TAKE_PTR(r);
	return 0;
}

/* The ring itself failed while an operation that refers to a caller's
 * memory is in the kernel's hands: returning would let the kernel write
 * into a frame or buffer that is reused, so the process stops here. */
static _Noreturn void
ring_fatal(const struct ring *r, int err, const char *what)
{
	log_error_errno(err, "io_uring failed while %s: %m; %u operation(s) may still "
			     "refer to memory of this process, aborting",
			what, r->inflight);
	abort();
}

static void
ring_pause_ms(unsigned ms)
{
	struct timespec ts = { 0, (long)ms * 1000000 };
	(void)nanosleep(&ts, NULL);
}

/* An SQE for req; submits (and on a busy ring reaps) until there is one. */
static struct io_uring_sqe *
ring_get_sqe(struct ring *r, struct ring_req *req)
{
	struct io_uring_sqe *sqe;

	for (unsigned tries = 0; !(sqe = io_uring_get_sqe(&r->uring)); tries++) {
		int k = ring_submit(r);
		if (k < 0 && tries > RING_RETRY_MAX)
			ring_fatal(r, k, "making room in the submission queue");
		if (k < 0)
			ring_pause_ms(1);
	}
	io_uring_sqe_set_data(sqe, req);
	r->inflight++;
	return sqe;
}

int
ring_submit(struct ring *r)
{
	int k;

	for (int again = 0;; again++) {
		do
			k = io_uring_submit(&r->uring);
		while (k == -EINTR);
		if (k >= 0)
			return 0;
		if ((k != -EBUSY && k != -EAGAIN) || again)
			return k;
		/* EBUSY: completions must be reaped before more can be taken */
		ring_process(r);
	}
}

unsigned
ring_inflight(const struct ring *r)
{
	return r->inflight;
}

/* Takes one completion at a time and marks it seen before dispatching, so
 * a done() callback may itself submit and wait (ring_fsops) without
 * confusing the walk over the completion queue. */
unsigned
ring_process(struct ring *r)
{
	unsigned n = 0;

	for (;;) {
		struct io_uring_cqe *cqe;
		struct ring_req *req;
		int res;

		if (io_uring_peek_cqe(&r->uring, &cqe) != 0)
			break;
		req = io_uring_cqe_get_data(cqe);
		res = cqe->res;
		io_uring_cqe_seen(&r->uring, cqe);
		r->inflight--;
		n++;
		if (req && req->done)
			req->done(req, res);
	}
	return n;
}

static void
ring_eventfd_readcb(evutil_socket_t fd, short what, void *arg)
{
	struct ring *r = arg;
	uint64_t v;

	(void)!read(fd, &v, sizeof(v));
	ring_process(r);
}

/* Waits up to timeout_us for at least one completion, then handles every
 * ready one.  -ETIME if none came. */
static int
ring_wait_timeout(struct ring *r, uint64_t timeout_us)
{
	struct __kernel_timespec ts = { .tv_sec = (long long)(timeout_us / 1000000),
					.tv_nsec = (long long)(timeout_us % 1000000) * 1000 };
	struct io_uring_cqe *cqe;
	int k;

	(void)ring_submit(r);
	k = io_uring_wait_cqe_timeout(&r->uring, &cqe, &ts);
	if (ring_process(r) > 0)
		return 0;
	return k < 0 ? k : 0;
}

/* Waits for every operation in flight, at most grace_us. */
static bool
ring_quiesce(struct ring *r, uint64_t grace_us)
{
	uint64_t t0 = now_us(CLOCK_MONOTONIC);

	while (r->inflight > 0) {
		uint64_t spent = now_us(CLOCK_MONOTONIC) - t0;
		if (spent >= grace_us)
			return false;
		int k = ring_wait_timeout(r, grace_us - spent);
		if (k < 0 && k != -ETIME && k != -EINTR && k != -EAGAIN && k != -EBUSY)
			return false;
	}
	return true;
}

/* Waits for what is in flight (their buffers may belong to objects freed
 * after us), cancels what does not finish, and only then tears the ring
 * down.  What even a cancel cannot stop is left to the kernel, which
 * reaps it when the process exits; it is logged. */
struct ring *
ring_free(struct ring *r)
{
	if (!r)
		return NULL;
	if (r->uring_ready) {
		if (!ring_quiesce(r, RING_GRACE_US)) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&r->uring);
			if (sqe) {
				io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
				io_uring_sqe_set_data(sqe, NULL);
				r->inflight++;
			}
			if (!ring_quiesce(r, RING_GRACE_US))
				log_error("%u io_uring operation(s) did not complete or cancel "
					  "within %u ms; leaving them to the kernel",
					  r->inflight, 2 * RING_GRACE_US / 1000);
		}
		io_uring_queue_exit(&r->uring);
	}
	if (r->ev)
		event_free(r->ev);
	safe_close(r->efd);
	free(r);
	return NULL;
}

const char *
ring_missing_opcode(struct ring *r)
{
	static const struct {
		int op;
		const char *name;
	} need[] = {
		{ IORING_OP_WRITE, "IORING_OP_WRITE" },
		{ IORING_OP_FSYNC, "IORING_OP_FSYNC" },
		{ IORING_OP_OPENAT, "IORING_OP_OPENAT" },
		{ IORING_OP_RENAMEAT, "IORING_OP_RENAMEAT" },
		{ IORING_OP_UNLINKAT, "IORING_OP_UNLINKAT" },
		{ IORING_OP_ASYNC_CANCEL, "IORING_OP_ASYNC_CANCEL" },
	};
	struct io_uring_probe *p = io_uring_get_probe_ring(&r->uring);
	const char *missing = NULL;

	if (!p)
		return "IORING_REGISTER_PROBE";
	for (size_t i = 0; i < ELEMENTSOF(need) && !missing; i++)
		if (!io_uring_opcode_supported(p, need[i].op))
			missing = need[i].name;
	io_uring_free_probe(p);
	return missing;
}

/* --- asynchronous operations (the commit engine) --------------------- */

static int
ring_op_reserve(void *ctx, unsigned n)
{
	struct ring *r = ctx;
	int k;

	if (io_uring_sq_space_left(&r->uring) >= n)
		return 0;
	k = ring_submit(r);
	if (k < 0)
		return k;
	return io_uring_sq_space_left(&r->uring) >= n ? 0 : -EBUSY;
}

static void
ring_op_prep_write(void *ctx, struct ring_req *req, int fd, const void *buf, unsigned len,
		   uint64_t off, bool link)
{
	struct io_uring_sqe *sqe = ring_get_sqe(ctx, req);

	io_uring_prep_write(sqe, fd, buf, len, off);
	if (link)
		sqe->flags |= IOSQE_IO_LINK;
}

static void
ring_op_prep_fdatasync(void *ctx, struct ring_req *req, int fd)
{
	io_uring_prep_fsync(ring_get_sqe(ctx, req), fd, IORING_FSYNC_DATASYNC);
}

static int
ring_op_submit(void *ctx)
{
	return ring_submit(ctx);
}

static int
ring_op_wait(void *ctx, uint64_t timeout_us)
{
	return ring_wait_timeout(ctx, timeout_us);
}

static int
ring_op_cancel(void *ctx, struct ring_req *req)
{
	struct ring *r = ctx;
	int k = ring_op_reserve(r, 1);

	if (k < 0)
		return k;
	struct io_uring_sqe *sqe = ring_get_sqe(r, NULL);
	io_uring_prep_cancel(sqe, req, 0);
	return ring_submit(r);
}

static const struct ring_ops ring_ops_template = {
	.reserve = ring_op_reserve,
	.prep_write = ring_op_prep_write,
	.prep_fdatasync = ring_op_prep_fdatasync,
	.submit = ring_op_submit,
	.wait = ring_op_wait,
	.cancel = ring_op_cancel,
};

const struct ring_ops *
ring_ops(struct ring *r)
{
	return &r->ops;
}

/* --- synchronous operations ------------------------------------------ */

struct ring_sync {
	struct ring_req req;
	bool done;
	int res;
};

static void
ring_sync_done(struct ring_req *req, int res)
{
	struct ring_sync *s = (struct ring_sync *)req;
	s->done = true;
	s->res = res;
}

/* Submits and waits until s completed, whatever else completes meanwhile.
 * s lives in the caller's frame, so this never returns before its CQE:
 * transient enter failures are retried, and a ring that fails for good
 * aborts the process (ring_fatal). */
static int
ring_sync_wait(struct ring *r, struct ring_sync *s)
{
	for (unsigned tries = 0; !s->done;) {
		int k = io_uring_submit_and_wait(&r->uring, 1);
		if (k < 0 && k != -EINTR && k != -EAGAIN && k != -EBUSY && k != -ETIME)
			ring_fatal(r, k, "waiting for a file operation");
		if ((k == -EAGAIN || k == -EBUSY) && ring_process(r) == 0) {
			if (++tries > RING_RETRY_MAX)
				ring_fatal(r, k, "waiting for a file operation");
			ring_pause_ms(1);
		}
		ring_process(r);
	}
	return s->res;
}

#define RING_SYNC(r, s)                                      \
	struct ring_sync s = { .req.done = ring_sync_done }; \
	struct io_uring_sqe *sqe = ring_get_sqe((r), &s.req)

static int
ring_fs_openat(void *ctx, int dir_fd, const char *path, int flags, mode_t mode)
{
	RING_SYNC(ctx, s);
	io_uring_prep_openat(sqe, dir_fd, path, flags | O_CLOEXEC, mode);
	return ring_sync_wait(ctx, &s);
}

static ssize_t
ring_fs_pwrite(void *ctx, int fd, const void *buf, size_t n, off_t off)
{
	RING_SYNC(ctx, s);
	io_uring_prep_write(sqe, fd, buf, (unsigned)(n > 1u << 30 ? 1u << 30 : n), (uint64_t)off);
	return ring_sync_wait(ctx, &s);
}

static int
ring_fs_fsync(void *ctx, int fd, bool datasync)
{
	RING_SYNC(ctx, s);
	io_uring_prep_fsync(sqe, fd, datasync ? IORING_FSYNC_DATASYNC : 0);
	return ring_sync_wait(ctx, &s);
}

static int
ring_fs_renameat(void *ctx, int old_dir, const char *old_path, int new_dir, const char *new_path,
		 unsigned flags)
{
	RING_SYNC(ctx, s);
	io_uring_prep_renameat(sqe, old_dir, old_path, new_dir, new_path, flags);
	return ring_sync_wait(ctx, &s);
}

static int
ring_fs_unlinkat(void *ctx, int dir_fd, const char *path, int flags)
{
	RING_SYNC(ctx, s);
	io_uring_prep_unlinkat(sqe, dir_fd, path, flags);
	return ring_sync_wait(ctx, &s);
}

static const struct fsops ring_fsops_template = {
	.openat = ring_fs_openat,
	.pwrite = ring_fs_pwrite,
	.fsync = ring_fs_fsync,
	.renameat = ring_fs_renameat,
	.unlinkat = ring_fs_unlinkat,
};

const struct fsops *
ring_fsops(struct ring *r)
{
	return &r->fs;
}
