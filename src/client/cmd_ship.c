/* seglog ship: the command line and the config file's [ship] section
 * around ship_run() (ship.h, docs/shipping.md), a one-line live status on
 * a terminal, and the systemd notifications (READY=1, STATUS=, WATCHDOG=1,
 * STOPPING=1) when run from seglog-ship.service. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <ini.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "cleanup.h"
#include "client.h"
#include "log.h"
#include "notify.h"
#include "parse.h"
#include "ship.h"

enum {
	SHIP_PROPS_MAX = 64,
	OPT_BROKERS = 0x100,
	OPT_TOPIC,
	OPT_CURSOR,
	OPT_HOST_ID,
	OPT_COMPRESSION,
	OPT_ON_ERROR,
	OPT_DRAIN,
	OPT_ONCE,
};

#define SHIP_DEFAULT_DIR LOCALSTATEDIR "/log/seglog" /* as in seglog.c */
#define SHIP_DEFAULT_CURSOR CFG_SHIP_DEFAULT_CURSOR

struct cmd_ship {
	struct ship_config cfg;
	char *props[SHIP_PROPS_MAX];
	char *owned[16]; /* strings from the config file */
	size_t n_owned;
	const char *conf_path;
	const char *cur_path; /* the file being read: conf_path or a drop-in */
	char *error;
	bool tty;
	bool ready;
	bool durability_write; /* [storage] durability = write */
	char cursor_abs[PATH_MAX];
	char hostname[256];
};

static void
cmd_ship_usage(FILE *f)
{
	fprintf(f,
		"Usage: seglog ship --brokers HOST:PORT[,...] --topic T [OPTIONS]\n"
		"\n"
		"Ships the data directory's durable records to a Kafka topic, exactly once per\n"
		"(host, dir-id, seq) after consumer dedup, and follows it; see docs/shipping.md.\n"
		"\n"
		"  -c, --config FILE         read [ship] (and [storage] dir) from FILE, then\n"
		"                            FILE.d/*.conf in lexical order (as seglogd)\n"
		"      --brokers LIST        bootstrap servers\n"
		"      --topic T             the topic\n"
		"      --cursor-file F       where the last confirmed seq is kept\n"
		"                            (default " SHIP_DEFAULT_CURSOR ")\n"
		"      --host-id ID          message key and 'host' header (default: hostname)\n"
		"      --compression C       zstd (default), lz4, snappy, gzip, none\n"
		"      --on-permanent-error stop|skip\n"
		"                            a record Kafka refuses for good (too large, not\n"
		"                            authorised) stops shipping (default) or is skipped\n"
		"      --drain-timeout MS    on SIGTERM wait this long for confirmations (5000;\n"
		"                            0: purge at once)\n"
		"      --once                ship what is durable now, wait until Kafka confirmed\n"
		"                            all of it, save the cursor and exit (no following)\n"
		"  -X KEY=VALUE              a librdkafka property, applied last (repeatable)\n");
}

/* Sets *slot to a copy of v that c owns; a value set before (an earlier
 * file, a drop-in before this one) is freed, so each slot owns one. */
static int
cmd_ship_keep(struct cmd_ship *c, const char **slot, const char *v)
{
	char *d = strdup(v);
	size_t i;

	if (!d)
		return -ENOMEM;
	for (i = 0; i < c->n_owned && c->owned[i] != *slot; i++)
		;
	if (i == c->n_owned) {
		if (c->n_owned >= ELEMENTSOF(c->owned)) {
			free(d);
			return -E2BIG;
		}
		c->n_owned++;
	}
	free_and_replace(c->owned[i], d);
	*slot = c->owned[i];
	return 0;
}

static int
cmd_ship_add_prop(struct cmd_ship *c, const char *kv)
{
	if (c->cfg.n_props >= SHIP_PROPS_MAX || !strchr(kv, '='))
		return -EINVAL;
	c->props[c->cfg.n_props] = strdup(kv);
	if (!c->props[c->cfg.n_props])
		return -ENOMEM;
	c->cfg.n_props++;
	return 0;
}

