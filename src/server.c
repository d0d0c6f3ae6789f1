/* seglogd's listeners and the server-wide state: accept with limits and
 * EMFILE back-off, pause and resume on engine backpressure, acks after
 * commit, the SIGTERM drain, the status figures. */
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
#include "proto.h"
#include "server.h"

static const char *const listener_names[_LISTENER_MAX] = {
	[LISTENER_NATIVE] = "native",
	[LISTENER_SYSLOG_DGRAM] = "syslog",
	[LISTENER_SYSLOG_STREAM] = "syslog-stream",
};

static void server_acceptcb(evutil_socket_t fd, short what, void *arg);
static void server_backoffcb(evutil_socket_t fd, short what, void *arg);
static void server_suppresscb(evutil_socket_t fd, short what, void *arg);
static void server_check_drained(struct server *srv);

int
server_new(struct event_base *base, struct cfg *cfg, struct server **ret)
{
	_cleanup_(server_freep) struct server *srv = calloc(1, sizeof(*srv));
	struct timeval sec = { 1, 0 };

	if (!srv)
		return -ENOMEM;
	srv->base = base;
	srv->cfg = cfg;
	srv->start_us = store_now_us();
	for (int k = 0; k < _LISTENER_MAX; k++)
		srv->listeners[k] = (struct listener){ .srv = srv, .kind = k, .fd = -EBADF };
	srv->rl = ratelimit_new(cfg->rate_limit_burst, cfg->rate_limit_interval_us);
	srv->dgram_cap = cfg->max_record + 4096;
	srv->dgram_buf = malloc(srv->dgram_cap + 1);
	srv->suppress_ev = event_new(base, -1, EV_PERSIST, server_suppresscb, srv);
	if (!srv->rl || !srv->dgram_buf || !srv->suppress_ev || event_add(srv->suppress_ev, &sec))
		return -ENOMEM;
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
	while (srv->conns)
		conn_free(srv->conns);
	for (int k = 0; k < _LISTENER_MAX; k++)
		listener_close(&srv->listeners[k]);
	if (srv->suppress_ev)
		event_free(srv->suppress_ev);
	ratelimit_free(srv->rl);
	free(srv->dgram_buf);
	free(srv);
	return NULL;
}

