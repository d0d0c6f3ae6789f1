#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"
#include "ring.h"

struct ring {
	struct io_uring uring;
	bool uring_ready;
	int efd;
	struct event *ev;
	unsigned inflight;
	struct fsops ops;
};

static void ring_eventfd_readcb(evutil_socket_t fd, short what, void *arg);
static const struct fsops ring_fsops_template;

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
	r->ops = ring_fsops_template;
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

/* Waits for every operation still in flight (their buffers may be owned by
 * objects being freed after us), then tears the ring down. */
struct ring *
ring_free(struct ring *r)
{
	if (!r)
		return NULL;
	if (r->uring_ready) {
		while (r->inflight > 0)
			if (ring_wait(r) < 0)
				break;
		io_uring_queue_exit(&r->uring);
	}
	if (r->ev)
		event_free(r->ev);
	safe_close(r->efd);
	free(r);
	return NULL;
}

struct io_uring_sqe *
ring_sqe(struct ring *r, struct ring_req *req)
{
	struct io_uring_sqe *sqe;

	while (!(sqe = io_uring_get_sqe(&r->uring)))
		(void)io_uring_submit(&r->uring);
	io_uring_sqe_set_data(sqe, req);
	r->inflight++;
	return sqe;
}

int
ring_submit(struct ring *r)
{
	int k;

	do
		k = io_uring_submit(&r->uring);
	while (k == -EINTR);
	return k < 0 ? k : 0;
}

int
ring_wait(struct ring *r)
{
	int k = io_uring_submit_and_wait(&r->uring, 1);
	if (k < 0 && k != -EINTR && k != -EAGAIN && k != -EBUSY)
		return k;
	ring_process(r);
	return 0;
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

static int
ring_sync_wait(struct ring *r, struct ring_sync *s)
{
	int k = ring_submit(r);
	if (k < 0)
		return k;
	while (!s->done) {
		struct io_uring_cqe *cqe;
		k = io_uring_wait_cqe(&r->uring, &cqe);
		if (k < 0 && k != -EINTR && k != -EAGAIN)
			return k;
		ring_process(r);
	}
	return s->res;
}

#define RING_SYNC(r, s) \
	struct ring_sync s = { .req.done = ring_sync_done }; \
	struct io_uring_sqe *sqe = ring_sqe((r), &s.req)

static int
ring_op_openat(void *ctx, int dir_fd, const char *path, int flags, mode_t mode)
{
	RING_SYNC(ctx, s);
	io_uring_prep_openat(sqe, dir_fd, path, flags | O_CLOEXEC, mode);
	return ring_sync_wait(ctx, &s);
}

static ssize_t
ring_op_pwrite(void *ctx, int fd, const void *buf, size_t n, off_t off)
{
	RING_SYNC(ctx, s);
	io_uring_prep_write(sqe, fd, buf, (unsigned)(n > 1u << 30 ? 1u << 30 : n), (uint64_t)off);
	return ring_sync_wait(ctx, &s);
}

static int
ring_op_fsync(void *ctx, int fd, bool datasync)
{
	RING_SYNC(ctx, s);
	io_uring_prep_fsync(sqe, fd, datasync ? IORING_FSYNC_DATASYNC : 0);
	return ring_sync_wait(ctx, &s);
}

static int
ring_op_renameat(void *ctx, int old_dir, const char *old_path, int new_dir, const char *new_path,
		 unsigned flags)
{
	RING_SYNC(ctx, s);
	io_uring_prep_renameat(sqe, old_dir, old_path, new_dir, new_path, flags);
	return ring_sync_wait(ctx, &s);
}

static int
ring_op_unlinkat(void *ctx, int dir_fd, const char *path, int flags)
{
	RING_SYNC(ctx, s);
	io_uring_prep_unlinkat(sqe, dir_fd, path, flags);
	return ring_sync_wait(ctx, &s);
}

static const struct fsops ring_fsops_template = {
	.openat = ring_op_openat,
	.pwrite = ring_op_pwrite,
	.fsync = ring_op_fsync,
	.renameat = ring_op_renameat,
	.unlinkat = ring_op_unlinkat,
};

const struct fsops *
ring_fsops(struct ring *r)
{
	return &r->ops;
}