/* One "key = value" of the config file.  Only [ship] and [storage] dir
 * concern the shipper; seglogd checks the other sections.  Values are
 * checked by the rules seglogd uses (cfg_ship_check); an empty one means
 * the default. */
/* The slot of a [ship] key that holds a string, or NULL. */
static const char **
cmd_ship_slot(struct cmd_ship *c, const char *key)
{
	static const char *const keys[] = { "brokers", "topic", "cursor_file", "host_id",
					    "compression" };
	const char **slots[] = { &c->cfg.brokers, &c->cfg.topic, &c->cfg.cursor_path,
				 &c->cfg.host_id, &c->cfg.compression };

	for (size_t i = 0; i < ELEMENTSOF(keys); i++)
		if (strcmp(key, keys[i]) == 0)
			return slots[i];
	return NULL;
}

/* An empty value: the key's default again (a drop-in resetting it). */
static void
cmd_ship_reset(struct cmd_ship *c, const char *key)
{
	const char **slot = cmd_ship_slot(c, key);

	if (slot)
		*slot = NULL; /* the copy stays owned in c->owned */
	else if (strcmp(key, "on_permanent_error") == 0)
		c->cfg.on_error = SHIP_ON_ERROR_STOP;
	else if (strcmp(key, "drain_timeout") == 0)
		c->cfg.drain_ms = CFG_SHIP_DRAIN_DEFAULT_MS;
}

/* One "key = value" of the config file.  Only [ship] and [storage] dir
 * (and durability, for a warning) concern the shipper; seglogd checks the
 * other sections.  Values are unquoted and checked by the rules seglogd
 * uses (cfgship.c); an empty one means the default. */
static int
cmd_ship_ini(void *user, const char *section, const char *key, const char *raw)
{
	struct cmd_ship *c = user;
	_cleanup_free_ char *copy = NULL;
	const char *value = raw, **slot;
	char buf[512], why[512];

	if (cfg_ship_unquote(raw, &copy) < 0) {
		snprintf(why, sizeof(why), "%s: the quotes do not match", raw);
		goto bad;
	}
	if (copy)
		value = copy;
	if (strcmp(section, "storage") == 0) {
		if (strcmp(key, "durability") == 0)
			c->durability_write = strcmp(value, "write") == 0;
		if (strcmp(key, "dir") == 0 && *value)
			return cmd_ship_keep(c, &c->cfg.dir, value) == 0;
		return 1;
	}
	if (strcmp(section, "ship") != 0)
		return 1;
	if (!*value && cfg_ship_check(key, "", why, sizeof(why)) != -ENOENT) {
		cmd_ship_reset(c, key);
		return 1;
	}
	if (cfg_ship_check(key, value, why, sizeof(why)) < 0)
		goto bad;
	slot = cmd_ship_slot(c, key);
	if (slot)
		return cmd_ship_keep(c, slot, value) == 0;
	if (strcmp(key, "on_permanent_error") == 0) {
		c->cfg.on_error = value[1] == 'k' ? SHIP_ON_ERROR_SKIP : SHIP_ON_ERROR_STOP;
		return 1;
	}
	if (strcmp(key, "drain_timeout") == 0) {
		uint64_t us = 0;
		(void)cfg_parse_duration(value, &us); /* checked above */
		c->cfg.drain_ms = (unsigned)(us / 1000);
		return 1;
	}
	/* kafka.KEY */
	snprintf(buf, sizeof(buf), "%s=%s", key + 6, value);
	if (cmd_ship_add_prop(c, buf) == 0)
		return 1;
	snprintf(why, sizeof(why), "'%s': too long, or more than %d properties", value,
		 SHIP_PROPS_MAX);
bad:
	free(c->error);
	if (asprintf(&c->error, "%s: [%s] %s: %s", c->cur_path, section, key, why) < 0)
		c->error = NULL;
	return 0;
}

