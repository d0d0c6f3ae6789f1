/* seglogd: the ingest daemon.  main() only wires the modules together:
 * configuration → store (recovery) → engine → server → event loop. */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <inttypes.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "cursor.h"
#include "engine.h"
#include "log.h"
#include "notify.h"
#include "now.h"
#include "ring.h"
#include "kmsgsrv.h"
#include "server.h"
#include "store.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct event *, event_free)

enum {
	EXIT_CONFIG = 2,
	DAEMON_N_OVERRIDES = 5, /* the options that set a key: daemon_override_opts */
	DAEMON_ALARM_GRACE_S = 10, /* after shutdown_timeout, for the SIGALRM backstop */
};

struct override {
	const char *section, *key, *value;
};

struct daemon {
	struct event_base *base;
	struct cfg cfg;
	const char *cfg_path;
	bool dump; /* --check-config --dump */
	bool cfg_explicit;
	/* one per option of daemon_override_opts, in its order (NULL value:
	 * not given; given again, the last one wins) */
	struct override overrides[DAEMON_N_OVERRIDES];
	struct ring *ring;
	struct store *store;
	struct engine *engine;
	struct server *server;
	struct kmsgsrv *kmsg; /* NULL unless kmsg = yes and /dev/kmsg is readable */
	struct event *stop_timer, *watchdog_ev, *status_ev;
	uint64_t status_records, status_us;
	/* the shipper's cursor as last read (daemon_ship_progress) */
	uint64_t ship_seq;
	int ship_err;
	int exit_status;
};

static void
usage(FILE *f)
{
	fprintf(f, "Usage: seglogd [OPTIONS]\n\n"
		   "The seglog ingest daemon (runs in the foreground).\n\n"
		   "  -c, --config FILE        configuration file (default " CFG_DEFAULT_PATH ")\n"
		   "      --dir DIR            data directory\n"
		   "      --socket PATH        native protocol socket\n"
		   "      --syslog-dgram PATH  syslog datagram socket\n"
		   "      --syslog-stream PATH syslog stream socket\n"
		   "      --durability MODE    fsync (default) or write\n"
		   "      --check-config       validate the configuration (the file, then FILE.d/\n"
		   "                           *.conf in lexical order) and exit\n"
		   "      --dump               with --check-config: print the merged result\n"
		   "      --version            print the version and exit\n"
		   "  -h, --help               this text\n\n"
		   "Signals: TERM/INT drain and exit, HUP reloads, USR1 rotates.\n"
		   "See seglogd(8) and seglogd.conf(5).\n");
}

/* Defaults, then the file, then the command line; exits 2 on any error
 * with the message naming file:line and key. */
static int
daemon_load_config(struct daemon *d, struct cfg *c, char *ret_err, size_t err_cap)
{
	_cleanup_free_ char *err = NULL;
	int r;

	r = cfg_init(c);
	if (r < 0)
		return r;
	if (d->cfg_explicit || access(d->cfg_path, F_OK) == 0)
		r = cfg_load_file(c, d->cfg_path, &err);
	if (r >= 0) {
		/* then PATH.d/ *.conf in lexical order, as journald.conf.d: a key
		 * set again later wins */
		char **dropins = NULL;
		r = cfg_dropins(d->cfg_path, &dropins);
		if (r < 0)
			log_error_errno(r, "Failed to list %s.d: %m", d->cfg_path);
		for (size_t i = 0; r >= 0 && dropins && dropins[i]; i++)
			r = cfg_load_file(c, dropins[i], &err);
		cfg_dropins_free(dropins);
	}
	for (size_t i = 0; r >= 0 && i < DAEMON_N_OVERRIDES; i++) {
		struct override *o = &d->overrides[i];
		if (o->value)
			r = cfg_set(c, "command line", o->section, o->key, o->value, &err);
	}
	if (r >= 0)
		r = cfg_validate(c, &err);
	if (r < 0) {
		log_error("%s", err ? err : "configuration error");
		if (ret_err)
			snprintf(ret_err, err_cap, "%s", err ? err : "configuration error");
		cfg_done(c);
		return -EINVAL;
	}
	return 0;
}

