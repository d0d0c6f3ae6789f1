/* The ack-after-durability audit; see ackaudit.h. */
#include "config.h"

#ifdef SEGLOG_ACK_AUDIT
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "ackaudit.h"
#include "log.h"

void
ack_audit_open(struct ack_audit *a)
{
	const char *path = getenv("SEGLOG_ACK_AUDIT");

	*a = (struct ack_audit){ 0 };
	if (!path || !*path)
		return;
	a->f = fopen(path, "ae");
	if (!a->f)
		log_error_errno(errno, "SEGLOG_ACK_AUDIT: cannot open %s: %m", path);
	else
		setvbuf(a->f, NULL, _IOLBF, 0);
}

/* --- the ring, observed ------------------------------------------------ */

static int
ack_audit_reserve(void *ctx, unsigned n)
{
	struct ack_audit *a = ctx;
	a->submits++; /* may submit what is queued */
	a->link_open = false;
	return a->io->reserve(a->io->ctx, n);
}

static void
ack_audit_prep_write(void *ctx, struct ring_req *req, int fd, const void *buf, unsigned len,
		     uint64_t off, bool link)
{
	struct ack_audit *a = ctx;
	a->link_open = link;
	a->link_gen = a->submits;
	a->io->prep_write(a->io->ctx, req, fd, buf, len, off, link);
}

static void
ack_audit_prep_fdatasync(void *ctx, struct ring_req *req, int fd)
{
	struct ack_audit *a = ctx;
	/* linked only to the SQE prepared just before, in the same submit */
	a->pair_same_submit = a->link_open && a->link_gen == a->submits;
	a->link_open = false;
	a->io->prep_fdatasync(a->io->ctx, req, fd);
}

static int
ack_audit_submit(void *ctx)
{
	struct ack_audit *a = ctx;
	a->submits++;
	return a->io->submit(a->io->ctx);
}

static int
ack_audit_wait(void *ctx, uint64_t timeout_us)
{
	struct ack_audit *a = ctx;
	a->submits++;
	return a->io->wait(a->io->ctx, timeout_us);
}

static int
ack_audit_cancel(void *ctx, struct ring_req *req)
{
	struct ack_audit *a = ctx;
	a->submits++;
	a->link_open = false;
	return a->io->cancel(a->io->ctx, req);
}

const struct ring_ops *
ack_audit_wrap_ring(struct ack_audit *a, const struct ring_ops *io)
{
	a->io = io;
	a->ops = (struct ring_ops){
		.reserve = ack_audit_reserve,
		.prep_write = ack_audit_prep_write,
		.prep_fdatasync = ack_audit_prep_fdatasync,
		.submit = ack_audit_submit,
		.wait = ack_audit_wait,
		.cancel = ack_audit_cancel,
		.ctx = a,
	};
	return &a->ops;
}

/* --- the data directory (process-wide: the store reports it) ----------- */

static int ack_audit_dirty_dir = -1; /* renamed into, not yet fsynced */

void
ack_audit_dir_renamed(int dir_fd)
{
	ack_audit_dirty_dir = dir_fd;
}

void
ack_audit_dir_synced(int fd, int res)
{
	if (res == 0 && fd == ack_audit_dirty_dir)
		ack_audit_dirty_dir = -1;
}

static void
ack_audit_violation(struct ack_audit *a, uint64_t seq, const char *what)
{
	a->violations++;
	if (a->f)
		fprintf(a->f, "VIOLATION ack of seq %" PRIu64 ": %s\n", seq, what);
	log_error("ack audit: seq %" PRIu64 " acknowledged: %s", seq, what);
}

void
ack_audit_wire(struct ack_audit *a, uint64_t seq)
{
	if (!a || !a->f)
		return;
	a->wire_acks++;
	if (seq > a->audited_seq)
		ack_audit_violation(a, seq, "sent to a client beyond the audited durable seq");
	else
		fprintf(a->f, "wire %" PRIu64 " %" PRIu64 "\n", seq, a->audited_seq);
}

void
ack_audit_close(struct ack_audit *a)
{
	if (a->f)
		fclose(a->f);
	a->f = NULL;
}

void
ack_audit_segment(struct ack_audit *a, uint64_t base)
{
	a->written_end = a->sync_covers = a->synced_end = base;
}

void
ack_audit_write_done(struct ack_audit *a, uint64_t end)
{
	if (end > a->written_end)
		a->written_end = end;
}

void
ack_audit_sync_submitted(struct ack_audit *a, bool linked, uint64_t linked_end)
{
	/* a linked fdatasync starts only after its write completed in full
	 * (a short write cancels it), if both went out in the same submit
	 * (else the link is cut and it may run first); an unlinked one
	 * covers only what had completed when it was submitted */
	bool credited = linked && (!a->io || a->pair_same_submit);

	a->sync_covers = credited ? linked_end : a->written_end;
	a->pair_same_submit = false;
}

void
ack_audit_sync_done(struct ack_audit *a, int res)
{
	if (res == 0 && a->sync_covers > a->synced_end)
		a->synced_end = a->sync_covers;
}

void
ack_audit_ack(struct ack_audit *a, uint64_t seq, uint64_t end, bool fsync_mode)
{
	uint64_t durable = fsync_mode ? a->synced_end : a->written_end;

	if (!a->f)
		return;
	a->acks++;
	if (end > durable) {
		a->violations++;
		fprintf(a->f, "VIOLATION ack of seq %" PRIu64 " covers offset %" PRIu64
			      " but only %" PRIu64 " is durable\n", seq, end, durable);
		log_error("ack audit: seq %" PRIu64 " acknowledged beyond the durable offset",
			  seq);
	} else if (fsync_mode && ack_audit_dirty_dir >= 0) {
		ack_audit_violation(a, seq, "the data directory was renamed into and not fsynced since");
	} else {
		if (seq > a->audited_seq)
			a->audited_seq = seq;
		fprintf(a->f, "ack %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", seq, end, durable);
	}
}
#endif
