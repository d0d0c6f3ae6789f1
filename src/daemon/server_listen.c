/* seglogd's listening sockets: each one bound at its configured path (a
 * stale socket file replaced, a live one never stolen, mode and group
 * set) or taken from systemd by its name (socket activation), and watched
 * by accept (streams, server_accept.c) or the datagram reader
 * (syslogsrv.c). */
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
#include "server.h"
#include "server_internal.h"

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

void
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

