/* What a connection owes its client after the records it took: the ack
 * marks (records up to recno are resolved once seq is durable), the
 * cumulative ACK sent as the durable seq advances, and CONTROL (protocol
 * version 2): rotate and sync, which wait in the host's waiter list like
 * acks, and reload and vacuum, done by the host from the loop. */
#include "config.h"

#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ackaudit.h"
#include "conn.h"
#include "conn_internal.h"
#include "engine.h"
#include "proto.h"

enum {
	CONN_MARKS = 64, /* pending ack marks; more are coalesced into the last */
};

static void conn_control_check(struct conn *c, uint64_t durable_seq);

struct conn_ackmark {
	uint64_t recno; /* records up to this one are resolved once seq is durable */
	uint64_t seq;
};

/* A native client that asked for it, with every ack owed sent: close. */
void
conn_maybe_done(struct conn *c)
{
	if (c->eof && !c->closing && !c->blocked && !c->wblocked && !c->pool_wait && !c->ctl_verb &&
	    c->marks_len == 0 && !c->owes_ack)
		conn_close(c, "end of stream");
}

/* Records from this read are resolved once seq is durable: a mark per
 * read, coalesced while the seq does not change or the marks are full. */
void
conn_push_mark(struct conn *c)
{
	struct conn_ackmark *m;

	if (c->marks_len > 0) {
		m = &c->marks[(c->marks_head + c->marks_len - 1) % CONN_MARKS];
		if (m->seq == c->last_seq || c->marks_len == CONN_MARKS) {
			m->recno = c->recno;
			m->seq = c->last_seq;
			return;
		}
	} else if (c->recno == c->acked_recno) {
		return;
	}
	if (!c->marks) {
		c->marks = malloc(CONN_MARKS * sizeof(*c->marks));
		if (!c->marks) {
			conn_close(c, "out of memory");
			return;
		}
	}
	c->marks[(c->marks_head + c->marks_len) % CONN_MARKS] =
		(struct conn_ackmark){ .recno = c->recno, .seq = c->last_seq };
	c->marks_len++;
	conn_set_waiting(c, true);
}

/* Queues the ACK owed if the queue has room (or has an unsent ACK at its
 * tail to replace), else leaves it owed until the client reads
 * (conn_writecb); force: queues it whatever the pool says. */
void
conn_ack_owed(struct conn *c, bool force)
{
	uint8_t buf[PROTO_ACK_LEN];

	if (!c->owes_ack)
		return;
	proto_put_ack(buf, &c->ack_owed);
	if (!force && conn_wbuf_make_room(c, sizeof(buf), false) < 0) {
		if (conn_wbuf_replace_ack(c, buf, sizeof(buf)))
			c->owes_ack = false;
		return;
	}
	c->owes_ack = false;
	if (conn_queue(c, buf, sizeof(buf)) && !force)
		conn_flush(c);
}

void
conn_ack(struct conn *c, uint64_t durable_seq)
{
	struct proto_ack a = { 0, 0 };
	bool any = false;

	while (c->marks_len > 0) {
		struct conn_ackmark *m = &c->marks[c->marks_head];
		if (m->seq > durable_seq)
			break;
		a = (struct proto_ack){ .recno = m->recno, .seq = m->seq };
		any = true;
		c->marks_head = (c->marks_head + 1) % CONN_MARKS;
		c->marks_len--;
	}
	if (c->marks_len == 0 && !c->ctl_verb)
		conn_set_waiting(c, false);
	if (any) {
		c->acked_recno = a.recno;
		/* --enable-ack-audit: every seq acknowledged on the wire is one a
		 * completed fdatasync covered (ackaudit.h) */
		ack_audit_wire(engine_ack_audit(c->host->engine), a.seq);
		c->ack_owed = a;
		c->owes_ack = !c->peer_gone;
		conn_ack_owed(c, false);
	}
	if (c->ctl_verb)
		conn_control_check(c, durable_seq);
	conn_maybe_done(c);
}

static void
conn_control_reply(struct conn *c, uint8_t verb, uint8_t status, uint64_t value, const char *text)
{
	uint8_t frame[PROTO_FRAME_HEADER + PROTO_CONTROL_DONE_FIXED + CONN_CONTROL_TEXT_MAX];
	struct proto_control_done d = { .verb = verb, .status = status, .value = value,
					.text = text, .text_len = strlen(text) };

	if (d.text_len > CONN_CONTROL_TEXT_MAX)
		d.text_len = CONN_CONTROL_TEXT_MAX;
	c->wreserve = 0; /* the room kept for this reply */
	if (conn_queue(c, frame, proto_put_control_done(frame, &d)))
		conn_flush(c);
}

