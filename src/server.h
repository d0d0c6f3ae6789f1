/* seglogd's socket side: listeners, connections, acknowledgements,
 * limits and backpressure.  Data flows one way: socket → frame parser →
 * record → engine; the engine's committed() callback comes back as acks.
 *
 * server.c   listeners, accept, pause/resume, drain, status, suppression
 * conn.c     one stream connection: native protocol or syslog stream
 * syslogsrv.c  the syslog datagram socket */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "cfg.h"
#include "cleanup.h"
#include "engine.h"
#include "ratelimit.h"
#include "syslogmsg.h"

struct event;
struct event_base;
struct server;

enum listener_kind {
	LISTENER_NATIVE,
	LISTENER_SYSLOG_DGRAM,
	LISTENER_SYSLOG_STREAM,
	_LISTENER_MAX,
};

struct listener {
	struct server *srv;
	enum listener_kind kind;
	int fd;
	char *path;	   /* NULL if off */
	bool inherited;	   /* from systemd: never unlink */
	bool created_file; /* we bound it: unlink at exit */
	struct event *ev;
	struct event *backoff_ev; /* EMFILE: retry accept in a second */
};

struct ackmark {
	uint64_t recno; /* records up to this one are resolved once seq is durable */
	uint64_t seq;
};

struct conn {
	struct server *srv;
	struct conn *prev, *next;		/* all connections */
	struct conn *wait_prev, *wait_next;	/* waiting for acks */
	bool waiting;
	enum listener_kind kind;
	int fd;
	struct ucred cred;
	struct event *rev, *wev, *timer;
	uint8_t *rbuf;
	size_t rlen, rcap;
	uint8_t *wbuf;
	size_t wlen, wcap;
	uint64_t skip;	     /* bytes of a refused oversized frame still to discard */
	uint64_t recno;	     /* records received (native) */
	uint64_t last_seq;   /* seq of this connection's newest appended record */
	uint64_t acked_recno;
	bool hello_done, closing, reading, eof;
	bool peer_gone; /* writes fail (EPIPE): acks are dropped, input is still read */
	bool blocked;	     /* stopped on engine backpressure with bytes buffered */
	struct ackmark *marks;
	size_t marks_head, marks_len, marks_cap;
	struct syslog_framer framer;
};

struct server_stats {
	uint64_t received;	/* records accepted into the engine */
	uint64_t refused;	/* per-record errors sent */
	uint64_t malformed;	/* connections closed for framing */
	uint64_t dgrams;
	uint64_t dropped_oversize; /* syslog messages too large */
	uint64_t connections;	/* accepted since start */
	uint64_t slow_readers;
	uint64_t rejected_clients;
};

struct server {
	struct event_base *base;
	struct engine *engine;
	struct store *store;
	struct cfg *cfg;
	struct ratelimit *rl;
	struct listener listeners[_LISTENER_MAX];
	struct conn *conns;
	struct conn *waiters;
	uint32_t n_conns;
	bool paused;   /* engine backpressure */
	bool draining;
	int storage_error;
	uint64_t start_us;
	struct event *suppress_ev;
	struct server_stats st;
	uint8_t *dgram_buf;
	size_t dgram_cap;
	void (*drained)(struct server *srv); /* called once drain completes */
};

int server_new(struct event_base *base, struct cfg *cfg, struct server **ret);
struct server *server_free(struct server *srv);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct server *, server_free)
/* Binds (or takes from systemd) every configured socket. */
int server_listen(struct server *srv);
void server_attach_engine(struct server *srv, struct engine *engine, struct store *store);
/* After SIGHUP: limits and rate limits from the new cfg (already swapped in). */
void server_reconfigure(struct server *srv);
/* SIGTERM: stop accepting and reading, commit and ack what was received,
 * then call srv->drained. */
void server_drain(struct server *srv);
/* The status text: "key value\n" lines into buf; returns the length. */
size_t server_status(struct server *srv, char *buf, size_t cap);

/* engine callbacks */
void server_committed(void *userdata, uint64_t durable_seq);
void server_pressure(void *userdata, bool stop);
void server_storage_error(void *userdata, int err);

/* conn.c */
int conn_new(struct server *srv, enum listener_kind kind, int fd, struct conn **ret);
void conn_close(struct conn *c, const char *why);
/* Frees at once (teardown only; elsewhere conn_close). */
void conn_free(struct conn *c);
void conn_resume(struct conn *c);
void conn_pause(struct conn *c);
void conn_ack(struct conn *c, uint64_t durable_seq);
void conn_send_error(struct conn *c, uint64_t recno, uint16_t code, const char *text);
void conn_drain_input(struct conn *c);
bool conn_flushed(const struct conn *c);

/* syslogsrv.c */
void syslogsrv_readcb(int fd, short what, void *arg);
/* Appends one syslog message as a record; counts refusals. */
void syslogsrv_append(struct server *srv, const char *buf, size_t len, const struct ucred *cred,
		      uint64_t now_us);
