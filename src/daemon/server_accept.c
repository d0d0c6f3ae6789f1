/* Admission of stream connections: accept(2) in batches with a pause on
 * EMFILE and the like, fair limits (max_clients, max_clients_per_uid and
 * the reserved slots of root, our uid and socket_group), a refusal that
 * the native client reads as ERROR before an orderly end of stream, and
 * the per-uid counts the limits go by. */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "proto.h"
#include "server.h"
#include "server_internal.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59 /* Linux 4.13 */
#endif

/* Connections open per uid, for max_clients_per_uid. */
struct server_uid {
	uid_t uid;
	uint32_t n;
};

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

/* A connection of uid is gone: its count goes down, and is dropped at 0. */
void
server_uid_remove(struct server *srv, uid_t uid)
{
	size_t i = server_uid_find(srv, uid);

	if (i < srv->n_uids && srv->uids[i].uid == uid && --srv->uids[i].n == 0) {
		memmove(srv->uids + i, srv->uids + i + 1,
			(srv->n_uids - i - 1) * sizeof(*srv->uids));
		srv->n_uids--;
	}
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

void
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

void
server_backoffcb(evutil_socket_t fd, short what, void *arg)
{
	struct listener *l = arg;
	if (!l->srv->draining)
		event_add(l->ev, NULL);
}

