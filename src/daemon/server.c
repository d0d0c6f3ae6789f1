/* seglogd's listeners and the server-wide state: accept with fair limits
 * and EMFILE back-off, the connection and waiter lists, pause and resume on
 * engine backpressure, acks after commit, the SIGTERM drain, the status
 * figures.  Connections are driven through conn.h only. */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"
#include "now.h"
#include "proto.h"
#include "server.h"
#include "store.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59 /* Linux 4.13 */
#endif

/* One accepted connection, as the server keeps it (the cookie of its conn). */
struct server_client {
	struct server *srv;
	struct server_client *prev, *next;	     /* srv->clients */
	struct server_client *wait_prev, *wait_next; /* srv->waiters */
	bool waiting;
	uid_t uid;
	struct conn *conn;
};

/* Connections open per uid, for max_clients_per_uid. */
struct server_uid {
	uid_t uid;
	uint32_t n;
};

static const char *const listener_names[_LISTENER_MAX] = {
	[LISTENER_NATIVE] = "native",
	[LISTENER_SYSLOG_DGRAM] = "syslog",
	[LISTENER_SYSLOG_STREAM] = "syslog-stream",
	[LISTENER_SYSLOG_FORWARD] = "syslog.socket", /* systemd's default name for it */
};

static bool
listener_is_dgram(enum listener_kind kind)
{
	return kind == LISTENER_SYSLOG_DGRAM || kind == LISTENER_SYSLOG_FORWARD;
}

static void server_acceptcb(evutil_socket_t fd, short what, void *arg);
static void server_backoffcb(evutil_socket_t fd, short what, void *arg);
static void server_draincb(evutil_socket_t fd, short what, void *arg);
static void server_check_drained(struct server *srv);

/* --- the hooks a connection calls (conn.h) ------------------------------- */

/* A connection is owed acks (on) or not (off): the waiter list, which
 * server_committed() walks, holds exactly the connections that are on.  The
 * last one leaving may be what a drain waits for. */
static void
server_conn_wait(void *ctx, void *cookie, bool on)
{
	struct server *srv = ctx;
	struct server_client *sc = cookie;

	if (sc->waiting == on)
		return;
	sc->waiting = on;
	if (on) {
		sc->wait_prev = NULL;
		sc->wait_next = srv->waiters;
		if (srv->waiters)
			srv->waiters->wait_prev = sc;
		srv->waiters = sc;
		return;
	}
	if (sc->wait_prev)
		sc->wait_prev->wait_next = sc->wait_next;
	else
		srv->waiters = sc->wait_next;
	if (sc->wait_next)
		sc->wait_next->wait_prev = sc->wait_prev;
	sc->wait_prev = sc->wait_next = NULL;
	if (srv->draining)
		event_active(srv->drain_ev, EV_TIMEOUT, 0);
}

static size_t server_uid_find(const struct server *srv, uid_t uid);

/* A connection is freed: it leaves every list and its uid's count. */
static void
server_conn_gone(void *ctx, void *cookie)
{
	struct server *srv = ctx;
	struct server_client *sc = cookie;
	size_t i = server_uid_find(srv, sc->uid);

	server_conn_wait(srv, sc, false);
	if (sc->prev)
		sc->prev->next = sc->next;
	else
		srv->clients = sc->next;
	if (sc->next)
		sc->next->prev = sc->prev;
	if (i < srv->n_uids && srv->uids[i].uid == sc->uid && --srv->uids[i].n == 0) {
		memmove(srv->uids + i, srv->uids + i + 1,
			(srv->n_uids - i - 1) * sizeof(*srv->uids));
		srv->n_uids--;
	}
	srv->n_conns--;
	free(sc);
	if (srv->draining)
		event_active(srv->drain_ev, EV_TIMEOUT, 0);
}

static size_t
server_conn_status(void *ctx, char *buf, size_t cap)
{
	return server_status(ctx, buf, cap);
}

static uint64_t
server_conn_next_seq(void *ctx)
{
	struct server *srv = ctx;
	struct store_status ss = { 0 };

	if (srv->store)
		store_get_status(srv->store, &ss);
	return ss.next_seq;
}

static void
server_conn_syslog(void *ctx, const char *msg, size_t len, const struct ucred *cred,
		   uint64_t now_us, uint64_t mono_us)
{
	syslogsrv_append(ctx, msg, len, cred, now_us, mono_us);
}

