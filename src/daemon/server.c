/* The server-wide state of seglogd: the hooks its connections call, the
 * connection and waiter lists, pause and resume on engine backpressure,
 * acks after commit, the SIGTERM drain, the status figures.  The
 * listening sockets are server_listen.c's, admission server_accept.c's.
 * Connections are driven through conn.h only. */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "now.h"
#include "proto.h"
#include "server.h"
#include "server_internal.h"
#include "store.h"

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

/* A connection is freed: it leaves every list and its uid's count. */
void
server_conn_gone(void *ctx, void *cookie)
{
	struct server *srv = ctx;
	struct server_client *sc = cookie;

	server_conn_wait(srv, sc, false);
	if (sc->prev)
		sc->prev->next = sc->next;
	else
		srv->clients = sc->next;
	if (sc->next)
		sc->next->prev = sc->prev;
	server_uid_remove(srv, sc->uid);
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

/* What the connections' buffers may take beyond their minimums: the
 * budget less the engine's share (cfg_validate() keeps it >= 2 read
 * buffers). */
static uint64_t
server_pool_limit(const struct cfg *cfg)
{
	return cfg_memory_budget(cfg) > cfg_memory_limit(cfg) ? cfg_memory_budget(cfg) - cfg_memory_limit(cfg)
						      : 0;
}

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
	srv->dgrams = syslogsrv_dgrams_new(cfg->max_record + 4096);
	srv->suppress_ev = event_new(base, -1, EV_PERSIST, syslogsrv_reportcb, srv);
	srv->drain_ev = event_new(base, -1, 0, server_draincb, srv);
	if (!srv->rl_native || !srv->rl_syslog || !srv->dgrams || !srv->suppress_ev ||
	    !srv->drain_ev || event_add(srv->suppress_ev, &sec) ||
	    conn_pool_new(base, server_pool_limit(cfg), &srv->pool) < 0)
		return -ENOMEM;
	srv->host = (struct conn_host){
		.ops = &server_conn_ops,
		.ctx = srv,
		.base = base,
		.cfg = cfg,
		.rl = srv->rl_native,
		.stats = &srv->cst,
		.pool = srv->pool,
	};
	*ret = TAKE_PTR(srv);
	return 0;
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
	conn_pool_free(srv->pool);
	free(srv->uids);
	syslogsrv_dgrams_free(srv->dgrams);
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
	conn_pool_set_limit(srv->pool, server_pool_limit(srv->cfg));
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

/* The figures of the daemon, the engine and the store, one "key value"
 * line each: snprintf's result. */
static int
server_status_figures(struct server *srv, const struct engine_stats *es,
		      const struct store_status *ss, char *buf, size_t cap)
{
	const char *state = srv->draining ? "draining"
			    : srv->storage_error ? "storage-error"
			    : srv->paused ? "backpressure" : "running";

	return snprintf(
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
		(unsigned long long)ss->next_seq, (unsigned long long)ss->segment_first_seq,
		ss->sealed_segments, srv->n_conns, (unsigned long long)es->pending_bytes,
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
}

/* With a shipper configured: its cursor and how far it is behind. */
static int
server_status_ship(struct server *srv, const struct store_status *ss, char *buf, size_t cap)
{
	uint64_t durable = engine_durable_seq(srv->engine);
	/* records retention removed unshipped are no longer behind */
	uint64_t base = ss->oldest_seq && ss->shipped_seq < ss->oldest_seq - 1
				? ss->oldest_seq - 1 : ss->shipped_seq;

	return snprintf(buf, cap,
			"shipped_seq %llu\nship_lag %llu\nship_lag_bytes %llu\n"
			"unshipped_removed %llu\n",
			(unsigned long long)ss->shipped_seq,
			(unsigned long long)(durable > base ? durable - base : 0),
			(unsigned long long)ss->ship_lag_bytes,
			(unsigned long long)ss->unshipped_removed);
}

/* The memory budget (docs/design.md, "Bounded memory"): its size, what
 * is taken of it now (the engine's pending bytes and the connections'
 * buffers beyond their minimums), the buffers' share, their peak, and how
 * often a connection had to wait for memory. */
static int
server_status_memory(struct server *srv, const struct engine_stats *es, char *buf, size_t cap)
{
	struct conn_pool_stats ps;

	conn_pool_get_stats(srv->pool, &ps);
	return snprintf(buf, cap,
			"memory_budget %llu\nmemory_used %llu\nbuffer_bytes %llu\n"
			"buffer_limit %llu\nbuffer_peak %llu\nbuffer_waits %llu\nbuffer_stalled %llu\n",
			(unsigned long long)cfg_memory_budget(srv->cfg),
			(unsigned long long)(es->pending_bytes + ps.used),
			(unsigned long long)ps.used, (unsigned long long)ps.limit,
			(unsigned long long)ps.peak, (unsigned long long)ps.waits,
			(unsigned long long)ps.stalled);
}

/* The commit-latency histogram as it is kept (bucket i: [2^i, 2^(i+1))
 * µs, the last one open-ended), for seglog status -o openmetrics, after
 * the n bytes of buf already written: the new n. */
static int
server_status_latency(const struct engine_stats *es, char *buf, size_t cap, int n)
{
	if (n >= 0 && (size_t)n < cap)
		n += snprintf(buf + n, cap - (size_t)n, "commit_latency_sum_us %llu\n"
			      "commit_latency_buckets_us", (unsigned long long)es->lat_sum_us);
	for (size_t i = 0; i < ELEMENTSOF(es->lat_hist) && n >= 0 && (size_t)n < cap; i++)
		n += snprintf(buf + n, cap - (size_t)n, " %llu",
			      (unsigned long long)es->lat_hist[i]);
	if (n >= 0 && (size_t)n < cap)
		n += snprintf(buf + n, cap - (size_t)n, "\n");
	return n;
}

size_t
server_status(struct server *srv, char *buf, size_t cap)
{
	const struct engine_stats *es = engine_stats(srv->engine);
	struct store_status ss;
	int n;

	store_get_status(srv->store, &ss);
	n = server_status_figures(srv, es, &ss, buf, cap);
	if (ss.have_ship && n >= 0 && (size_t)n < cap)
		n += server_status_ship(srv, &ss, buf + n, cap - (size_t)n);
	if (n >= 0 && (size_t)n < cap)
		n += server_status_memory(srv, es, buf + n, cap - (size_t)n);
	n = server_status_latency(es, buf, cap, n);
	return n < 0 ? 0 : (size_t)n >= cap ? cap - 1 : (size_t)n;
}
