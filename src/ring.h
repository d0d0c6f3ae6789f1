/* The one io_uring of a seglog process (liburing), and how its completions
 * reach the libevent loop: an eventfd registered with the ring
 * (io_uring_register_eventfd(3)) wakes the loop, which drains the whole
 * completion queue.
 *
 * Asynchronous use: embed a struct ring_req in the object that owns the
 * operation, get an SQE with ring_sqe(), prepare it, ring_submit().  The
 * request (and its buffer and fd) belongs to the ring until done() runs.
 *
 * Synchronous use: ring_fsops() returns a table of file operations that
 * submit one SQE and wait for it, dispatching any other completions met
 * on the way.  The storage engine uses it for rare steps (recovery,
 * rotation), the tools for everything. */
#pragma once

#include <liburing.h>

#include "cleanup.h"
#include "fsops.h"

struct event_base;
struct ring;

struct ring_req {
	void (*done)(struct ring_req *req, int res);
};

/* base may be NULL for a ring used only synchronously. */
int ring_new(unsigned entries, struct event_base *base, struct ring **ret);
struct ring *ring_free(struct ring *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct ring *, ring_free)

/* An SQE whose completion calls req->done; submits pending SQEs first if
 * the submission queue is full.  Never NULL. */
struct io_uring_sqe *ring_sqe(struct ring *r, struct ring_req *req);
int ring_submit(struct ring *r);
/* Handles every completion that is ready; returns how many. */
unsigned ring_process(struct ring *r);
/* Submits what is prepared, waits for at least one completion and
 * handles every ready one. */
int ring_wait(struct ring *r);
/* Operations in flight (submitted or prepared, not yet completed). */
unsigned ring_inflight(const struct ring *r);

const struct fsops *ring_fsops(struct ring *r);
