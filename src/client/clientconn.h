/* A client connection to seglogd over the native protocol
 * (docs/protocol.md), for the seglog utility: connect, HELLO/HELLO_OK, a
 * buffered output queue of frames written in large nonblocking sends, and
 * a frame reader for ACK, ERROR and STATUS.
 *
 * The socket is nonblocking from the start; the caller drives it with
 * poll() (clientconn_fd()), or uses clientconn_wait_frame() where blocking
 * is what it wants (HELLO, STATUS).  Functions return -errno on failure. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cleanup.h"
#include "proto.h"

enum {
	CLIENTCONN_ERROR_TEXT_MAX = 256,
};

struct clientconn {
	int fd;
	const char *path;	     /* the socket path, for messages; not owned */
	struct proto_hello_ok hello; /* valid after clientconn_hello() */
	uint8_t *out;		     /* queued frames: out[out_pos .. out_len) */
	size_t out_pos, out_len, out_cap;
	uint8_t *in; /* received bytes: in[in_pos .. in_len) */
	size_t in_pos, in_len, in_cap;
	bool in_eof;
	int write_err; /* -errno of the first failed send; nothing is sent after it */
	/* records, numbered 1, 2, ... as queued; see clientconn_take_reply() */
	uint64_t sent;	   /* recno of the last record queued */
	uint64_t acked;	   /* from the last ACK: every recno <= acked is resolved */
	uint64_t last_seq; /* from the last ACK */
	uint64_t refused;  /* ERROR(N) frames received */
	uint64_t *ahead;   /* refused recnos > acked, ascending */
	size_t n_ahead, cap_ahead;
	/* the ERROR frame that ended clientconn_hello() with -EPROTO */
	uint16_t hello_err_code;
	char hello_err_text[CLIENTCONN_ERROR_TEXT_MAX + 1];
};

/* A frame as received; body points into the connection's input buffer and
 * stays valid until the next receive. */
struct clientconn_frame {
	uint8_t type;
	const uint8_t *body;
	size_t len;
};

/* Connects to the Unix stream socket at path (which must outlive the
 * connection).  -ENAMETOOLONG if path does not fit a sockaddr_un; else the
 * errno of socket(2) or connect(2), e.g. -ENOENT or -ECONNREFUSED when the
 * daemon is not running. */
int clientconn_connect(const char *path, struct clientconn **ret);
struct clientconn *clientconn_free(struct clientconn *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct clientconn *, clientconn_free)
#define _cleanup_clientconn_ _cleanup_(clientconn_freep)

static inline int
clientconn_fd(const struct clientconn *c)
{
	return c->fd;
}

/* clientconn_connect() and clientconn_hello() for a seglog subcommand: on
 * failure prints one line naming the socket and what happened (with a hint
 * when the daemon is not running, the daemon's reason when it refused us)
 * and returns -errno: that of connect(2) when there is no daemon to talk
 * to, else -EPROTO (it refused us with an ERROR frame), -EPROTONOSUPPORT (no
 * common version), -EBADMSG (not seglogd), -ECONNRESET (closed without a
 * word) or -ETIMEDOUT.  clientconn_exit_status() turns it into the exit
 * status. */
int clientconn_open(const char *path, int timeout_ms, struct clientconn **ret);

/* The seglog exit status for a failure of clientconn_open() or of an
 * exchange after it: EX_UNAVAILABLE (69) when no daemon could be reached,
 * EX_TEMPFAIL (75) when one is there but refused, closed or did not answer
 * in time, EX_PROTOCOL (76) when it does not speak our protocol (client.h). */
int clientconn_exit_status(int err);

/* Sends HELLO (versions 1..2) and waits up to timeout_ms for HELLO_OK, which
 * it keeps in c->hello (version: the one agreed).  -EPROTO if the daemon answered with an ERROR
 * (code and text in c->hello_err_*), -EBADMSG for anything else,
 * -ECONNRESET if it closed, -ETIMEDOUT. */
int clientconn_hello(struct clientconn *c, int timeout_ms);

/* The output queue.  Nothing is sent until clientconn_flush(). */
size_t clientconn_pending(const struct clientconn *c);
int clientconn_queue_record(struct clientconn *c, const struct proto_record *r);
int clientconn_queue_status_req(struct clientconn *c);
/* A CONTROL frame: only when c->hello.version >= PROTO_VERSION_CONTROL. */
int clientconn_queue_control(struct clientconn *c, const struct proto_control *req);
/* Sends as much of the queue as the socket takes without blocking.
 * Returns 0 (the rest, if any, stays queued), or -EPIPE, -ECONNRESET, ...
 * when the daemon stopped reading or is gone (SIGPIPE is never raised:
 * MSG_NOSIGNAL).  After a failure nothing more is sent (the same error is
 * returned again), but what the daemon sent before -- its last ACKs and
 * the ERROR saying why it stopped reading -- is still to be read: read to
 * the end of stream before reporting the failure. */
int clientconn_flush(struct clientconn *c);
/* shutdown(SHUT_WR): no more frames; the daemon answers what it has. */
int clientconn_shutdown(struct clientconn *c);
/* Bytes sent that the daemon has not read from its socket yet (SIOCOUTQ,
 * unix(7)), or -errno. */
int clientconn_unread(const struct clientconn *c, size_t *ret);

/* Reads what the socket holds without blocking: the number of bytes
 * (> 0), 0 at end of stream, -EAGAIN if nothing is there, or -errno. */
int clientconn_recv(struct clientconn *c);
/* Takes the next complete frame out of the input buffer: 1 with *ret set,
 * 0 if no complete frame is buffered, -EBADMSG if the stream is out of
 * step (bad length field). */
int clientconn_next_frame(struct clientconn *c, struct clientconn_frame *ret);
/* Accounts for an ACK or ERROR frame (docs/protocol.md,
 * "Acknowledgements"): ACK(N, S) resolves every recno <= N; ERROR(N) refuses
 * record N and comes before the ACK that covers it.  Returns 0 for an ACK
 * (or a frame that is not about records, which is ignored), 1 for ERROR(N)
 * with *ret_err set, -ECONNABORTED for ERROR(0) (the connection is over)
 * with *ret_err set, -EBADMSG for a malformed ACK or ERROR (or one about a
 * record never sent), -ENOMEM. */
int clientconn_take_reply(struct clientconn *c, const struct clientconn_frame *f,
			  struct proto_error *ret_err);

/* Records acknowledged as stored, and records neither stored nor refused
 * yet (in flight, or lost with the connection). */
static inline uint64_t
clientconn_stored(const struct clientconn *c)
{
	return c->acked - (c->refused - c->n_ahead);
}

static inline uint64_t
clientconn_unresolved(const struct clientconn *c)
{
	return c->sent - c->acked - c->n_ahead;
}

/* Flushes the queue and waits up to timeout_ms (-1: forever) for the next
 * frame.  A failed send does not end the wait: the daemon's reply (an ERROR
 * saying why it stopped reading) may still come.  -ECONNRESET at end of
 * stream, -ETIMEDOUT, or a receive error. */
int clientconn_wait_frame(struct clientconn *c, int timeout_ms, struct clientconn_frame *ret);
