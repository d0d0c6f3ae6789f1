/* The shipper's delivery ledger (shipq.h): a ring of the records in flight,
 * in send order, popped from the front as their deliveries are confirmed. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "shipq.h"

enum shipq_state {
	SHIPQ_IN_FLIGHT,
	SHIPQ_DONE,
	SHIPQ_FAILED,
};

struct shipq_entry {
	uint64_t seq;
	uint64_t time_us;
	uint32_t bytes;
	uint8_t state; /* enum shipq_state */
};

struct shipq {
	struct shipq_entry *ring;
	size_t mask;
	uint64_t head; /* ticket of the oldest record in flight */
	uint64_t tail; /* ticket the next push gets */
	uint64_t confirmed;
	uint64_t confirmed_time_us;
	uint64_t last_pushed;
	uint64_t bytes;
	size_t unreported; /* entries still SHIPQ_IN_FLIGHT */
	bool failed;
};

int
shipq_new(size_t cap, uint64_t confirmed_seq, struct shipq **ret)
{
	_cleanup_(shipq_freep) struct shipq *q = calloc(1, sizeof(*q));
	size_t n = 1;

	if (!q)
		return -ENOMEM;
	if (cap == 0 || cap > ((size_t)1 << 30))
		return -EINVAL;
	while (n < cap)
		n <<= 1;
	q->ring = calloc(n, sizeof(*q->ring));
	if (!q->ring)
		return -ENOMEM;
	q->mask = n - 1;
	q->confirmed = q->last_pushed = confirmed_seq;
	*ret = TAKE_PTR(q);
	return 0;
}

struct shipq *
shipq_free(struct shipq *q)
{
	if (!q)
		return NULL;
	free(q->ring);
	free(q);
	return NULL;
}

bool
shipq_full(const struct shipq *q)
{
	return q->tail - q->head > q->mask;
}

int
shipq_push(struct shipq *q, uint64_t seq, uint64_t time_us, uint32_t bytes, uintptr_t *ret_token)
{
	struct shipq_entry *e;

	if (shipq_full(q))
		return -ENOBUFS;
	if (seq <= q->last_pushed)
		return -EINVAL;
	e = &q->ring[q->tail & q->mask];
	*e = (struct shipq_entry){ .seq = seq, .time_us = time_us, .bytes = bytes,
				   .state = SHIPQ_IN_FLIGHT };
	q->last_pushed = seq;
	q->bytes += bytes;
	q->unreported++;
	*ret_token = (uintptr_t)q->tail++;
	return 0;
}

int
shipq_cancel_last(struct shipq *q, uintptr_t token)
{
	struct shipq_entry *e;

	if (q->tail == q->head || token != (uintptr_t)(q->tail - 1))
		return -ENOENT;
	e = &q->ring[--q->tail & q->mask];
	q->bytes -= e->bytes;
	if (e->state == SHIPQ_IN_FLIGHT)
		q->unreported--;
	q->last_pushed = q->tail == q->head ? q->confirmed : q->ring[(q->tail - 1) & q->mask].seq;
	return 0;
}

/* Pops the confirmed records at the front: the cursor-advance rule. */
static bool
shipq_pop_confirmed(struct shipq *q)
{
	bool moved = false;

	while (q->head != q->tail) {
		struct shipq_entry *e = &q->ring[q->head & q->mask];
		if (e->state != SHIPQ_DONE)
			break;
		q->confirmed = e->seq;
		q->confirmed_time_us = e->time_us;
		q->bytes -= e->bytes;
		q->head++;
		moved = true;
	}
	return moved;
}

/* The token carries the ticket's low bits only (a pointer's width); the
 * distance from the head, taken in that width, finds the entry, and a
 * distance beyond the records in flight means an old token. */
enum shipq_report_result
shipq_report(struct shipq *q, uintptr_t token, bool ok)
{
	uintptr_t delta = token - (uintptr_t)q->head;
	struct shipq_entry *e;

	if ((uint64_t)delta >= q->tail - q->head)
		return SHIPQ_STALE;
	e = &q->ring[(q->head + delta) & q->mask];
	if (e->state != SHIPQ_IN_FLIGHT)
		return SHIPQ_STALE;
	q->unreported--;
	if (!ok) {
		e->state = SHIPQ_FAILED;
		q->failed = true;
		return SHIPQ_NOTED;
	}
	e->state = SHIPQ_DONE;
	return delta == 0 && shipq_pop_confirmed(q) ? SHIPQ_ADVANCED : SHIPQ_NOTED;
}

void
shipq_reset(struct shipq *q)
{
	q->head = q->tail;
	q->bytes = 0;
	q->unreported = 0;
	q->failed = false;
	q->last_pushed = q->confirmed;
}

uint64_t
shipq_confirmed(const struct shipq *q)
{
	return q->confirmed;
}

uint64_t
shipq_confirmed_time(const struct shipq *q)
{
	return q->confirmed_time_us;
}

uint64_t
shipq_last_pushed(const struct shipq *q)
{
	return q->last_pushed;
}

bool
shipq_failed(const struct shipq *q)
{
	return q->failed;
}

size_t
shipq_in_flight(const struct shipq *q)
{
	return (size_t)(q->tail - q->head);
}

size_t
shipq_unreported(const struct shipq *q)
{
	return q->unreported;
}

uint64_t
shipq_in_flight_bytes(const struct shipq *q)
{
	return q->bytes;
}

unsigned
shipq_backoff_ms(unsigned attempt)
{
	unsigned ms = SHIPQ_BACKOFF_MIN_MS;

	for (unsigned i = 1; i < attempt && ms < SHIPQ_BACKOFF_MAX_MS; i++)
		ms *= 2;
	return ms < SHIPQ_BACKOFF_MAX_MS ? ms : SHIPQ_BACKOFF_MAX_MS;
}
