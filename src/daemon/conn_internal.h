/* The state of struct conn, shared by the connection's three files and by
 * no one else (conn.h is the interface): conn.c (life, socket reads, the
 * output queue, closing), conn_frame.c (the input: native frames and
 * syslog stream messages), conn_ack.c (ack marks, ACKs, CONTROL). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <event2/util.h>
#include <sys/socket.h>

#include "conn.h"
#include "proto.h"
#include "syslogmsg.h"

struct conn_ackmark; /* conn_ack.c */

struct conn {
	const struct conn_host *host;
	void *cookie;
	enum conn_proto proto;
	int fd;
	struct ucred cred;
	struct event *rev, *wev, *timer;
	uint8_t *rbuf;
	size_t rlen, rcap;
	/* the output queue: whole frames, except that the first whead bytes
	 * are the unsent rest of a frame the socket took only part of */
	uint8_t *wbuf;
	size_t wlen, wcap, whead;
	uint64_t skip;	   /* bytes of a refused oversized frame still to discard */
	uint64_t recno;	   /* records received (native) */
	uint64_t last_seq; /* seq of this connection's newest appended record */
	uint64_t acked_recno;
	bool hello_done, closing, reading, eof, waiting, draining;
	bool peer_gone; /* writes fail (EPIPE): acks are dropped, input is still read */
	bool blocked;	/* stopped on engine backpressure with bytes buffered */
	uint16_t version; /* agreed in HELLO */
	/* a CONTROL waiting to complete (its verb; 0: none):
	 * no later frame is read meanwhile, so replies stay in order */
	uint8_t ctl_verb;
	uint64_t ctl_target; /* rotate, sync: the last seq it must cover */
	struct proto_control ctl_req; /* reload, vacuum: done from ctl_ev */
	struct event *ctl_ev; /* processes the input that waited behind it */
	struct conn_ackmark *marks;
	size_t marks_head, marks_len;
	struct syslog_framer framer;
	/* memory (conn_buf.c): what rbuf and wbuf take from the host's pool
	 * beyond CONN_RBUF_MIN and CONN_WBUF_MIN; the newest queued frame's
	 * offset (SIZE_MAX: none); queue room kept for a CONTROL_DONE owed;
	 * an ACK owed that found no room; the pool's queue of waiters, and
	 * what this connection waits there for */
	size_t rcharge, wcharge;
	size_t wlast, wreserve;
	struct proto_ack ack_owed;
	bool owes_ack;
	bool wblocked; /* stopped taking input: no room for a reply */
	bool status_slot; /* holds one of the pool's CONN_STATUS_SLOTS */
	bool pool_wait;
	struct conn *pool_prev, *pool_next;
	/* a full read buffer: in the pool's list of them, whether a read
	 * filled it since the pool's last sweep, whether any byte came since,
	 * and the sweeps in a row that saw an unfinished frame and no byte */
	bool rbig, rbusy, rgot;
	unsigned rstall;
	struct conn *big_prev, *big_next;
	size_t pool_need, want_rcap, want_wroom;
};

enum {
	CONN_RBUF_MIN = 2048, /* read buffer every connection may have, uncharged */
	CONN_WBUF_MIN = 1024, /* output queue likewise */
	CONN_STATUS_MAX = 4096,
	CONN_SWEEP_SEC = 1, /* the pool's sweep of full read buffers (conn_buf.c) */
	/* STATUS replies charged past the pool at once, at most (conn_buf.c):
	 * seglog status answers while the pool is taken */
	CONN_STATUS_SLOTS = 4,
	/* the longest reply to a frame other than STATUS_REQ (CONTROL_DONE) */
	CONN_REPLY_MAX = PROTO_FRAME_HEADER + PROTO_CONTROL_DONE_FIXED + CONN_CONTROL_TEXT_MAX,
};

/* conn.c: tell the host whether acks are owed; send what is queued; queue
 * one whole frame (false: the connection is closing, queue no more);
 * ERROR(recno, code, text), closing for recno 0 */
void conn_set_waiting(struct conn *c, bool on);
void conn_flush(struct conn *c);
bool conn_queue(struct conn *c, const void *data, size_t n);
void conn_error(struct conn *c, uint64_t recno, uint16_t code, const char *text);

/* conn_frame.c: a framing error, ERROR(0, malformed); handle the native
 * frames / syslog messages the read buffer holds (the bytes consumed) */
void conn_malformed(struct conn *c, const char *why);
size_t conn_native(struct conn *c, uint64_t now_us, uint64_t mono_us);
size_t conn_syslog(struct conn *c, uint64_t now_us, uint64_t mono_us);

/* conn_buf.c: the memory of the buffers and the pool's queue
 * (conn_buf.c's head comment has the rules) */
size_t conn_rbuf_room(struct conn *c);
bool conn_rbuf_grow(struct conn *c);
void conn_rbuf_settle(struct conn *c, bool filled);
void conn_rbuf_discard(struct conn *c);
int conn_wbuf_make_room(struct conn *c, size_t n, bool force);
bool conn_wbuf_room(struct conn *c, size_t n);
bool conn_wbuf_status_room(struct conn *c, size_t n);
bool conn_wbuf_replace_ack(struct conn *c, const uint8_t *frame, size_t n);
void conn_wbuf_empty(struct conn *c);
void conn_pool_leave(struct conn *c);
void conn_buf_free(struct conn *c);

/* conn_ack.c: send the ACK owed, if the queue has room now (force: even
 * past the pool, before a final ERROR);
 * close a native connection at end of stream once nothing is
 * owed; mark the records of this read; one CONTROL frame; the loop's side
 * of a CONTROL (reload, vacuum, then the input behind it) */
void conn_ack_owed(struct conn *c, bool force);
void conn_maybe_done(struct conn *c);
void conn_push_mark(struct conn *c);
void conn_control(struct conn *c, const uint8_t *body, size_t len);
void conn_ctlcb(evutil_socket_t fd, short what, void *arg);
