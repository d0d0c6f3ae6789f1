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
	 * (a short write cancels it); an unlinked one covers only what had
	 * completed when it was submitted */
	a->sync_covers = linked ? linked_end : a->written_end;
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
	} else {
		fprintf(a->f, "ack %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", seq, end, durable);
	}
}
#endif
