/* The shipper's delivery ledger: which records are in flight to Kafka, and
 * how far the cursor may advance (issue 13, docs/shipping.md).
 *
 * Records are produced in seq order.  Each gets a token (passed to
 * librdkafka as the message's opaque) that comes back with its delivery
 * report.  Reports may arrive in any order (in order per partition, but
 * interleaved across partitions), so the confirmed seq is the one of the
 * last record of the longest prefix, in send order, whose deliveries were
 * all confirmed: never past a record that is still in flight or failed.
 * That is the Fluent Bit anti-pattern avoided: a record counts as shipped
 * only once Kafka confirmed it, not once it sits in librdkafka's queue.
 *
 * A failed delivery poisons the ledger (shipq_failed); the shipper then
 * purges and recreates its producer, calls shipq_reset and resends from
 * shipq_confirmed() + 1.  Tokens issued before a reset are stale: their
 * late reports are recognised and ignored.
 *
 * Pure: no I/O, no clock (times are passed in), no logging. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cleanup.h"

enum {
	SHIPQ_SAVE_PERIOD_US = 100000, /* the cursor is written at most every 100 ms (cursor.h) */
	SHIPQ_BACKOFF_MIN_MS = 100,
	SHIPQ_BACKOFF_MAX_MS = 30000,
};

/* What shipq_report did with a delivery report. */
enum shipq_report_result {
	SHIPQ_STALE = 0,    /* a token from before the last reset, or already reported: ignored */
	SHIPQ_NOTED,	    /* recorded; the confirmed seq did not move */
	SHIPQ_ADVANCED,	    /* recorded; shipq_confirmed() moved forward */
};

struct shipq;

/* A ledger for at most cap records in flight (rounded up to a power of
 * two), whose cursor stands at confirmed_seq (0: nothing shipped yet). */
int shipq_new(size_t cap, uint64_t confirmed_seq, struct shipq **ret);
struct shipq *shipq_free(struct shipq *q);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct shipq *, shipq_free)

/* True when no further record may be pushed (backpressure). */
bool shipq_full(const struct shipq *q);
/* Records a record sent (seq strictly above every seq pushed or confirmed
 * before; time_us: its receive time, kept for the cursor; bytes: its size,
 * for the lag figure).  Returns its token in
 * *ret_token; -ENOBUFS when full, -EINVAL for a seq out of order. */
int shipq_push(struct shipq *q, uint64_t seq, uint64_t time_us, uint32_t bytes,
	       uintptr_t *ret_token);
/* Takes back the last push (the producer refused the record before it
 * was queued: queue full); -ENOENT if token is not the last one pushed. */
int shipq_cancel_last(struct shipq *q, uintptr_t token);
/* A delivery report for token: ok = Kafka confirmed it.  A failure marks
 * the ledger failed (the confirmed seq then stops before that record). */
enum shipq_report_result shipq_report(struct shipq *q, uintptr_t token, bool ok);
/* Forgets every record in flight (after the producer was purged); their
 * tokens become stale and the failure mark is cleared.  The next push
 * must be above shipq_confirmed(). */
void shipq_reset(struct shipq *q);

/* The highest seq up to which every record sent was confirmed. */
uint64_t shipq_confirmed(const struct shipq *q);
/* The receive time of that record, as pushed (0 before the first
 * confirmation since shipq_new). */
uint64_t shipq_confirmed_time(const struct shipq *q);
/* The seq of the last record pushed (or shipq_confirmed() if none since). */
uint64_t shipq_last_pushed(const struct shipq *q);
bool shipq_failed(const struct shipq *q);
size_t shipq_in_flight(const struct shipq *q);
/* Of those, the records whose delivery report has not come yet (after a
 * failure, records behind the failed one stay in flight, reported or not:
 * this is what a drain waits for). */
size_t shipq_unreported(const struct shipq *q);
/* Bytes of the records in flight (not yet confirmed). */
uint64_t shipq_in_flight_bytes(const struct shipq *q);

/* Backoff before the attempt-th (1, 2, ...) recreation of the producer:
 * doubling from SHIPQ_BACKOFF_MIN_MS up to SHIPQ_BACKOFF_MAX_MS. */
unsigned shipq_backoff_ms(unsigned attempt);
