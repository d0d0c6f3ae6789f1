/* The one io_uring of a seglog process (liburing), and how its completions
 * reach the libevent loop: an eventfd registered with the ring
 * (io_uring_register_eventfd(3)) wakes the loop, which drains the whole
 * completion queue.
 *
 * Asynchronous use (the commit engine): through the struct ring_ops table
 * of ring_ops(), so that a test double can stand in for the kernel
 * (tests/check_engine.c).  Embed a struct ring_req in the object that owns
 * the operation, reserve() the SQEs the operation needs, prepare them,
 * submit().  The request (and its buffer and fd) belongs to the ring until
 * done() runs.
 *
 * Synchronous use: ring_fsops() returns a table of file operations that
 * submit one SQE and wait for it, dispatching any other completions met
 * on the way.  The storage engine uses it for rare steps (recovery,
 * rotation).
 *
 * The lifetime rule (docs/design.md): no function here returns, frees or
 * exits while an SQE or CQE that refers to a caller's memory is
 * outstanding.  A synchronous operation waits for its completion (and
 * aborts the process with a message if the ring itself fails, since the
 * kernel may still write into the caller's frame); ring_free() waits,
 * then cancels, then says what it abandons to the kernel. */
#pragma once

#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>

#include "cleanup.h"
#include "fsops.h"

struct event_base;
struct ring;

struct ring_req {
	void (*done)(struct ring_req *req, int res);
};

/* The asynchronous operations of the commit engine. */
struct ring_ops {
	/* Makes room for n SQEs that are then prepared without any submit in
	 * between (so a linked pair is never cut by an automatic submit):
	 * submits what is queued first if the queue has less room.  -errno
	 * if that submit failed; nothing was prepared then. */
	int (*reserve)(void *ctx, unsigned n);
	/* A write of buf[0, len) at file offset off.  link: the next
	 * prepared operation starts only after this one completed in full
	 * (IOSQE_IO_LINK; a short write cancels it with -ECANCELED). */
	void (*prep_write)(void *ctx, struct ring_req *req, int fd, const void *buf, unsigned len,
			   uint64_t off, bool link);
	void (*prep_fdatasync)(void *ctx, struct ring_req *req, int fd);
	/* Hands every prepared operation to the kernel.  On -errno they stay
	 * queued and go with the next submit that works. */
	int (*submit)(void *ctx);
	/* Submits, waits up to timeout_us for a completion and handles every
	 * ready one; -ETIME if none came. */
	int (*wait)(void *ctx, uint64_t timeout_us);
	/* Asks the kernel to cancel req (IORING_OP_ASYNC_CANCEL); req's own
	 * completion still arrives (usually -ECANCELED, or its result if it
	 * had already finished). */
	int (*cancel)(void *ctx, struct ring_req *req);
	void *ctx;
};

/* base may be NULL for a ring used only synchronously. */
int ring_new(unsigned entries, struct event_base *base, struct ring **ret);
/* Waits (1 s at most) for what is in flight, cancels what is left and
 * waits again (1 s), then tears the ring down, logging what it had to
 * leave to the kernel. */
struct ring *ring_free(struct ring *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct ring *, ring_free)

/* The first io_uring opcode the daemon needs that this kernel lacks
 * (io_uring_get_probe_ring(3)), e.g. "IORING_OP_RENAMEAT"; NULL if it
 * has them all. */
const char *ring_missing_opcode(struct ring *r);

const struct ring_ops *ring_ops(struct ring *r);
const struct fsops *ring_fsops(struct ring *r);

/* Submits what is prepared (EINTR retried; on EBUSY/EAGAIN the completion
 * queue is drained and the submit tried once more).  0 or -errno. */
int ring_submit(struct ring *r);
/* Handles every completion that is ready; returns how many. */
unsigned ring_process(struct ring *r);
/* Operations in flight (prepared or submitted, not yet completed). */
unsigned ring_inflight(const struct ring *r);