static void
server_conn_syslog_oversize(void *ctx)
{
	struct server *srv = ctx;
	srv->st.dropped_oversize++;
	srv->st.oversize_total++;
}

static uint8_t
server_conn_control(void *ctx, const struct proto_control *req, uint64_t *ret_value, char *text,
		    size_t cap)
{
	struct server *srv = ctx;
	const struct server_control_ops *ops = srv->ctl_ops;

	*ret_value = 0;
	if (req->verb == PROTO_VERB_RELOAD && ops && ops->reload)
		return ops->reload(srv->ctl_ctx, text, cap);
	if (req->verb == PROTO_VERB_VACUUM && ops && ops->vacuum)
		return ops->vacuum(srv->ctl_ctx, req, ret_value, text, cap);
	snprintf(text, cap, "this seglogd cannot do that here");
	return PROTO_CTL_REFUSED;
}

static const struct conn_host_ops server_conn_ops = {
	.control = server_conn_control,
	.wait = server_conn_wait,
	.gone = server_conn_gone,
	.status = server_conn_status,
	.next_seq = server_conn_next_seq,
	.syslog = server_conn_syslog,
	.syslog_oversize = server_conn_syslog_oversize,
};

/* --- setup ---------------------------------------------------------------- */

int
server_new(struct event_base *base, struct cfg *cfg, struct server **ret)
{
	_cleanup_(server_freep) struct server *srv = calloc(1, sizeof(*srv));
	struct timeval sec = { 1, 0 };

	if (!srv)
		return -ENOMEM;
	srv->base = base;
	srv->cfg = cfg;
	srv->euid = geteuid();
	srv->start_mono_us = now_us(CLOCK_MONOTONIC);
	for (int k = 0; k < _LISTENER_MAX; k++)
		srv->listeners[k] = (struct listener){ .srv = srv, .kind = k, .fd = -EBADF };
	srv->rl_native = ratelimit_new(cfg->rate_limit_burst, cfg->rate_limit_interval_us);
	srv->rl_syslog = ratelimit_new(cfg->rate_limit_burst, cfg->rate_limit_interval_us);
	srv->dgram_cap = cfg->max_record + 4096;
	srv->dgram_buf = malloc(srv->dgram_cap + 1);
	srv->suppress_ev = event_new(base, -1, EV_PERSIST, syslogsrv_reportcb, srv);
	srv->drain_ev = event_new(base, -1, 0, server_draincb, srv);
	if (!srv->rl_native || !srv->rl_syslog || !srv->dgram_buf || !srv->suppress_ev ||
	    !srv->drain_ev || event_add(srv->suppress_ev, &sec))
		return -ENOMEM;
	srv->host = (struct conn_host){
		.ops = &server_conn_ops,
		.ctx = srv,
		.base = base,
		.cfg = cfg,
		.rl = srv->rl_native,
		.stats = &srv->cst,
	};
	*ret = TAKE_PTR(srv);
	return 0;
}

static void
listener_close(struct listener *l)
{
	if (l->ev)
		event_free(l->ev);
	if (l->backoff_ev)
		event_free(l->backoff_ev);
	l->ev = l->backoff_ev = NULL;
	if (l->created_file && l->path)
		(void)unlink(l->path);
	l->created_file = false;
	l->fd = safe_close(l->fd);
	free(l->path);
	l->path = NULL;
}

struct server *
server_free(struct server *srv)
{
	if (!srv)
		return NULL;
	while (srv->clients)
		conn_free(srv->clients->conn);
	for (int k = 0; k < _LISTENER_MAX; k++)
		listener_close(&srv->listeners[k]);
	if (srv->suppress_ev)
		event_free(srv->suppress_ev);
	if (srv->drain_ev)
		event_free(srv->drain_ev);
	ratelimit_free(srv->rl_native);
	ratelimit_free(srv->rl_syslog);
	free(srv->uids);
	free(srv->dgram_buf);
	free(srv);
	return NULL;
}

void
server_attach_engine(struct server *srv, struct engine *engine, struct store *store)
{
	srv->engine = engine;
	srv->store = store;
	srv->host.engine = engine;
}

void
server_on_drained(struct server *srv, void (*cb)(struct server *srv))
{
	srv->drained = cb;
}

bool
server_draining(const struct server *srv)
{
	return srv->draining;
}

uint32_t
server_clients(const struct server *srv)
{
	return srv->n_conns;
}