/* One file of the configuration; 0 or -EINVAL with the reason printed. */
static int
cmd_ship_read_file(struct cmd_ship *c, const char *path)
{
	int k;

	c->cur_path = path;
	k = ini_parse(path, cmd_ship_ini, c);
	if (k == 0)
		return 0;
	if (c->error)
		fprintf(stderr, "seglog ship: %s\n", c->error);
	else if (k < 0)
		fprintf(stderr, "seglog ship: cannot read config file %s: %s\n", path,
			k == -1 ? strerror(errno) : "out of memory");
	else
		fprintf(stderr, "seglog ship: %s: line %d: syntax error\n", path, k);
	return -EINVAL;
}

/* The configuration as seglogd reads it: FILE, then FILE.d/ *.conf in
 * lexical order, a key set again later winning. */
static int
cmd_ship_read_config(struct cmd_ship *c)
{
	char **dropins = NULL;
	int k = cmd_ship_read_file(c, c->conf_path);

	if (k < 0)
		return k;
	k = cfg_dropins(c->conf_path, &dropins);
	if (k < 0) {
		fprintf(stderr, "seglog ship: cannot list %s.d: %s\n", c->conf_path, strerror(-k));
		return -EINVAL;
	}
	for (size_t i = 0; k == 0 && dropins && dropins[i]; i++)
		k = cmd_ship_read_file(c, dropins[i]);
	cfg_dropins_free(dropins);
	return k;
}

/* A line on the terminal, STATUS= for systemd; READY=1 once shipping. */
static void
cmd_ship_status(const struct ship_stats *st, void *userdata)
{
	struct cmd_ship *c = userdata;
	char line[600];

	char why[300] = "", extra[80] = "";

	if (st->reason[0])
		snprintf(why, sizeof(why), " (%s)", st->reason);
	if (st->missing || st->skipped)
		snprintf(extra, sizeof(extra), ", %" PRIu64 " missing, %" PRIu64 " skipped",
			 st->missing, st->skipped);
	snprintf(line, sizeof(line),
		 "%s%s: seq %" PRIu64 " shipped, %.0f/s, lag %" PRIu64 " records (~%" PRIu64
		 " KiB), %" PRIu64 " in flight, %" PRIu64 " restarts%s",
		 ship_state_name(st->state), why, st->confirmed_seq, st->rate, st->lag_records,
		 st->lag_bytes >> 10, st->in_flight, st->restarts, extra);
	if (c->tty) {
		fprintf(stderr, "\r\033[K%s", line);
		fflush(stderr);
	}
	if (!c->ready && st->state == SHIP_RUNNING) {
		c->ready = true;
		notify("READY=1");
	}
	notify_printf("STATUS=%s", line);
	if (notify_watchdog_usec())
		notify("WATCHDOG=1");
}

/* "seglog ship: --OPT: WHY" and the hint; returns -EINVAL (exit 2). */
static int
cmd_ship_bad(const char *opt, const char *why)
{
	fprintf(stderr, "seglog ship: %s: %s (seglog ship --help lists the options)\n", opt, why);
	return -EINVAL;
}

/* --drain-timeout MS: digits only, at most an hour. */
static int
cmd_ship_parse_drain(const char *v, unsigned *ret)
{
	uint64_t ms;
	int k = parse_u64_mem(v, strlen(v), &ms);

	if (k < 0)
		return k;
	if (ms > CFG_SHIP_DRAIN_MAX_MS)
		return -ERANGE;
	*ret = (unsigned)ms;
	return 0;
}

/* An option that is a [ship] key: the same rule (cfg_ship_check). */
static int
cmd_ship_check_opt(const char *opt, const char *key, const char *v)
{
	char why[512];

	if (!*v) {
		snprintf(why, sizeof(why), "the value is empty");
		return cmd_ship_bad(opt, why);
	}
	if (cfg_ship_check(key, v, why, sizeof(why)) < 0)
		return cmd_ship_bad(opt, why);
	return 0;
}

/* What the command line set, applied over the file's values. */
struct cmd_ship_cli {
	struct ship_config cfg;
	int on_error; /* -1: not given */
	bool drain_set;
};