/* A pending rotate or sync: done once what it waits for holds.  The input
 * that waited behind it is processed from the loop (ctl_ev), not here:
 * this runs while the host walks its waiter list. */
static void
conn_control_check(struct conn *c, uint64_t durable_seq)
{
	struct engine *e = c->host->engine;
	char text[CONN_CONTROL_TEXT_MAX];

	if (c->ctl_verb == PROTO_VERB_SYNC) {
		/* in fsync mode what counts is a completed fdatasync, not the
		 * durable seq: after a reload from write, that one covers records
		 * only written (found by a hostile test) */
		bool fsync = c->host->cfg->durability == CFG_DURABILITY_FSYNC;
		if ((fsync ? engine_synced_seq(e) : durable_seq) < c->ctl_target)
			return;
		snprintf(text, sizeof(text), "every record up to seq %" PRIu64 " is %s",
			 c->ctl_target, fsync ? "durable (fdatasync)" : "written (durability = write)");
	} else if (c->ctl_verb == PROTO_VERB_ROTATE) {
		if (!engine_sealed_through(e, c->ctl_target))
			return;
		snprintf(text, sizeof(text), "sealed: every record up to seq %" PRIu64
			 " is in a sealed segment", c->ctl_target);
	} else {
		return; /* reload, vacuum: conn_ctlcb */
	}
	conn_control_reply(c, c->ctl_verb, PROTO_CTL_OK, c->ctl_target, text);
	c->ctl_verb = 0;
	if (c->marks_len == 0)
		conn_set_waiting(c, false);
	event_active(c->ctl_ev, EV_TIMEOUT, 0);
}

/* From the loop: a reload or vacuum is done (never from inside the frame
 * loop: a reload may pause and resume every connection, this one too),
 * then the input that waited behind a CONTROL is processed. */
void
conn_ctlcb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	if (c->ctl_verb == PROTO_VERB_RELOAD || c->ctl_verb == PROTO_VERB_VACUUM) {
		char text[CONN_CONTROL_TEXT_MAX] = "";
		uint64_t value = 0;
		uint8_t status = c->host->ops->control(c->host->ctx, &c->ctl_req, &value, text,
						       sizeof(text));
		if (!c->closing)
			conn_control_reply(c, c->ctl_verb, status, value, text);
		c->ctl_verb = 0;
		if (c->marks_len == 0)
			conn_set_waiting(c, false);
	}
	conn_resume(c);
}

/* One CONTROL frame.  rotate and sync wait here (the connection joins the
 * host's waiter list, so conn_ack() sees each commit and each seal);
 * reload and vacuum are the host's, done from the loop (conn_ctlcb). */
void
conn_control(struct conn *c, const uint8_t *body, size_t len)
{
	struct engine *e = c->host->engine;
	struct proto_control req;
	char text[CONN_CONTROL_TEXT_MAX] = "";

	if (proto_parse_control(body, len, &req) < 0) {
		conn_malformed(c, "CONTROL body too short");
		return;
	}
	if (req.verb == 0 || req.verb > PROTO_VERB_MAX) {
		snprintf(text, sizeof(text), "unknown verb %u", req.verb);
		conn_control_reply(c, req.verb, PROTO_CTL_REFUSED, 0, text);
		return;
	}
	if (req.flags & ~(req.verb == PROTO_VERB_VACUUM ? PROTO_CTL_KNOWN : 0)) {
		snprintf(text, sizeof(text), "flags 0x%x are not known for this verb", req.flags);
		conn_control_reply(c, req.verb, PROTO_CTL_REFUSED, 0, text);
		return;
	}
	if (req.verb == PROTO_VERB_SYNC || req.verb == PROTO_VERB_ROTATE) {
		uint64_t next = c->host->ops->next_seq(c->host->ctx);
		c->ctl_target = next ? next - 1 : 0;
		if (req.verb == PROTO_VERB_ROTATE && !engine_rotate(e)) {
			conn_control_reply(c, req.verb, PROTO_CTL_OK, 0,
					   "nothing to seal: current holds no records");
			return;
		}
		if (req.verb == PROTO_VERB_SYNC)
			engine_request_sync(e);
		c->ctl_verb = req.verb;
		c->wreserve = CONN_REPLY_MAX; /* the reply's room, made before the frame */
		conn_set_waiting(c, true);
		conn_control_check(c, engine_durable_seq(e));
		return;
	}
	c->ctl_verb = req.verb;
	c->wreserve = CONN_REPLY_MAX;
	c->ctl_req = req;
	event_active(c->ctl_ev, EV_TIMEOUT, 0);
}