struct event_base *
server_base(const struct server *srv)
{
	return srv->base;
}

/* A socket file left by a crashed daemon is replaced; one that somebody
 * still listens on is not stolen; anything that is not a socket is never
 * removed. */
static int
listener_unlink_stale(const char *path, int type)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	_cleanup_close_ int probe = -EBADF;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return log_error_errno(EEXIST, "%s exists and is not a socket; remove it or "
				       "choose another path", path);
	probe = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (probe < 0)
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return log_error_errno(EADDRINUSE, "%s is in use by a running process (another "
				       "seglogd?); refusing to take it over", path);
	if (errno != ECONNREFUSED)
		return log_error_errno(errno, "Cannot probe existing socket %s: %m", path);
	if (unlink(path) < 0)
		return log_error_errno(errno, "Failed to remove stale socket %s: %m", path);
	log_notice("Replaced stale socket %s", path);
	return 0;
}

static int
listener_bind(struct listener *l, const struct cfg *cfg)
{
	int type = listener_is_dgram(l->kind) ? SOCK_DGRAM : SOCK_STREAM;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -EBADF;
	int r;

	if (strlen(l->path) >= sizeof(sa.sun_path))
		return log_error_errno(ENAMETOOLONG, "Socket path %s is too long (max %zu bytes)",
				       l->path, sizeof(sa.sun_path) - 1);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", l->path);
	r = listener_unlink_stale(l->path, type);
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return log_error_errno(errno, "socket() for %s failed: %m", l->path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return log_error_errno(errno, "Failed to bind %s: %m (does the directory exist "
				       "and is it writable?)", l->path);
	l->created_file = true;
	if (chmod(l->path, cfg->socket_mode) < 0)
		return log_error_errno(errno, "Failed to chmod %s: %m", l->path);
	if (cfg->socket_group) {
		struct group *g = getgrnam(cfg->socket_group);
		if (!g)
			return log_error_errno(ENOENT, "socket_group: no group named \"%s\"",
					       cfg->socket_group);
		if (chown(l->path, (uid_t)-1, g->gr_gid) < 0)
			return log_error_errno(errno, "Failed to chown %s to group %s: %m", l->path,
					       cfg->socket_group);
	}
	if (type == SOCK_STREAM && listen(fd, SOMAXCONN) < 0)
		return log_error_errno(errno, "listen() on %s failed: %m", l->path);
	l->fd = TAKE_FD(fd);
	return 0;
}

static int
listener_open(struct server *srv, enum listener_kind kind, const char *path)
{
	struct listener *l = &srv->listeners[kind];
	int type = listener_is_dgram(kind) ? SOCK_DGRAM : SOCK_STREAM;
	int fd = notify_listen_fd(listener_names[kind]);
	int r;

	if (fd < 0 && !path)
		return 0;
	l->path = strdup(path ? path : listener_names[kind]);
	if (!l->path)
		return -ENOMEM;
	if (fd >= 0) {
		if (!notify_is_unix_socket(fd, type))
			return log_error_errno(EINVAL, "The descriptor systemd passed as \"%s\" is "
					       "not a Unix %s socket; fix FileDescriptorName= "
					       "or ListenStream=/ListenDatagram= in seglogd.socket",
					       listener_names[kind],
					       type == SOCK_DGRAM ? "datagram" : "stream");
		l->fd = fd;
		l->inherited = true;
		if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
			return -errno;
		log_info("Using %s socket passed by systemd", listener_names[kind]);
	} else {
		r = listener_bind(l, srv->cfg);
		if (r < 0)
			return r;
		log_info("Listening on %s (%s)", l->path, listener_names[kind]);
	}
	if (listener_is_dgram(kind)) {
		int one = 1, size = 4 << 20;
		if (setsockopt(l->fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0)
			return log_error_errno(errno, "SO_PASSCRED on %s failed: %m", l->path);
		if (setsockopt(l->fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
			(void)setsockopt(l->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
		l->ev = event_new(srv->base, l->fd, EV_READ | EV_PERSIST, syslogsrv_readcb, srv);
	} else {
		l->ev = event_new(srv->base, l->fd, EV_READ | EV_PERSIST, server_acceptcb, l);
		l->backoff_ev = evtimer_new(srv->base, server_backoffcb, l);
	}
	if (!l->ev || event_add(l->ev, NULL) < 0)
		return -ENOMEM;
	return 0;
}

/* socket_group's members may use the reserved slots: its gid, looked up
 * once (it changes only with a restart). */
static void
server_trusted_group(struct server *srv)
{
	struct group *g;

	srv->have_trusted_gid = false;
	if (!srv->cfg->socket_group)
		return;
	g = getgrnam(srv->cfg->socket_group);
	if (!g) {
		log_warning("socket_group: no group named \"%s\"; no group shares the reserved "
			    "client slots", srv->cfg->socket_group);
		return;
	}
	srv->trusted_gid = g->gr_gid;
	srv->have_trusted_gid = true;
}

int
server_listen(struct server *srv)
{
	int r, n = notify_listen_fds();
	const char *extra;

	if (n < 0)
		return log_error_errno(n, "Failed to read the descriptors passed by systemd: %m");
	server_trusted_group(srv);
	r = listener_open(srv, LISTENER_NATIVE, srv->cfg->socket);
	if (r >= 0)
		r = listener_open(srv, LISTENER_SYSLOG_DGRAM, srv->cfg->syslog_dgram);
	if (r >= 0)
		r = listener_open(srv, LISTENER_SYSLOG_STREAM, srv->cfg->syslog_stream);
	if (r >= 0) /* only ever passed by systemd, never bound */
		r = listener_open(srv, LISTENER_SYSLOG_FORWARD, NULL);
	if (r < 0)
		return r;
	extra = notify_unclaimed_name();
	if (extra)
		return log_error_errno(EINVAL, "systemd passed a socket named \"%s\", which seglogd "
				       "does not know (known: native, syslog, syslog-stream, syslog.socket)",
				       extra);
	return 0;
}

/* --- admission ------------------------------------------------------------ */

/* The index of uid in the sorted per-uid counts, or where it would go. */
static size_t
server_uid_find(const struct server *srv, uid_t uid)
{
	size_t lo = 0, hi = srv->n_uids;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (srv->uids[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static uint32_t
server_uid_count(const struct server *srv, uid_t uid)
{
	size_t i = server_uid_find(srv, uid);

	return i < srv->n_uids && srv->uids[i].uid == uid ? srv->uids[i].n : 0;
}

static int
server_uid_add(struct server *srv, uid_t uid)
{
	size_t i = server_uid_find(srv, uid);

	if (i < srv->n_uids && srv->uids[i].uid == uid) {
		srv->uids[i].n++;
		return 0;
	}
	if (srv->n_uids == srv->cap_uids) {
		size_t ncap = srv->cap_uids ? srv->cap_uids * 2 : 16;
		struct server_uid *nu = realloc(srv->uids, ncap * sizeof(*nu));
		if (!nu)
			return -ENOMEM;
		srv->uids = nu;
		srv->cap_uids = ncap;
	}
	memmove(srv->uids + i + 1, srv->uids + i, (srv->n_uids - i) * sizeof(*srv->uids));
	srv->uids[i] = (struct server_uid){ .uid = uid, .n = 1 };
	srv->n_uids++;
	return 0;
}

/* Whether the peer of fd belongs to socket_group: its gid, or one of its
 * supplementary groups (SO_PEERGROUPS, socket(7)). */
static bool
server_peer_in_group(const struct server *srv, int fd, const struct ucred *cred)
{
	gid_t groups[256];
	socklen_t len = sizeof(groups);

	if (!srv->have_trusted_gid)
		return false;
	if (cred->gid == srv->trusted_gid)
		return true;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
		return false; /* ERANGE: more than 256 groups; not ours to guess */
	for (size_t i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == srv->trusted_gid)
			return true;
	return false;
}

/* Fair limits (seglogd.conf(5), max_clients_per_uid and reserved_clients):
 * no local user can take every slot.  Root and our own uid could stop the
 * daemon anyway, so they are limited by max_clients alone; every other uid
 * may hold at most max_clients_per_uid connections, and leaves the last
 * reserved_clients slots (at most half of them) to root, our uid and
 * socket_group's members.  Returns 0 to admit, or -EUSERS with the reason
 * the client is told in why. */
static int
server_admit(const struct server *srv, int fd, const struct ucred *cred, char *why, size_t cap)
{
	const struct cfg *cfg = srv->cfg;
	uint32_t reserved = cfg->reserved_clients < cfg->max_clients / 2 ? cfg->reserved_clients
									   : cfg->max_clients / 2;

	if (srv->n_conns >= cfg->max_clients) {
		snprintf(why, cap, "too many clients (max_clients = %u)", cfg->max_clients);
		return -EUSERS;
	}
	if (cred->uid == 0 || cred->uid == srv->euid)
		return 0;
	if (cfg->max_clients_per_uid &&
	    server_uid_count(srv, cred->uid) >= cfg->max_clients_per_uid) {
		snprintf(why, cap, "too many connections from uid %u (max_clients_per_uid = %u)",
			 (unsigned)cred->uid, cfg->max_clients_per_uid);
		return -EUSERS;
	}
	if (srv->n_conns >= cfg->max_clients - reserved && !server_peer_in_group(srv, fd, cred)) {
		snprintf(why, cap, "too many clients (the last %u of max_clients = %u are "
			 "reserved for root and socket_group)", reserved, cfg->max_clients);
		return -EUSERS;
	}
	return 0;
}

/* Refuses a connection: a native client is told why in ERROR(0, code) --
 * which fits the empty socket at once -- then the write side is shut down
 * and what the client had sent discarded, so that it reads the frame and
 * an end of stream (a close with its HELLO unread would make its next
 * read fail with ECONNRESET, unix(7); it still gets the frame first). */
static void
server_reject(struct listener *l, int fd, uint16_t code, const char *why)
{
	_cleanup_close_ int sfd = fd;
	uint8_t buf[PROTO_FRAME_HEADER + PROTO_ERROR_FIXED + 160];
	size_t tl = strlen(why) < 160 ? strlen(why) : 160;

	if (l->kind == LISTENER_NATIVE) {
		(void)!send(sfd, buf, proto_put_error(buf, 0, code, why, tl),
			    MSG_NOSIGNAL | MSG_DONTWAIT);
		(void)shutdown(sfd, SHUT_RDWR);
		while (recv(sfd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
			;
	}
	l->srv->st.rejected_clients++;
}

/* Admits one accepted connection, or refuses it saying why. */
static void
server_accept_one(struct listener *l, int fd)
{
	struct server *srv = l->srv;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct server_client *sc;
	char why[160];

	if (srv->draining) {
		server_reject(l, fd, PROTO_ERR_SHUTDOWN, "seglogd is shutting down");
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		log_warning_errno(errno, "SO_PEERCRED on a new connection on %s: %m", l->path);
		safe_close(fd);
		return;
	}
	if (server_admit(srv, fd, &cred, why, sizeof(why)) < 0) {
		log_debug("Refused a connection of pid %d uid %u on %s: %s", (int)cred.pid,
			  (unsigned)cred.uid, l->path, why);
		server_reject(l, fd, PROTO_ERR_TOO_MANY_CLIENTS, why);
		return;
	}
	sc = calloc(1, sizeof(*sc));
	if (!sc || server_uid_add(srv, cred.uid) < 0) {
		free(sc);
		safe_close(fd);
		log_warning("Dropped a new connection on %s: out of memory", l->path);
		return;
	}
	*sc = (struct server_client){ .srv = srv, .uid = cred.uid, .next = srv->clients };
	if (srv->clients)
		srv->clients->prev = sc;
	srv->clients = sc;
	srv->n_conns++;
	if (conn_new(&srv->host, sc, l->kind == LISTENER_NATIVE ? CONN_NATIVE : CONN_SYSLOG_STREAM,
		     fd, &cred, &sc->conn) < 0) {
		server_conn_gone(srv, sc);
		log_warning("Dropped a new connection on %s: out of memory", l->path);
		return;
	}
	srv->st.connections++;
}

static void
server_acceptcb(evutil_socket_t lfd, short what, void *arg)
{
	struct listener *l = arg;

	for (int i = 0; i < 64; i++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				struct timeval tv = { 1, 0 };
				log_warning_errno(errno, "accept() on %s: %m; pausing accepts for "
						  "a second", l->path);
				event_del(l->ev);
				event_add(l->backoff_ev, &tv);
			}
			return;
		}
		server_accept_one(l, fd);
	}
}

static void
server_backoffcb(evutil_socket_t fd, short what, void *arg)
{
	struct listener *l = arg;
	if (!l->srv->draining)
		event_add(l->ev, NULL);
}

/* --- the engine's callbacks ------------------------------------------------ */

void
server_committed(void *userdata, uint64_t durable_seq)
{
	struct server *srv = userdata;
	struct server_client *sc = srv->waiters;

	while (sc) {
		struct server_client *next = sc->wait_next;
		conn_ack(sc->conn, durable_seq); /* may leave the list, never frees */
		sc = next;
	}
	if (srv->draining)
		server_check_drained(srv);
}

void
server_sealed(void *userdata)
{
	struct server *srv = userdata;

	server_committed(srv, engine_durable_seq(srv->engine));
}

void
server_set_control(struct server *srv, const struct server_control_ops *ops, void *ctx)
{
	srv->ctl_ops = ops;
	srv->ctl_ctx = ctx;
}

/* The engine is full (stop) or has room again (go).  Stream connections
 * stop by themselves at their first record the engine cannot take
 * (conn.c), so HELLO and STATUS_REQ are still answered (`seglog status`
 * works on a full disk); the datagram socket stops here.  On go, every
 * connection is resumed -- until one of them fills the engine again. */
void
server_pressure(void *userdata, bool stop)
{
	struct server *srv = userdata;
	struct listener *dg = &srv->listeners[LISTENER_SYSLOG_DGRAM];
	struct listener *fw = &srv->listeners[LISTENER_SYSLOG_FORWARD];

	srv->paused = stop;
	if (stop) {
		if (dg->ev)
			event_del(dg->ev);
		if (fw->ev)
			event_del(fw->ev);
		return;
	}
	for (struct server_client *sc = srv->clients; sc && !srv->paused;) {
		struct server_client *next = sc->next;
		if (srv->draining)
			conn_drain_input(sc->conn);
		else
			conn_resume(sc->conn);
		sc = next;
	}
	if (!srv->paused && !srv->draining && dg->ev)
		event_add(dg->ev, NULL);
	if (!srv->paused && !srv->draining && fw->ev)
		event_add(fw->ev, NULL);
}

void
server_storage_error(void *userdata, int err)
{
	struct server *srv = userdata;
	srv->storage_error = err;
}

void
server_reconfigure(struct server *srv)
{
	ratelimit_configure(srv->rl_native, srv->cfg->rate_limit_burst,
			    srv->cfg->rate_limit_interval_us);
	ratelimit_configure(srv->rl_syslog, srv->cfg->rate_limit_burst,
			    srv->cfg->rate_limit_interval_us);
}

/* --- the drain ------------------------------------------------------------ */

static bool
server_all_flushed(const struct server *srv)
{
	for (const struct server_client *sc = srv->clients; sc; sc = sc->next)
		if (conn_blocked(sc->conn))
			return false;
	return srv->waiters == NULL;
}

/* Everything received is committed and acknowledged: tell every client
 * that the daemon stops, and report the drain done (once). */
static void
server_check_drained(struct server *srv)
{
	if (!srv->engine || !engine_idle(srv->engine) || !server_all_flushed(srv))
		return;
	for (struct server_client *sc = srv->clients; sc;) {
		struct server_client *next = sc->next;
		conn_end(sc->conn, PROTO_ERR_SHUTDOWN, "seglogd is shutting down");
		sc = next;
	}
	if (srv->drained) {
		void (*cb)(struct server *) = srv->drained;
		srv->drained = NULL;
		cb(srv);
	}
}

/* A client went away or stopped waiting while draining: that may have
 * been the last thing the drain waited for.  From the loop, never from
 * inside a connection's call. */
static void
server_draincb(evutil_socket_t fd, short what, void *arg)
{
	server_check_drained(arg);
}

void
server_drain(struct server *srv)
{
	if (srv->draining)
		return;
	srv->draining = true;
	for (int k = 0; k < _LISTENER_MAX; k++)
		if (srv->listeners[k].ev)
			event_del(srv->listeners[k].ev);
	/* what clients sent up to now is committed; shutting down the read
	 * side keeps what the kernel already holds readable and makes further
	 * sends fail, so a client that never stops cannot hold the shutdown */
	for (struct server_client *sc = srv->clients; sc;) {
		struct server_client *next = sc->next;
		conn_drain_input(sc->conn);
		sc = next;
	}
	server_check_drained(srv);
}

/* --- status --------------------------------------------------------------- */

static long
server_rss_kb(void)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/statm", "re");
	long pages = 0, rss = 0;
	if (!f || fscanf(f, "%ld %ld", &pages, &rss) != 2)
		return 0;
	return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

size_t
server_status(struct server *srv, char *buf, size_t cap)
{
	const struct engine_stats *es = engine_stats(srv->engine);
	struct store_status ss;
	const char *state = srv->draining ? "draining"
			    : srv->storage_error ? "storage-error"
			    : srv->paused ? "backpressure" : "running";
	int n;

	store_get_status(srv->store, &ss);
	n = snprintf(
		buf, cap,
		"version %s\npid %ld\nuptime_s %llu\nstate %s\nstorage_error %s\n"
		"durability %s\nrecords %llu\nbytes %llu\nseq %llu\nnext_seq %llu\n"
		"segment %llu\nsealed_segments %zu\nclients %u\npending_bytes %llu\n"
		"commits %llu\nfsyncs %llu\ncommit_p50_us %llu\ncommit_p99_us %llu\n"
		"disk_free %llu\nerrors %llu\nrefused %llu\nrate_limited %llu\nmalformed %llu\n"
		"suppressed %llu\nsyslog_oversize %llu\nsyslog_dropped %llu\nslow_readers %llu\nrejected_clients %llu\n"
		"connections %llu\nrss_kb %ld\n",
		PACKAGE_VERSION, (long)getpid(),
		(unsigned long long)((now_us(CLOCK_MONOTONIC) - srv->start_mono_us) / 1000000),
		state, srv->storage_error ? strerror(-srv->storage_error) : "none",
		srv->cfg->durability == CFG_DURABILITY_FSYNC ? "fsync" : "write",
		(unsigned long long)es->records, (unsigned long long)es->bytes,
		(unsigned long long)engine_durable_seq(srv->engine),
		(unsigned long long)ss.next_seq, (unsigned long long)ss.segment_first_seq,
		ss.sealed_segments, srv->n_conns, (unsigned long long)es->pending_bytes,
		(unsigned long long)es->commits, (unsigned long long)es->fsyncs,
		(unsigned long long)engine_latency_percentile(srv->engine, 50),
		(unsigned long long)engine_latency_percentile(srv->engine, 99),
		(unsigned long long)store_disk_free(srv->store), (unsigned long long)es->errors,
		(unsigned long long)srv->cst.refused, (unsigned long long)srv->cst.rate_limited,
		(unsigned long long)srv->cst.malformed,
		(unsigned long long)ratelimit_total_suppressed(srv->rl_syslog),
		(unsigned long long)srv->st.oversize_total,
		(unsigned long long)srv->st.dropped_other,
		(unsigned long long)srv->cst.slow_readers,
		(unsigned long long)srv->st.rejected_clients,
		(unsigned long long)srv->st.connections, server_rss_kb());
	/* with a shipper configured: its cursor and how far it is behind */
	if (ss.have_ship && n >= 0 && (size_t)n < cap) {
		uint64_t durable = engine_durable_seq(srv->engine);
		/* records retention removed unshipped are no longer behind */
		uint64_t base = ss.oldest_seq && ss.shipped_seq < ss.oldest_seq - 1
					? ss.oldest_seq - 1 : ss.shipped_seq;
		n += snprintf(buf + n, cap - (size_t)n,
			      "shipped_seq %llu\nship_lag %llu\nship_lag_bytes %llu\n"
			      "unshipped_removed %llu\n",
			      (unsigned long long)ss.shipped_seq,
			      (unsigned long long)(durable > base ? durable - base : 0),
			      (unsigned long long)ss.ship_lag_bytes,
			      (unsigned long long)ss.unshipped_removed);
	}
	/* the commit-latency histogram as it is kept (bucket i: [2^i, 2^(i+1))
	 * µs, the last one open-ended), for seglog status -o openmetrics */
	if (n >= 0 && (size_t)n < cap)
		n += snprintf(buf + n, cap - (size_t)n, "commit_latency_sum_us %llu\n"
			      "commit_latency_buckets_us", (unsigned long long)es->lat_sum_us);
	for (size_t i = 0; i < ELEMENTSOF(es->lat_hist) && n >= 0 && (size_t)n < cap; i++)
		n += snprintf(buf + n, cap - (size_t)n, " %llu",
			      (unsigned long long)es->lat_hist[i]);
	if (n >= 0 && (size_t)n < cap)
		n += snprintf(buf + n, cap - (size_t)n, "\n");
	return n < 0 ? 0 : (size_t)n >= cap ? cap - 1 : (size_t)n;
}