static struct store_config
daemon_store_config(const struct cfg *c)
{
	return (struct store_config){
		.dir = c->dir,
		.dir_mode = c->dir_mode,
		.file_mode = c->file_mode,
		.max_record = c->max_record,
		.retention = {
			.max_segments = c->max_segments,
			.max_bytes = c->max_bytes,
			.max_age_us = c->max_age_us,
			.keep_free_bytes = c->keep_free_bytes,
			.keep_free_percent = c->keep_free_percent,
		},
	};
}

static struct engine_config
daemon_engine_config(const struct cfg *c)
{
	return (struct engine_config){
		.durability = c->durability,
		.segment_size = c->segment_size,
		.segment_age_us = c->segment_age_us,
		.memory_limit = cfg_memory_limit(c),
		.batch_max = c->batch_max,
		.max_record = c->max_record,
	};
}

static void daemon_statuscb(evutil_socket_t fd, short what, void *arg);
static int daemon_ship_progress(void *ctx, const struct store *st, uint64_t *ret_seq);

static void
daemon_drained(struct server *srv)
{
	/* a moment for the final frames to leave */
	event_base_loopexit(server_base(srv), &(struct timeval){ 0, 50000 });
}

/* Shutdown did not finish in time: leave the loop; daemon_done() then
 * waits for nothing that can hang (engine_free and ring_free give up on
 * requests that do not complete and leave them to the kernel). */
static void
daemon_stop_timeoutcb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	log_error("Shutdown did not finish within shutdown_timeout (%llu ms): %llu bytes were "
		  "still uncommitted; exiting anyway",
		  (unsigned long long)d->cfg.shutdown_timeout_us / 1000,
		  (unsigned long long)engine_stats(d->engine)->pending_bytes);
	d->exit_status = 1;
	event_base_loopbreak(d->base);
}

/* The last resort, for a loop that cannot even run its timer (blocked in
 * a file operation on a hung disk): async-signal-safe, exits 1. */
static void
daemon_alarm(int sig)
{
	static const char msg[] = "<3>Shutdown is stuck (the event loop does not run); "
				  "exiting without cleaning up\n";
	(void)sig;
	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	_exit(1);
}

static void
daemon_termcb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;
	struct timeval tv = { (time_t)(d->cfg.shutdown_timeout_us / 1000000),
			      (suseconds_t)(d->cfg.shutdown_timeout_us % 1000000) };

	if (server_draining(d->server))
		return;
	log_info("Received %s: draining (committing and acknowledging what was received)",
		 strsignal((int)sig));
	notify("STOPPING=1");
	if (d->kmsg)
		kmsgsrv_pause(d->kmsg, true);
	event_add(d->stop_timer, &tv);
	signal(SIGALRM, daemon_alarm);
	alarm((unsigned)(d->cfg.shutdown_timeout_us / 1000000) + DAEMON_ALARM_GRACE_S);
	server_drain(d->server);
}

/* The file to reload, with the running values of what changes only at a
 * restart, must pass the cross-checks too.  0, or -EINVAL with the error
 * logged and in err. */
static int
daemon_reload_check(const struct cfg *n, char *err, size_t err_cap)
{
	_cleanup_free_ char *why = NULL;

	if (cfg_validate(n, &why) >= 0)
		return 0;
	log_error("Reload refused: %s (with the running client_buffer and max_record, which "
		  "change only at a restart); keeping the running configuration",
		  why ? why : "configuration error");
	if (err)
		snprintf(err, err_cap, "%s (with the running client_buffer and max_record, which "
			 "change only at a restart)", why ? why : "configuration error");
	return -EINVAL;
}

/* SIGHUP and `seglog reload`: re-read the file; apply what can change at
 * run time, say what needs a restart, keep the old configuration on any
 * error.  0, or -EINVAL with the error in err (err_cap bytes). */
