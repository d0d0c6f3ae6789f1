/* The ack-after-durability audit (configure --enable-ack-audit; issue 7).
 *
 * The engine reports every completed write, every fdatasync it submits and
 * completes, and every acknowledgement.  The audit keeps, for the segment
 * being written, the highest file offset covered by a completed fdatasync
 * -- counting only bytes whose write had completed before that fdatasync
 * was submitted, or whose write it was linked after (IOSQE_IO_LINK) -- and
 * checks that no acknowledgement covers a byte beyond it.  Each ack is
 * logged as "ack SEQ END SYNCED" to the file named by $SEGLOG_ACK_AUDIT, a
 * violation as "VIOLATION ..." (and to stderr).  Without the variable it
 * does nothing. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct ack_audit {
	FILE *f;
	uint64_t written_end; /* completed writes reach this offset */
	uint64_t sync_covers; /* what the fdatasync in flight will make durable */
	uint64_t synced_end;  /* durable up to this offset */
	uint64_t acks, violations;
};

#ifdef SEGLOG_ACK_AUDIT
void ack_audit_open(struct ack_audit *a);
void ack_audit_close(struct ack_audit *a);
/* a new segment whose first `base` bytes (its header) are durable */
void ack_audit_segment(struct ack_audit *a, uint64_t base);
void ack_audit_write_done(struct ack_audit *a, uint64_t end);
void ack_audit_sync_submitted(struct ack_audit *a, bool linked, uint64_t linked_end);
void ack_audit_sync_done(struct ack_audit *a, int res);
void ack_audit_ack(struct ack_audit *a, uint64_t seq, uint64_t end, bool fsync_mode);
#else
static inline void ack_audit_open(struct ack_audit *a) { (void)a; }
static inline void ack_audit_close(struct ack_audit *a) { (void)a; }
static inline void ack_audit_segment(struct ack_audit *a, uint64_t base) { (void)a; (void)base; }
static inline void ack_audit_write_done(struct ack_audit *a, uint64_t end) { (void)a; (void)end; }
static inline void ack_audit_sync_submitted(struct ack_audit *a, bool linked, uint64_t linked_end)
{ (void)a; (void)linked; (void)linked_end; }
static inline void ack_audit_sync_done(struct ack_audit *a, int res) { (void)a; (void)res; }
static inline void ack_audit_ack(struct ack_audit *a, uint64_t seq, uint64_t end, bool fsync_mode)
{ (void)a; (void)seq; (void)end; (void)fsync_mode; }
#endif
