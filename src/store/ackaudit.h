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
 * does nothing.
 *
 * A linked fdatasync is credited only if the write and the fdatasync went
 * out in the same submit: the engine's ring operations pass through
 * ack_audit_wrap_ring(), which counts every call that may submit (reserve,
 * submit, wait, cancel) and every SQE prepared, and credits the link only
 * if the fdatasync was prepared right after its linked write with no such
 * call in between.  (Submits inside ring.c itself, and the store's
 * synchronous ring_fsops, are not seen; neither can run between the two
 * preparations of engine_commit_start().)
 *
 * The directory: a rename into the data directory (the seal's rename of
 * current, the creation of the new current) leaves it "dirty" until an
 * fdatasync of that directory returns 0 (store_seal.c reports both through
 * ack_audit_dir_renamed/_synced); an ack while it is dirty is a violation.
 *
 * On the wire: conn.c calls ack_audit_wire(engine_ack_audit(engine), seq)
 * for every ACK it sends; seq above the last seq an audited ack covered is
 * a violation. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ring.h"

struct engine;

struct ack_audit {
	FILE *f;
	uint64_t written_end; /* completed writes reach this offset */
	uint64_t sync_covers; /* what the fdatasync in flight will make durable */
	uint64_t synced_end;  /* durable up to this offset */
	uint64_t acks, violations;
	uint64_t audited_seq;  /* the highest seq an ack passed the audit for */
	uint64_t wire_acks;
	/* the ring seen through ack_audit_wrap_ring() */
	const struct ring_ops *io;
	struct ring_ops ops;
	uint64_t submits;      /* calls that may have submitted */
	bool link_open;	       /* the last SQE prepared was a linked write */
	uint64_t link_gen;     /* ... prepared after this many submits */
	bool pair_same_submit; /* the last fdatasync followed its linked write at once */
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
/* the ring operations the engine must use: io, observed */
const struct ring_ops *ack_audit_wrap_ring(struct ack_audit *a, const struct ring_ops *io);
/* an ACK of seq sent to a client (conn_ack) */
void ack_audit_wire(struct ack_audit *a, uint64_t seq);
/* process-wide: a rename into directory dir_fd succeeded; an fsync of fd returned res */
void ack_audit_dir_renamed(int dir_fd);
void ack_audit_dir_synced(int fd, int res);
/* the engine's audit (engine.c), for conn.c's ack_audit_wire() */
struct ack_audit *engine_ack_audit(struct engine *e);
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
static inline const struct ring_ops *
ack_audit_wrap_ring(struct ack_audit *a, const struct ring_ops *io) { (void)a; return io; }
static inline void ack_audit_wire(struct ack_audit *a, uint64_t seq) { (void)a; (void)seq; }
static inline void ack_audit_dir_renamed(int dir_fd) { (void)dir_fd; }
static inline void ack_audit_dir_synced(int fd, int res) { (void)fd; (void)res; }
static inline struct ack_audit *engine_ack_audit(struct engine *e) { (void)e; return NULL; }
#endif