void
server_attach_engine(struct server *srv, struct engine *engine, struct store *store)
{
	srv->engine = engine;
	srv->store = store;
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
	int type = l->kind == LISTENER_SYSLOG_DGRAM ? SOCK_DGRAM : SOCK_STREAM;
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
	int type = kind == LISTENER_SYSLOG_DGRAM ? SOCK_DGRAM : SOCK_STREAM;
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
	if (kind == LISTENER_SYSLOG_DGRAM) {
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

int
server_listen(struct server *srv)
{
	int r, n = notify_listen_fds();
	const char *extra;

	if (n < 0)
		return log_error_errno(n, "Failed to read the descriptors passed by systemd: %m");
	r = listener_open(srv, LISTENER_NATIVE, srv->cfg->socket);
	if (r >= 0)
		r = listener_open(srv, LISTENER_SYSLOG_DGRAM, srv->cfg->syslog_dgram);
	if (r >= 0)
		r = listener_open(srv, LISTENER_SYSLOG_STREAM, srv->cfg->syslog_stream);
	if (r < 0)
		return r;
	extra = notify_unclaimed_name();
	if (extra)
		return log_error_errno(EINVAL, "systemd passed a socket named \"%s\", which seglogd "
				       "does not know (known: native, syslog, syslog-stream)",
				       extra);
	return 0;
}

/* Too many clients: tell a native client why, then hang up. */
static void
server_reject(struct listener *l, int fd)
{
	if (l->kind == LISTENER_NATIVE) {
		uint8_t buf[PROTO_FRAME_HEADER + 10 + 64];
		static const char text[] = "too many clients (max_clients)";
		size_t n = proto_put_error(buf, 0, PROTO_ERR_TOO_MANY_CLIENTS, text, sizeof(text) - 1);
		(void)!send(fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);
	}
	l->srv->st.rejected_clients++;
	safe_close(fd);
}

static void
server_acceptcb(evutil_socket_t lfd, short what, void *arg)
{
	struct listener *l = arg;
	struct server *srv = l->srv;

	for (int i = 0; i < 64; i++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		struct conn *c;

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
		if (srv->n_conns >= srv->cfg->max_clients || srv->draining) {
			server_reject(l, fd);
			continue;
		}
		if (conn_new(srv, l->kind, fd, &c) < 0) {
			log_warning("Dropped a new connection on %s: out of memory", l->path);
			continue;
		}
		srv->st.connections++;
	}
}

static void
server_backoffcb(evutil_socket_t fd, short what, void *arg)
{
	struct listener *l = arg;
	if (!l->srv->draining)
		event_add(l->ev, NULL);
}

void
server_committed(void *userdata, uint64_t durable_seq)
{
	struct server *srv = userdata;
	struct conn *c = srv->waiters;

	while (c) {
		struct conn *next = c->wait_next;
		conn_ack(c, durable_seq);
		c = next;
	}
	if (srv->draining)
		server_check_drained(srv);
}

/* The engine is full (stop) or has room again (go): stop reading every
 * socket, or resume them all. */
void
server_pressure(void *userdata, bool stop)
{
	struct server *srv = userdata;
	struct listener *dg = &srv->listeners[LISTENER_SYSLOG_DGRAM];

	srv->paused = stop;
	if (stop) {
		/* stream connections stop by themselves at their first record
		 * the engine cannot take (conn.c), so HELLO and STATUS_REQ are
		 * still answered: `seglog status` works on a full disk */
		if (dg->ev)
			event_del(dg->ev);
		return;
	}
	for (struct conn *c = srv->conns; c; c = c->next) {
		if (srv->paused)
			break; /* a resumed client filled the engine again */
		if (srv->draining)
			conn_drain_input(c);
		else
			conn_resume(c);
	}
	if (!srv->paused && !srv->draining && dg->ev)
		event_add(dg->ev, NULL);
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
	ratelimit_configure(srv->rl, srv->cfg->rate_limit_burst, srv->cfg->rate_limit_interval_us);
}

/* Writes "suppressed N messages from uid U" records for the rate-limit
 * windows that ended, and a count of oversized syslog messages. */
static void
server_suppresscb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	struct ratelimit_report rep[32];
	uint64_t now = store_now_us();
	size_t n;
	char msg[160];

	if (!srv->engine || srv->paused)
		return;
	n = ratelimit_expired(srv->rl, now, rep, ELEMENTSOF(rep));
	for (size_t i = 0; i <= n; i++) {
		int len;
		if (i < n)
			len = snprintf(msg, sizeof(msg), "suppressed %llu messages from uid %u "
				       "(rate_limit_burst %u per %llu ms)",
				       (unsigned long long)rep[i].suppressed, rep[i].uid,
				       srv->cfg->rate_limit_burst,
				       (unsigned long long)srv->cfg->rate_limit_interval_us / 1000);
		else if (srv->st.dropped_oversize)
			len = snprintf(msg, sizeof(msg), "dropped %llu syslog messages larger than "
				       "max_record (%u bytes)",
				       (unsigned long long)srv->st.dropped_oversize,
				       srv->cfg->max_record);
		else
			break;
		struct record r = {
			.time_us = now, .pid = getpid(), .uid = getuid(), .gid = getgid(),
			.facility = 5, .severity = 4, .tag = "seglogd", .tag_len = 7,
			.msg = msg, .msg_len = (size_t)len, .claimed_pid = RECORD_NO_CLAIMED_PID,
		};
		if (engine_append(srv->engine, &r) < 0)
			break; /* counts stay; reported next time */
		if (i == n)
			srv->st.dropped_oversize = 0;
	}
}

static bool
server_all_flushed(struct server *srv)
{
	for (struct conn *c = srv->conns; c; c = c->next)
		if (!c->closing && c->blocked)
			return false;
	return srv->waiters == NULL;
}

static void
server_check_drained(struct server *srv)
{
	if (!engine_idle(srv->engine) || !server_all_flushed(srv))
		return;
	for (struct conn *c = srv->conns; c; c = c->next)
		if (!c->closing) {
			if (c->kind == LISTENER_NATIVE && c->hello_done)
				conn_send_error(c, 0, PROTO_ERR_SHUTDOWN, "seglogd is shutting down");
			else
				conn_close(c, "shutdown");
		}
	if (srv->drained) {
		void (*cb)(struct server *) = srv->drained;
		srv->drained = NULL;
		cb(srv);
	}
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
	/* what clients sent up to now is committed; SHUT_RD keeps what the
	 * kernel already holds readable and makes further sends fail, so a
	 * client that never stops cannot hold the shutdown open */
	for (struct conn *c = srv->conns; c; c = c->next) {
		shutdown(c->fd, SHUT_RD);
		conn_drain_input(c);
	}
	server_check_drained(srv);
}

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
		"disk_free %llu\nerrors %llu\nrefused %llu\nmalformed %llu\nsuppressed %llu\n"
		"slow_readers %llu\nrejected_clients %llu\nconnections %llu\nrss_kb %ld\n",
		PACKAGE_VERSION, (long)getpid(),
		(unsigned long long)((store_now_us() - srv->start_us) / 1000000), state,
		srv->storage_error ? strerror(-srv->storage_error) : "none",
		srv->cfg->durability == CFG_DURABILITY_FSYNC ? "fsync" : "write",
		(unsigned long long)es->records, (unsigned long long)es->bytes,
		(unsigned long long)engine_durable_seq(srv->engine),
		(unsigned long long)ss.next_seq, (unsigned long long)ss.segment_first_seq,
		ss.sealed_segments, srv->n_conns, (unsigned long long)es->pending_bytes,
		(unsigned long long)es->commits, (unsigned long long)es->fsyncs,
		(unsigned long long)engine_latency_percentile(srv->engine, 50),
		(unsigned long long)engine_latency_percentile(srv->engine, 99),
		(unsigned long long)store_disk_free(srv->store), (unsigned long long)es->errors,
		(unsigned long long)srv->st.refused, (unsigned long long)srv->st.malformed,
		(unsigned long long)ratelimit_total_suppressed(srv->rl),
		(unsigned long long)srv->st.slow_readers,
		(unsigned long long)srv->st.rejected_clients,
		(unsigned long long)srv->st.connections, server_rss_kb());
	return n < 0 ? 0 : (size_t)n >= cap ? cap - 1 : (size_t)n;
}