/* One option: 0, 1 for --help, -EINVAL (said why), -EDOM for the usage. */
static int
cmd_ship_option(struct cmd_ship *c, struct cmd_ship_cli *cli, int opt, const char *arg)
{
	/* the options that are [ship] keys: where they go, and the key's rule */
	const struct {
		int opt;
		const char *name, *key;
		const char **slot;
	} keys[] = {
		{ OPT_BROKERS, "--brokers", "brokers", &cli->cfg.brokers },
		{ OPT_TOPIC, "--topic", "topic", &cli->cfg.topic },
		{ OPT_HOST_ID, "--host-id", "host_id", &cli->cfg.host_id },
		{ OPT_COMPRESSION, "--compression", "compression", &cli->cfg.compression },
		{ OPT_ON_ERROR, "--on-permanent-error", "on_permanent_error", NULL },
	};
	char why[600];

	for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
		if (keys[i].opt != opt)
			continue;
		if (cmd_ship_check_opt(keys[i].name, keys[i].key, arg) < 0)
			return -EINVAL;
		if (keys[i].slot)
			*keys[i].slot = arg;
		else
			cli->on_error = arg[1] == 'k' ? SHIP_ON_ERROR_SKIP : SHIP_ON_ERROR_STOP;
		return 0;
	}
	switch (opt) {
	case 'c': c->conf_path = arg; return 0;
	case OPT_ONCE: c->cfg.once = true; return 0;
	case 'h': cmd_ship_usage(stdout); return 1;
	case OPT_CURSOR:
		if (!*arg)
			return cmd_ship_bad("--cursor-file", "the value is empty");
		cli->cfg.cursor_path = arg;
		return 0;
	case OPT_DRAIN:
		if (cmd_ship_parse_drain(arg, &cli->cfg.drain_ms) < 0) {
			snprintf(why, sizeof(why), "'%s': milliseconds, 0 to %u", arg,
				 CFG_SHIP_DRAIN_MAX_MS);
			return cmd_ship_bad("--drain-timeout", why);
		}
		cli->drain_set = true;
		return 0;
	case 'X':
		if (cmd_ship_add_prop(c, arg) < 0) {
			snprintf(why, sizeof(why), "'%s': expected KEY=VALUE (at most %d)", arg,
				 SHIP_PROPS_MAX);
			return cmd_ship_bad("-X", why);
		}
		return 0;
	default:
		return -EDOM;
	}
}

/* The command line wins over the file. */
static void
cmd_ship_merge(struct cmd_ship *c, const struct cmd_ship_cli *cli)
{
	const char *const *from[] = { &cli->cfg.brokers, &cli->cfg.topic, &cli->cfg.cursor_path,
				      &cli->cfg.host_id, &cli->cfg.compression };
	const char **to[] = { &c->cfg.brokers, &c->cfg.topic, &c->cfg.cursor_path,
			      &c->cfg.host_id, &c->cfg.compression };

	for (size_t i = 0; i < ELEMENTSOF(from); i++)
		if (*from[i])
			*to[i] = *from[i];
	if (cli->on_error >= 0)
		c->cfg.on_error = (enum ship_on_error)cli->on_error;
	if (cli->drain_set)
		c->cfg.drain_ms = cli->cfg.drain_ms;
}

