/* seglogd's socket side: listeners, admission, acknowledgements,
 * backpressure, the drain and the status.  Data flows one way: socket →
 * frame parser → record → engine; the engine's committed() callback comes
 * back as acks.
 *
 * server.c     the connection hooks, the connection and waiter lists,
 *              pause/resume, drain, status
 * server_listen.c  the listening sockets (bound, or passed by systemd)
 * server_accept.c  accept and its limits, the per-uid counts
 * syslogsrv.c  the syslog datagram socket, syslog messages from streams, and
 *              the records that report suppressed syslog messages
 * conn.c       one stream connection (conn.h; it does not know this file),
 *              with conn_frame.c (its input) and conn_ack.c (acks, CONTROL) */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "cfg.h"
#include "cleanup.h"
#include "conn.h"
#include "engine.h"
#include "ratelimit.h"

struct event;
struct event_base;
struct server;
struct server_client; /* server_internal.h: one accepted connection */
struct server_uid;    /* server_accept.c: connections per uid */
struct syslogsrv_dgrams; /* syslogsrv.c: the recvmmsg(2) buffers and headers */

enum {
	SERVER_DGRAM_BATCH = 16, /* syslog datagrams per recvmmsg(2) */
};

enum listener_kind {
	LISTENER_NATIVE,
	LISTENER_SYSLOG_DGRAM,
	LISTENER_SYSLOG_STREAM,
	LISTENER_SYSLOG_FORWARD, /* systemd's syslog.socket (journald ForwardToSyslog=yes) */
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

struct server_stats {
	uint64_t dgrams;
	uint64_t syslog_received;  /* syslog messages (datagram and stream) stored */
	uint64_t dropped_oversize; /* syslog messages too large, not yet reported */
	uint64_t oversize_total;   /* the same since start (status: syslog_oversize) */
	uint64_t dropped_other;	   /* syslog messages the engine refused otherwise
				    * (out of memory; status: syslog_dropped) */
	uint64_t connections;	   /* accepted since start */
	uint64_t rejected_clients; /* refused at accept (limits, shutdown) */
};

/* Written by server*.c and syslogsrv.c only.  seglogd.c still reads base,
 * n_conns and draining and sets drained directly; it is to use
 * server_on_drained(), server_clients() and server_draining() instead, after
 * which this struct can move into server_internal.h. */
struct server {
	struct event_base *base;
	struct engine *engine;
	struct store *store;
	struct cfg *cfg;
	struct ratelimit *rl_native; /* native records, refused with ERROR(N) */
	struct ratelimit *rl_syslog; /* syslog messages, counted as suppressed */
	struct listener listeners[_LISTENER_MAX];
	struct conn_host host; /* what every connection uses of us */
	struct conn_stats cst; /* the connections' counters (conn.c writes them) */
	struct conn_pool *pool; /* their buffers' memory beyond the minimum */
	struct server_client *clients;
	struct server_client *waiters; /* clients owed acks */
	struct server_uid *uids;       /* sorted by uid */
	size_t n_uids, cap_uids;
	uid_t euid;		       /* our own: trusted like root */
	gid_t trusted_gid;	       /* socket_group's, if have_trusted_gid */
	bool have_trusted_gid;
	uint32_t n_conns;
	bool paused; /* engine backpressure */
	bool draining;
	int storage_error;
	uint64_t start_mono_us;
	struct event *suppress_ev;
	struct event *drain_ev; /* re-checks the drain from the loop */
	struct server_stats st;
	struct syslogsrv_dgrams *dgrams;
	void (*drained)(struct server *srv); /* called once drain completes */
	const struct server_control_ops *ctl_ops; /* CONTROL reload, vacuum */
	void *ctl_ctx;
};

/* The CONTROL verbs only the daemon can do (protocol version 2): each
 * returns the CONTROL_DONE status (enum proto_ctl_status) with a text. */
struct server_control_ops {
	uint8_t (*reload)(void *ctx, char *text, size_t cap);
	uint8_t (*vacuum)(void *ctx, const struct proto_control *req, uint64_t *ret_removed,
			  char *text, size_t cap);
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
 * then call the drained callback. */
void server_drain(struct server *srv);
void server_set_control(struct server *srv, const struct server_control_ops *ops, void *ctx);
/* The callback server_drain() ends with (once). */
void server_on_drained(struct server *srv, void (*cb)(struct server *srv));
bool server_draining(const struct server *srv);
/* Connections open now. */
uint32_t server_clients(const struct server *srv);
struct event_base *server_base(const struct server *srv);
/* The status text: "key value\n" lines into buf; returns the length. */
size_t server_status(struct server *srv, char *buf, size_t cap);

/* engine callbacks */
void server_committed(void *userdata, uint64_t durable_seq);
/* A seal completed: connections waiting for one (CONTROL rotate) look. */
void server_sealed(void *userdata);
void server_pressure(void *userdata, bool stop);
void server_storage_error(void *userdata, int err);

/* syslogsrv.c */
/* SERVER_DGRAM_BATCH datagram buffers of cap bytes with their recvmmsg(2)
 * headers, set up once. */
struct syslogsrv_dgrams *syslogsrv_dgrams_new(size_t cap);
struct syslogsrv_dgrams *syslogsrv_dgrams_free(struct syslogsrv_dgrams *d);
void syslogsrv_readcb(int fd, short what, void *arg);
/* The once-a-second timer: suppression and oversize reports (arg: srv). */
void syslogsrv_reportcb(int fd, short what, void *arg);
/* Appends one syslog message as a record (received at now_us realtime,
 * mono_us monotonic), subject to the syslog rate limit; counts refusals. */
void syslogsrv_append(struct server *srv, const char *buf, size_t len, const struct ucred *cred,
		      uint64_t now_us, uint64_t mono_us);