static int
daemon_reload(struct daemon *d, char *err, size_t err_cap)
{
	struct cfg n;

	notify("RELOADING=1");
	if (daemon_load_config(d, &n, err, err_cap) < 0) {
		log_error("Reload failed; keeping the running configuration");
		notify("READY=1");
		return -EINVAL;
	}
	if (n.client_buffer != d->cfg.client_buffer || n.socket_mode != d->cfg.socket_mode ||
	    n.dir_mode != d->cfg.dir_mode || n.file_mode != d->cfg.file_mode ||
	    n.max_record != d->cfg.max_record)
		log_warning("client_buffer, max_record, socket_mode, dir_mode and file_mode take "
			    "effect after a restart");
	n.client_buffer = d->cfg.client_buffer;
	n.max_record = d->cfg.max_record;
	n.socket_mode = d->cfg.socket_mode;
	n.dir_mode = d->cfg.dir_mode;
	n.file_mode = d->cfg.file_mode;
	/* with the running client_buffer and max_record, the new file must
	 * still hold (memory_budget against two read buffers: the no-deadlock
	 * rule): checked again, or a reload could leave a pool too small for
	 * any large record (found by a hostile test) */
	if (daemon_reload_check(&n, err, err_cap) < 0) {
		cfg_done(&n);
		notify("READY=1");
		return -EINVAL;
	}
#define KEEP_STR(field, name)                                                               \
	if ((n.field || d->cfg.field) &&                                                    \
	    (!n.field || !d->cfg.field || strcmp(n.field, d->cfg.field) != 0))              \
		log_warning("%s changed; it takes effect after a restart", name);           \
	free(n.field);                                                                      \
	n.field = d->cfg.field;                                                             \
	d->cfg.field = NULL;
	KEEP_STR(dir, "dir");
	KEEP_STR(socket, "socket");
	KEEP_STR(socket_group, "socket_group");
	KEEP_STR(syslog_dgram, "syslog_dgram");
	KEEP_STR(syslog_stream, "syslog_stream");
#undef KEEP_STR
	cfg_done(&d->cfg);
	d->cfg = n;
	log_set_max_level(d->cfg.log_level);
	struct store_config sc = daemon_store_config(&d->cfg);
	store_set_retention(d->store, &sc.retention);
	store_set_ship(d->store, daemon_ship_progress, d, d->cfg.retention_waits_for_ship);
	struct engine_config ec = daemon_engine_config(&d->cfg);
	engine_reconfigure(d->engine, &ec);
	server_reconfigure(d->server);
	log_info("Configuration reloaded");
	notify("READY=1");
	daemon_statuscb(-1, 0, d);
	return 0;
}

static void
daemon_hupcb(evutil_socket_t sig, short what, void *arg)
{
	(void)daemon_reload(arg, NULL, 0);
}

static uint8_t
daemon_ctl_reload(void *ctx, char *text, size_t cap)
{
	char err[CONN_CONTROL_TEXT_MAX - 64] = "";

	log_info("Reload requested over the socket");
	if (daemon_reload(ctx, err, sizeof(err)) < 0) {
		snprintf(text, cap, "reload failed, the running configuration is kept: %s", err);
		return PROTO_CTL_FAILED;
	}
	snprintf(text, cap, "configuration reloaded (seglogd's log lists what needs a restart)");
	return PROTO_CTL_OK;
}

/* The last seq the shipper has shipped, from its cursor file: 0 and
 * *ret_seq, or -errno with text saying what is wrong with it. */
static int
daemon_shipped(struct daemon *d, const struct store *st, uint64_t *ret_seq, char *text, size_t cap)
{
	_cleanup_cursor_file_ struct cursor_file cf = CURSOR_FILE_INIT;
	struct cursor c;
	int r = cursor_file_open(&cf, d->cfg.ship_cursor, d->cfg.dir, 0);

	if (r == -ENOENT) {
		snprintf(text, cap, "the directory of the shipper's cursor %s does not exist",
			 d->cfg.ship_cursor);
		return r;
	}
	if (r == 0)
		r = cursor_file_load(&cf, &c);
	if (r == -ENOENT) {
		*ret_seq = 0; /* nothing shipped yet */
		return 0;
	}
	if (r == 0)
		r = cursor_check_dir(&c, store_dir_id(st));
	/* (also keeps shipped + 1 from wrapping) */
	if (r == 0 && c.seq >= store_next_seq(st))
		r = -ERANGE;
	if (r == -EXDEV)
		snprintf(text, cap, "the shipper's cursor %s belongs to another data directory",
			 d->cfg.ship_cursor);
	else if (r == -ERANGE)
		snprintf(text, cap, "the shipper's cursor %s is at seq %" PRIu64 ", past the newest "
			 "record (%" PRIu64 ")", d->cfg.ship_cursor, c.seq, store_next_seq(st) - 1);
	else if (r < 0)
		snprintf(text, cap, "cannot read the shipper's cursor %s: %s", d->cfg.ship_cursor,
			 strerror(-r));
	if (r < 0)
		return r;
	*ret_seq = c.seq;
	return 0;
}

