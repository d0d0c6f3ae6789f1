/* What the server's files share and no one else uses (server.h is the
 * interface): server.c (the hooks, the lists, backpressure, the drain,
 * the status), server_listen.c (the listening sockets), server_accept.c
 * (admission and the per-uid counts). */
#pragma once

#include <event2/util.h>
#include <stdbool.h>
#include <sys/types.h>

#include "server.h"

/* One accepted connection, as the server keeps it (the cookie of its conn). */
struct server_client {
	struct server *srv;
	struct server_client *prev, *next;	     /* srv->clients */
	struct server_client *wait_prev, *wait_next; /* srv->waiters */
	bool waiting;
	uid_t uid;
	struct conn *conn;
};

/* server.c: the connection hook for a connection that is freed (it leaves
 * every list and its uid's count), also for one that failed to start */
void server_conn_gone(void *ctx, void *cookie);

/* server_listen.c: closes a listener (unlinking the socket file it made) */
void listener_close(struct listener *l);

/* server_accept.c: the listeners' accept and EMFILE back-off callbacks
 * (arg: the listener); one connection of uid fewer */
void server_acceptcb(evutil_socket_t fd, short what, void *arg);
void server_backoffcb(evutil_socket_t fd, short what, void *arg);
void server_uid_remove(struct server *srv, uid_t uid);
