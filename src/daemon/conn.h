/* One stream connection of seglogd: the native protocol (docs/protocol.md)
 * or a syslog stream (RFC 6587), with its read buffer, the acks it is owed
 * and its output queue.  Every limit a client controls is enforced here:
 * frame size, bytes buffered, unread replies.
 *
 * A connection knows nothing of the server: its host (server.c) hands it a
 * struct conn_host at conn_new() -- the configuration, the engine, the
 * native rate limiter, the counters to add to, and a table of hooks -- and
 * an opaque cookie that comes back in every hook.  The host keeps its own
 * lists (all connections, those waiting for acks) through the hooks; the
 * connection never touches them, and the host never looks inside a
 * connection except through the functions below.
 *
 * Lifetime: conn_close() is where a connection ends; it is freed later, from
 * the event loop, once its queued frames are out (or after a grace period),
 * and the host hears of it through ops->gone().  Nothing here frees a
 * connection while one of its functions is still on the stack. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

#include "cfg.h"
#include "proto.h"

struct conn;
struct conn_pool;
struct engine;
struct event_base;
struct ratelimit;

enum conn_proto {
	CONN_NATIVE,	    /* docs/protocol.md */
	CONN_SYSLOG_STREAM, /* RFC 6587: newline or octet-counted framing */
};

enum {
	/* A closing connection whose peer does not take its last frames is
	 * freed after this long. */
	CONN_LINGER_SEC = 5,
	/* The longest CONTROL_DONE text. */
	CONN_CONTROL_TEXT_MAX = 512,
};

/* Counters the connections add to; owned (written) by conn*.c, kept in the
 * host's memory, read by the host for its status. */
struct conn_stats {
	uint64_t received;     /* native records accepted into the engine */
	uint64_t refused;      /* per-record ERRORs sent */
	uint64_t rate_limited; /* of those, refused by the rate limit */
	uint64_t malformed;    /* connections closed for broken framing */
	uint64_t slow_readers; /* connections dropped for unread replies */
};

/* The host's hooks.  ctx is conn_host.ctx, cookie what conn_new() got. */
struct conn_host_ops {
	/* The connection is owed acks (on) or no longer (off).  The host keeps
	 * the connections that are on, and calls conn_ack() on each of them
	 * when the durable seq advances. */
	void (*wait)(void *ctx, void *cookie, bool on);
	/* The connection is being freed: forget the cookie. */
	void (*gone)(void *ctx, void *cookie);
	/* The STATUS body ("key value\n" lines); returns its length. */
	size_t (*status)(void *ctx, char *buf, size_t cap);
	/* The seq the next record gets, for HELLO_OK. */
	uint64_t (*next_seq)(void *ctx);
	/* One complete message from a syslog stream (not yet rate-limited),
	 * received at now_us (CLOCK_REALTIME) / mono_us (CLOCK_MONOTONIC). */
	void (*syslog)(void *ctx, const char *msg, size_t len, const struct ucred *cred,
		       uint64_t now_us, uint64_t mono_us);
	/* A syslog stream message longer than max_record was dropped. */
	void (*syslog_oversize)(void *ctx);
	/* A CONTROL for reload or vacuum (protocol version 2), called from
	 * the event loop (never from inside a connection's own processing):
	 * does it and returns the CONTROL_DONE status (enum proto_ctl_status)
	 * with its value and a NUL-terminated text of at most cap bytes. */
	uint8_t (*control)(void *ctx, const struct proto_control *req, uint64_t *ret_value,
			   char *text, size_t cap);
};

/* The memory every connection's buffers share beyond the minimum each
 * always has (conn_buf.c): a byte budget, and the queue of connections
 * waiting for it.  The host makes one and hands it to its connections in
 * struct conn_host; without one (NULL) buffers grow unbounded by it. */
struct conn_pool_stats {
	uint64_t limit, used, peak; /* bytes */
	uint64_t refused;	    /* charges the pool refused */
	uint64_t forced;	    /* final ERRORs charged past the limit */
	uint64_t waits;		    /* connections that stopped to wait for it */
	uint64_t stalled;	    /* closed for frame_timeout while others waited */
	bool waiting;		    /* one waits now */
};
int conn_pool_new(struct event_base *base, uint64_t limit, struct conn_pool **ret);
/* After the last connection that used it is freed; NULL-safe. */
struct conn_pool *conn_pool_free(struct conn_pool *p);
void conn_pool_set_limit(struct conn_pool *p, uint64_t limit);
void conn_pool_get_stats(const struct conn_pool *p, struct conn_pool_stats *ret);

/* Everything a connection uses of its host.  The host owns it, may change
 * its engine before connections use it, and keeps it alive (and cfg
 * current: cfg is read at use, so a reload applies to open connections)
 * until the last connection is gone. */
struct conn_host {
	const struct conn_host_ops *ops;
	void *ctx;
	struct event_base *base;
	const struct cfg *cfg;
	struct engine *engine;
	struct ratelimit *rl; /* the native protocol's per-uid limit */
	struct conn_stats *stats;
	struct conn_pool *pool; /* NULL: no budget */
};

/* Takes fd (a connected, nonblocking stream socket; closed on failure too)
 * whose peer is cred (SO_PEERCRED, read by the host when it admitted it),
 * and starts reading.  A native connection must say HELLO within
 * hello_timeout.  -ENOMEM. */
int conn_new(const struct conn_host *host, void *cookie, enum conn_proto proto, int fd,
	     const struct ucred *cred, struct conn **ret);
/* Frees at once, whatever is queued (teardown only; elsewhere conn_close). */
void conn_free(struct conn *c);
/* Ends the connection: stops reading (shutdown SHUT_RD: the peer's further
 * writes fail), sends what is queued, then shuts down the write side,
 * discards what the peer had sent, and closes -- so the peer reads every
 * frame and then an orderly end of stream, not a reset.  After
 * CONN_LINGER_SEC it is closed whatever is left. */
void conn_close(struct conn *c, const char *why);
/* ERROR(0, code, text) and conn_close() for a native client that said HELLO;
 * just conn_close() for the others. */
void conn_end(struct conn *c, uint16_t code, const char *text);
/* The durable seq advanced: one cumulative ACK for what it covers. */
void conn_ack(struct conn *c, uint64_t durable_seq);
/* Stops reading the socket / starts again (bytes already buffered are
 * processed first; a connection that meets a full engine again stays
 * stopped until the next conn_resume()). */
void conn_pause(struct conn *c);
void conn_resume(struct conn *c);
/* SIGTERM: shuts down the read side, takes what the kernel already holds
 * and processes every complete frame in it; never reads again.  Called
 * again after backpressure lifts, it processes what was left buffered. */
void conn_drain_input(struct conn *c);

/* Stopped at a record the engine could not take, with bytes buffered (and
 * not closing). */
bool conn_blocked(const struct conn *c);
/* Its read event is armed. */
bool conn_reading(const struct conn *c);

/* The time in µs on clock (CLOCK_REALTIME for record times, CLOCK_MONOTONIC
 * for intervals: rate-limit windows, uptime). */
uint64_t conn_now_us(clockid_t clock);