/* The shipper's progress for retention and the status: its cursor, read
 * afresh each time (one open and a read of 90 bytes, after a seal's
 * fsyncs: a value kept even 200 ms counted records shipped meanwhile as
 * unshipped when keep_free removed them); -ENOENT without a shipper
 * configured.  A cursor that cannot be
 * used (damaged, another directory's, past the end) counts as nothing
 * shipped, with a warning: retention_waits_for_ship then keeps, as with no
 * cursor file yet, and keep_free still protects the disk. */
static int
daemon_ship_progress(void *ctx, const struct store *st, uint64_t *ret_seq)
{
	struct daemon *d = ctx;
	char text[512];
	int r;

	if (!d->cfg.ship_cursor)
		return -ENOENT;
	r = daemon_shipped(d, st, &d->ship_seq, text, sizeof(text));
	if (r < 0) {
		if (r != d->ship_err)
			log_warning("%s; counting nothing as shipped until it is fixed", text);
		d->ship_seq = 0;
	}
	d->ship_err = r;
	*ret_seq = d->ship_seq;
	return 0;
}

/* `seglog vacuum`: the oldest sealed segments over the limits given go
 * now, through the store's retention path; with a shipper configured
 * ([ship] in seglogd.conf), never what it has not shipped, unless forced. */
static uint8_t
daemon_ctl_vacuum(void *ctx, const struct proto_control *req, uint64_t *ret_removed, char *text,
		  size_t cap)
{
	struct daemon *d = ctx;
	struct segdir_vacuum v = {
		.by_bytes = req->flags & PROTO_CTL_SIZE, .max_bytes = req->max_bytes,
		.by_age = req->flags & PROTO_CTL_TIME, .max_age_us = req->max_age_us,
		.by_files = req->flags & PROTO_CTL_FILES, .max_files = req->max_files,
	};
	struct store_vacuum_result res;
	uint64_t shipped = 0, keep_from = 0;
	int r;

	if (!v.by_bytes && !v.by_age && !v.by_files) {
		snprintf(text, cap, "vacuum needs a limit: --size, --time or --files");
		return PROTO_CTL_REFUSED;
	}
	if (d->cfg.ship_cursor && !(req->flags & PROTO_CTL_FORCE)) {
		if (daemon_shipped(d, d->store, &shipped, text, cap) < 0) {
			size_t n = strlen(text);
			snprintf(text + n, cap - n, "; nothing removed (--force removes anyway)");
			return PROTO_CTL_REFUSED;
		}
		keep_from = shipped + 1;
	}
	r = store_vacuum(d->store, &v, keep_from, &res);
	*ret_removed = res.removed;
	if (r < 0) {
		snprintf(text, cap, "removed %" PRIu64 " segment(s), then failed: %s (seglogd's log "
			 "says more)", res.removed, strerror(-r));
		return PROTO_CTL_FAILED;
	}
	size_t n = res.removed
		? (size_t)snprintf(text, cap, "removed %" PRIu64 " sealed segment(s), %" PRIu64
				   " bytes, seqs %" PRIu64 "..%" PRIu64, res.removed, res.bytes,
				   res.first, res.last)
		: (size_t)snprintf(text, cap, "nothing to remove");
	if (res.kept_unshipped && n < cap)
		snprintf(text + n, cap - n, "; kept %" PRIu64 " more the shipper has not shipped "
			 "(its cursor %s is at seq %" PRIu64 "; --force removes them)",
			 res.kept_unshipped, d->cfg.ship_cursor, shipped);
	log_info("Vacuum requested over the socket: %s", text);
	return PROTO_CTL_OK;
}

