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

/* conn_ack.c: close a native connection at end of stream once nothing is
 * owed; mark the records of this read; one CONTROL frame; the loop's side
 * of a CONTROL (reload, vacuum, then the input behind it) */
void conn_maybe_done(struct conn *c);
void conn_push_mark(struct conn *c);
void conn_control(struct conn *c, const uint8_t *body, size_t len);
void conn_ctlcb(evutil_socket_t fd, short what, void *arg);