static int
cmd_ship_parse(struct cmd_ship *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "brokers", required_argument, NULL, OPT_BROKERS },
		{ "topic", required_argument, NULL, OPT_TOPIC },
		{ "cursor-file", required_argument, NULL, OPT_CURSOR },
		{ "host-id", required_argument, NULL, OPT_HOST_ID },
		{ "compression", required_argument, NULL, OPT_COMPRESSION },
		{ "on-permanent-error", required_argument, NULL, OPT_ON_ERROR },
		{ "drain-timeout", required_argument, NULL, OPT_DRAIN },
		{ "once", no_argument, NULL, OPT_ONCE },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct cmd_ship_cli cli = { .on_error = -1 };
	int opt, k;

	opterr = 0; /* our messages, with our name */
	while ((opt = getopt_long(argc, argv, "c:X:h", longopts, NULL)) != -1) {
		k = cmd_ship_option(c, &cli, opt, optarg);
		if (k == -EDOM) {
			const char *what = argv[optind - 1];
			if (optopt && strchr("cX", optopt))
				fprintf(stderr, "seglog ship: -%c needs a value\n", optopt);
			else if (optopt)
				fprintf(stderr, "seglog ship: unknown option -%c\n", optopt);
			else
				fprintf(stderr, "seglog ship: unknown option, or one without its "
					"value: %s\n", what);
			goto usage;
		}
		if (k != 0)
			return k;
	}
	if (optind != argc) {
		fprintf(stderr, "seglog ship: unexpected argument '%s' (it takes only options)\n",
			argv[optind]);
		goto usage;
	}
	if (c->conf_path && cmd_ship_read_config(c) < 0)
		return -EINVAL;
	cmd_ship_merge(c, &cli);
	if (!c->cfg.brokers || !c->cfg.topic) {
		fprintf(stderr, "seglog ship: --brokers and --topic are required (or [ship] brokers "
			"and topic in the file given with -c)\n");
		goto usage;
	}
	return 0;
usage:
	cmd_ship_usage(stderr);
	return -EINVAL;
}

/* A relative --cursor-file is taken from where seglog ship started. */
static int
cmd_ship_absolute_cursor(struct cmd_ship *c)
{
	char cwd[PATH_MAX];

	if (c->cfg.cursor_path[0] == '/')
		return 0;
	if (!getcwd(cwd, sizeof(cwd)) ||
	    (size_t)snprintf(c->cursor_abs, sizeof(c->cursor_abs), "%s/%s", cwd,
			     c->cfg.cursor_path) >= sizeof(c->cursor_abs))
		return cmd_ship_bad("--cursor-file", "cannot make the path absolute");
	c->cfg.cursor_path = c->cursor_abs;
	return 0;
}

int
cmd_ship(const struct client_opts *o, int argc, char **argv)
{
	struct cmd_ship c = { .tty = isatty(STDERR_FILENO) };
	int k;

	c.cfg.props = c.props;
	c.cfg.drain_ms = CFG_SHIP_DRAIN_DEFAULT_MS;
	k = cmd_ship_parse(&c, argc, argv);
	if (k == 0 && c.cfg.cursor_path)
		k = cmd_ship_absolute_cursor(&c);
	if (k == 0 && c.durability_write)
		fprintf(stderr, "seglog ship: warning: %s sets durability = write: the watermark "
			"then covers written, not fsync'ed records, and a power loss can take back "
			"records already shipped (docs/shipping.md)\n", c.conf_path);
	if (k == 0) {
		/* -d or $SEGLOG_DIR (anything but the built-in default) beat the
		 * file's [storage] dir */
		if (strcmp(o->dir, SHIP_DEFAULT_DIR) != 0 || !c.cfg.dir)
			c.cfg.dir = o->dir;
		if (!c.cfg.cursor_path)
			c.cfg.cursor_path = SHIP_DEFAULT_CURSOR;
		if (!c.cfg.host_id) {
			if (gethostname(c.hostname, sizeof(c.hostname) - 1) < 0)
				snprintf(c.hostname, sizeof(c.hostname), "localhost");
			c.cfg.host_id = c.hostname;
		}
		log_set_prefix(!c.tty);
		log_set_clear_line(c.tty);
		k = ship_run(&c.cfg, cmd_ship_status, &c);
		if (c.tty)
			fputc('\n', stderr);
		notify("STOPPING=1");
	}
	for (size_t i = 0; i < c.cfg.n_props; i++)
		free(c.props[i]);
	for (size_t i = 0; i < c.n_owned; i++)
		free(c.owned[i]);
	free(c.error);
	if (k == 1)
		return CLIENT_EXIT_OK;
	if (k == -EINVAL)
		return CLIENT_EXIT_USAGE;
	return k < 0 ? CLIENT_EXIT_FAILURE : CLIENT_EXIT_OK;
}