static const struct server_control_ops daemon_control_ops = {
	.reload = daemon_ctl_reload,
	.vacuum = daemon_ctl_vacuum,
};

static void
daemon_usr1cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;
	log_info("Received SIGUSR1: sealing current");
	engine_rotate(d->engine);
}

static void
daemon_watchdogcb(evutil_socket_t fd, short what, void *arg)
{
	notify("WATCHDOG=1");
}

static void
daemon_statuscb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	const struct engine_stats *es = engine_stats(d->engine);
	uint64_t now = now_us(CLOCK_MONOTONIC);
	double secs = (double)(now - d->status_us) / 1e6;
	double rate = secs > 0 ? (double)(es->records - d->status_records) / secs : 0;
	struct store_status ss;

	store_get_status(d->store, &ss);
	d->status_us = now;
	d->status_records = es->records;
	if (engine_error(d->engine))
		notify_printf("STATUS=Cannot write to %s: %s; holding acknowledgements, retrying",
			      ss.path, strerror(-engine_error(d->engine)));
	else
		notify_printf("STATUS=%.0f records/s, seq %llu, segment %llu, %u clients", rate,
			      (unsigned long long)engine_durable_seq(d->engine),
			      (unsigned long long)ss.segment_first_seq, server_clients(d->server));
}

static void
daemon_version(void)
{
#ifdef SEGLOG_ACK_AUDIT
	printf("seglogd %s (ack-audit)\n", PACKAGE_VERSION);
#else
	printf("seglogd %s\n", PACKAGE_VERSION);
#endif
}

enum { OPT_DIR = 256, OPT_SOCKET, OPT_DGRAM, OPT_STREAM, OPT_DURABILITY, OPT_CHECK, OPT_VERSION,
       OPT_DUMP };

/* The options that set one key of the configuration, over the file. */
static const struct daemon_override_opt {
	int opt;
	const char *section, *key;
} daemon_override_opts[] = {
	{ OPT_DIR, "storage", "dir" },
	{ OPT_SOCKET, "server", "socket" },
	{ OPT_DGRAM, "server", "syslog_dgram" },
	{ OPT_STREAM, "server", "syslog_stream" },
	{ OPT_DURABILITY, "storage", "durability" },
};
_Static_assert(ELEMENTSOF(daemon_override_opts) == DAEMON_N_OVERRIDES, "one slot per option");

/* Option o (getopt_long's value) as an override of its key, with the
 * value arg; false if o is none of them. */
static bool
daemon_add_override(struct daemon *d, int o, const char *arg)
{
	for (size_t i = 0; i < ELEMENTSOF(daemon_override_opts); i++) {
		const struct daemon_override_opt *x = &daemon_override_opts[i];
		if (x->opt == o) {
			d->overrides[i] = (struct override){ x->section, x->key, arg };
			return true;
		}
	}
	return false;
}

static int
daemon_parse_args(struct daemon *d, int argc, char **argv, bool *ret_check)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "dir", required_argument, NULL, OPT_DIR },
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "syslog-dgram", required_argument, NULL, OPT_DGRAM },
		{ "syslog-stream", required_argument, NULL, OPT_STREAM },
		{ "durability", required_argument, NULL, OPT_DURABILITY },
		{ "check-config", no_argument, NULL, OPT_CHECK },
		{ "dump", no_argument, NULL, OPT_DUMP },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	int o;

	d->cfg_path = CFG_DEFAULT_PATH;
	while ((o = getopt_long(argc, argv, "c:h", opts, NULL)) >= 0) {
		switch (o) {
		case 'c':
			d->cfg_path = optarg;
			d->cfg_explicit = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case OPT_VERSION:
			daemon_version();
			exit(0);
		case OPT_DUMP:
			d->dump = true;
			*ret_check = true;
			break;
		case OPT_CHECK:
			*ret_check = true;
			break;
		default:
			if (daemon_add_override(d, o, optarg))
				break;
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		log_error("Unexpected argument \"%s\"; seglogd takes options only (see --help)",
			  argv[optind]);
		return -EINVAL;
	}
	return 0;
}

/* The engine's callbacks: the kernel log input learns which of its records
 * are durable before the server acks (and maybe ends the drain). */
static void
daemon_committed(void *userdata, uint64_t durable_seq)
{
	struct daemon *d = userdata;

	if (d->kmsg)
		kmsgsrv_committed(d->kmsg, durable_seq);
	server_committed(d->server, durable_seq);
}

static void
daemon_pressure(void *userdata, bool stop)
{
	struct daemon *d = userdata;

	if (d->kmsg && !server_draining(d->server))
		kmsgsrv_pause(d->kmsg, stop);
	server_pressure(d->server, stop);
}

static void
daemon_storage_error(void *userdata, int err)
{
	struct daemon *d = userdata;

	server_storage_error(d->server, err);
}

static void
daemon_sealed(void *userdata)
{
	struct daemon *d = userdata;

	server_sealed(d->server);
}

static int
daemon_kmsg_append(void *userdata, struct record *r)
{
	struct daemon *d = userdata;

	return engine_append(d->engine, r);
}

/* The event loop and the io_uring ring, with every opcode seglogd uses. */
static int
daemon_open_ring(struct daemon *d)
{
	const char *missing;
	int r;

	d->base = event_base_new();
	if (!d->base)
		return log_error_errno(ENOMEM, "Failed to create the event loop");
	r = ring_new(256, d->base, &d->ring);
	if (r < 0)
		return log_error_errno(r, "Failed to set up io_uring: %m (seglogd needs Linux >= "
				       "5.15 with io_uring enabled; check "
				       "/proc/sys/kernel/io_uring_disabled and seccomp filters)");
	missing = ring_missing_opcode(d->ring);
	if (missing)
		return log_error_errno(EOPNOTSUPP, "io_uring on this kernel lacks %s, which seglogd "
				       "needs (Linux >= 5.15; check seccomp filters)", missing);
	return 0;
}

/* The store (recovery), the server and the commit engine, wired to each
 * other; then the listeners and the kernel log. */
static int
daemon_open_modules(struct daemon *d)
{
	struct store_config sc = daemon_store_config(&d->cfg);
	struct engine_config ec = daemon_engine_config(&d->cfg);
	struct engine_callbacks cb = { daemon_committed, daemon_pressure, daemon_storage_error,
				       daemon_sealed };
	int r;

	/* the shipper's progress from the first retention on, recovery's too
	 * (found by a hostile test: a start that cut a torn tail removed
	 * every unshipped segment over max_segments) */
	sc.shipped = daemon_ship_progress;
	sc.ship_ctx = d;
	sc.ship_wait = d->cfg.retention_waits_for_ship;
	r = store_open(&sc, ring_fsops(d->ring), &d->store);
	if (r < 0)
		return r;
	r = server_new(d->base, &d->cfg, &d->server);
	if (r < 0)
		return log_error_errno(r, "Failed to set up the server: %m");
	r = engine_new(d->base, ring_ops(d->ring), d->store, &ec, &cb, d, &d->engine);
	if (r < 0)
		return log_error_errno(r, "Failed to set up the commit engine: %m");
	server_attach_engine(d->server, d->engine, d->store);
	server_set_control(d->server, &daemon_control_ops, d);
	server_on_drained(d->server, daemon_drained);
	r = server_listen(d->server);
	if (r < 0)
		return r;
	if (d->cfg.kmsg) {
		struct kmsgsrv_config kc = { .fd = -EBADF, .dir = store_path(d->store) };
		/* not readable: kmsgsrv_new said why; the daemon runs on without it */
		(void)kmsgsrv_new(d->base, &kc, daemon_kmsg_append, d, &d->kmsg);
	}
	return 0;
}

/* systemd's watchdog (WATCHDOG_USEC), pinged twice per period. */
static int
daemon_start_watchdog(struct daemon *d)
{
	uint64_t wd = notify_watchdog_usec();
	struct timeval tv = { (time_t)(wd / 2 / 1000000), (suseconds_t)(wd / 2 % 1000000) };

	if (!wd)
		return 0;
	d->watchdog_ev = event_new(d->base, -1, EV_PERSIST, daemon_watchdogcb, d);
	if (!d->watchdog_ev || event_add(d->watchdog_ev, &tv))
		return -ENOMEM;
	return 0;
}

static int
daemon_run(struct daemon *d)
{
	_cleanup_(event_freep) struct event *term = NULL, *intr = NULL, *hup = NULL, *usr1 = NULL;
	int r;

	signal(SIGPIPE, SIG_IGN);
	r = daemon_open_ring(d);
	if (r < 0)
		return r;
	r = daemon_open_modules(d);
	if (r < 0)
		return r;
	term = evsignal_new(d->base, SIGTERM, daemon_termcb, d);
	intr = evsignal_new(d->base, SIGINT, daemon_termcb, d);
	hup = evsignal_new(d->base, SIGHUP, daemon_hupcb, d);
	usr1 = evsignal_new(d->base, SIGUSR1, daemon_usr1cb, d);
	d->stop_timer = evtimer_new(d->base, daemon_stop_timeoutcb, d);
	d->status_ev = event_new(d->base, -1, EV_PERSIST, daemon_statuscb, d);
	if (!term || !intr || !hup || !usr1 || !d->stop_timer || !d->status_ev ||
	    event_add(term, NULL) || event_add(intr, NULL) || event_add(hup, NULL) ||
	    event_add(usr1, NULL) || event_add(d->status_ev, &(struct timeval){ 10, 0 }))
		return log_error_errno(ENOMEM, "Failed to set up signal handling");
	r = daemon_start_watchdog(d);
	if (r < 0)
		return r;
	d->status_us = now_us(CLOCK_MONOTONIC);
	log_info("seglogd %s ready: data %s, next seq %llu, durability %s", PACKAGE_VERSION,
		 store_path(d->store), (unsigned long long)store_next_seq(d->store),
		 d->cfg.durability == CFG_DURABILITY_FSYNC ? "fsync" : "write");
	notify("READY=1");
	daemon_statuscb(-1, 0, d);
	event_base_dispatch(d->base);
	return d->exit_status ? -EIO : 0;
}

static void
daemon_done(struct daemon *d)
{
	if (d->watchdog_ev)
		event_free(d->watchdog_ev);
	if (d->status_ev)
		event_free(d->status_ev);
	if (d->stop_timer)
		event_free(d->stop_timer);
	d->kmsg = kmsgsrv_free(d->kmsg); /* writes DIR/kmsg after the drain's last commit */
	d->server = server_free(d->server);
	d->engine = engine_free(d->engine);
	d->store = store_free(d->store);
	d->ring = ring_free(d->ring);
	if (d->base)
		event_base_free(d->base);
	cfg_done(&d->cfg);
}

/* Memory that is freed goes back to the kernel (docs/design.md, "Bounded
 * memory"): glibc serves blocks of 128 KiB and more (the full read
 * buffers, the engine's chunks) with mmap(2) and unmaps them on free(3),
 * and a fixed threshold keeps it from raising that threshold to the
 * largest block freed, which would keep such blocks in the heap, resident
 * after a burst (mallopt(3), M_MMAP_THRESHOLD). */
static void
daemon_malloc_policy(void)
{
	(void)mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	(void)mallopt(M_TRIM_THRESHOLD, 256 * 1024);
}

int
main(int argc, char **argv)
{
	struct daemon d = { 0 };
	bool check = false;
	int r;

	daemon_malloc_policy();
	log_set_prefix(true);
	if (daemon_parse_args(&d, argc, argv, &check) < 0)
		return EXIT_CONFIG;
	if (daemon_load_config(&d, &d.cfg, NULL, 0) < 0)
		return EXIT_CONFIG;
	log_set_max_level(d.cfg.log_level);
	if (check && d.dump) {
		cfg_dump(&d.cfg, stdout);
		cfg_done(&d.cfg);
		return 0;
	}
	if (check) {
		printf("%s: configuration OK\n", d.cfg_explicit || access(d.cfg_path, F_OK) == 0
							   ? d.cfg_path : "defaults");
		cfg_done(&d.cfg);
		return 0;
	}
	r = daemon_run(&d);
	if (r < 0 && !d.exit_status)
		notify_printf("ERRNO=%d", -r);
	daemon_done(&d);
	if (d.exit_status)
		return d.exit_status;
	return r < 0 ? 1 : 0;
}
