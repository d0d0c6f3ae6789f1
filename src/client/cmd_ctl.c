/* seglog rotate | sync | reload | vacuum: the daemon's verbs over the
 * native protocol (version 2, CONTROL / CONTROL_DONE in docs/protocol.md),
 * so that an operator needs no signals and gets an answer: done, refused
 * or failed, with the daemon's reason. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "cleanup.h"
#include "client.h"
#include "clientconn.h"
#include "parse.h"

enum {
	CTL_CONNECT_TIMEOUT_MS = 10000,
	CTL_PROGRESS_S = 5, /* a wait longer than this says so, every so often */
};

static const char *const ctl_names[] = {
	[PROTO_VERB_ROTATE] = "rotate",
	[PROTO_VERB_SYNC] = "sync",
	[PROTO_VERB_RELOAD] = "reload",
	[PROTO_VERB_VACUUM] = "vacuum",
};

static void
ctl_usage(FILE *f, uint8_t verb)
{
	switch (verb) {
	case PROTO_VERB_ROTATE:
		fputs("Usage: seglog [-s SOCKET] rotate [--timeout SECS]\n"
		      "\n"
		      "Seals current now (after the records already received) and returns once\n"
		      "the seal is complete: every record received before the call is then in a\n"
		      "sealed segment.\n", f);
		break;
	case PROTO_VERB_SYNC:
		fputs("Usage: seglog [-s SOCKET] sync [--timeout SECS]\n"
		      "\n"
		      "Returns once every record the daemon received before the call is durable\n"
		      "(fdatasync'ed; written, with durability = write), as journalctl's sync.\n", f);
		break;
	case PROTO_VERB_RELOAD:
		fputs("Usage: seglog [-s SOCKET] reload\n"
		      "\n"
		      "Makes the daemon re-read seglogd.conf and its drop-ins (as SIGHUP does);\n"
		      "on an error it keeps the running configuration and says why.\n", f);
		break;
	default:
		fputs("Usage: seglog [-s SOCKET] vacuum [--size SIZE] [--time AGE] [--files N] "
		      "[--force]\n"
		      "\n"
		      "Removes the oldest sealed segments now, through the daemon's retention:\n"
		      "while they take more than SIZE in all (e.g. 500M), while the oldest is\n"
		      "older than AGE (e.g. 2weeks), while more than N are kept.  With a shipper\n"
		      "configured ([ship] in seglogd.conf), what it has not shipped is kept\n"
		      "unless --force.  current is never removed.\n", f);
		break;
	}
	fputs("\n", f);
	if (verb == PROTO_VERB_ROTATE || verb == PROTO_VERB_SYNC)
		fputs("  --timeout SECS   give up after SECS (default: wait)\n", f);
	fputs("  -h, --help       this text\n"
	      "\n"
	      "Exit status: 0 done, 1 refused or failed (the daemon says why), 2 usage,\n"
	      "69 the daemon is not running, 75 it refused the connection or the timeout\n"
	      "passed, 76 it is not seglogd or too old for this verb.\n", f);
}

/* Waits for the CONTROL_DONE (an ERROR(0) ends it), saying every
 * CTL_PROGRESS_S seconds that it still waits.  0 and *ret, or -errno. */
static int
ctl_wait(struct clientconn *c, uint8_t verb, int timeout_s, struct proto_control_done *ret)
{
	struct clientconn_frame f;
	struct proto_error e;
	int waited = 0;

	for (;;) {
		int k = clientconn_wait_frame(c, 1000, &f);
		if (k == -ETIMEDOUT) {
			waited++;
			if (timeout_s > 0 && waited >= timeout_s) {
				fprintf(stderr, "seglog %s: no answer from %s within %d s; the daemon "
					"goes on with it (seglog status shows its state)\n",
					ctl_names[verb], c->path, timeout_s);
				return k;
			}
			if (waited % CTL_PROGRESS_S == 0)
				fprintf(stderr, "seglog %s: still waiting for %s (%d s; seglog status "
					"shows why, e.g. state: storage-error)\n", ctl_names[verb],
					c->path, waited);
			continue;
		}
		if (k < 0) {
			fprintf(stderr, "seglog %s: the connection to %s ended: %s\n", ctl_names[verb],
				c->path, k == -ECONNRESET ? "the daemon closed it" : strerror(-k));
			return k;
		}
		if (f.type == PROTO_CONTROL_DONE)
			return proto_parse_control_done(f.body, f.len, ret) < 0 ? -EBADMSG : 0;
		if (f.type == PROTO_ERROR && proto_parse_error(f.body, f.len, &e) == 0) {
			fprintf(stderr, "seglog %s: the daemon at %s answered %s: %.*s\n",
				ctl_names[verb], c->path, proto_error_name(e.code), (int)e.text_len,
				e.text);
			return -EPROTO;
		}
	}
}

/* --- the options ------------------------------------------------------------
 * One handler per option, called with its argument: 0, or -1 after saying
 * what is wrong.  The table says which verbs take the option. */

struct ctl_args {
	const char *name; /* the verb */
	struct proto_control *req;
	int *timeout_s;
};

static int
ctl_opt_size(struct ctl_args *a, const char *arg)
{
	if (cfg_parse_size(arg, &a->req->max_bytes) < 0) {
		fprintf(stderr, "seglog vacuum: --size '%s' is not a size (e.g. 500M, 2G)\n", arg);
		return -1;
	}
	a->req->flags |= PROTO_CTL_SIZE;
	return 0;
}

static int
ctl_opt_time(struct ctl_args *a, const char *arg)
{
	if (cfg_parse_duration(arg, &a->req->max_age_us) < 0) {
		fprintf(stderr, "seglog vacuum: --time '%s' is not a duration (e.g. 2weeks, 36h)\n",
			arg);
		return -1;
	}
	a->req->flags |= PROTO_CTL_TIME;
	return 0;
}

static int
ctl_opt_files(struct ctl_args *a, const char *arg)
{
	if (parse_u64(arg, &a->req->max_files) < 0) {
		fprintf(stderr, "seglog vacuum: --files '%s' is not a number of segments\n", arg);
		return -1;
	}
	a->req->flags |= PROTO_CTL_FILES;
	return 0;
}

static int
ctl_opt_force(struct ctl_args *a, const char *arg)
{
	a->req->flags |= PROTO_CTL_FORCE;
	return 0;
}

static int
ctl_opt_timeout(struct ctl_args *a, const char *arg)
{
	uint64_t t;

	if (parse_u64(arg, &t) < 0 || t < 1 || t > 86400) {
		fprintf(stderr, "seglog %s: --timeout '%s' is not 1..86400 seconds\n", a->name, arg);
		return -1;
	}
	*a->timeout_s = (int)t;
	return 0;
}

#define CTL_VERB(v) (1u << (v))

static const struct ctl_option {
	const char *name;
	int has_arg;
	unsigned verbs; /* CTL_VERB() of the verbs that take it */
	int (*fn)(struct ctl_args *a, const char *arg);
} ctl_options[] = {
	{ "size", required_argument, CTL_VERB(PROTO_VERB_VACUUM), ctl_opt_size },
	{ "time", required_argument, CTL_VERB(PROTO_VERB_VACUUM), ctl_opt_time },
	{ "files", required_argument, CTL_VERB(PROTO_VERB_VACUUM), ctl_opt_files },
	{ "force", no_argument, CTL_VERB(PROTO_VERB_VACUUM), ctl_opt_force },
	{ "timeout", required_argument, CTL_VERB(PROTO_VERB_ROTATE) | CTL_VERB(PROTO_VERB_SYNC),
	  ctl_opt_timeout },
};

enum { CTL_OPT_BASE = 256, CTL_OPTIONS = ELEMENTSOF(ctl_options) };

/* getopt_long()'s table: ctl_options[i] as CTL_OPT_BASE + i, then --help. */
static void
ctl_getopt_table(struct option longopts[static CTL_OPTIONS + 2])
{
	for (size_t i = 0; i < CTL_OPTIONS; i++)
		longopts[i] = (struct option){ ctl_options[i].name, ctl_options[i].has_arg, NULL,
					       CTL_OPT_BASE + (int)i };
	longopts[CTL_OPTIONS] = (struct option){ "help", no_argument, NULL, 'h' };
	longopts[CTL_OPTIONS + 1] = (struct option){ 0 };
}

/* After the options: no arguments, and vacuum has a limit. */
static int
ctl_check_args(uint8_t verb, int argc, char **argv, const struct proto_control *req)
{
	if (optind < argc) {
		fprintf(stderr, "seglog %s: unexpected argument '%s'\n", ctl_names[verb],
			argv[optind]);
		return -1;
	}
	if (verb == PROTO_VERB_VACUUM && !(req->flags & (PROTO_CTL_SIZE | PROTO_CTL_TIME |
							 PROTO_CTL_FILES))) {
		fprintf(stderr, "seglog vacuum: give a limit: --size, --time or --files\n");
		return -1;
	}
	return 0;
}

/* "seglog rotate: --size is not an option of rotate; it is one of vacuum". */
static void
ctl_not_an_option(uint8_t verb, const struct ctl_option *o)
{
	const char *sep = "";

	fprintf(stderr, "seglog %s: --%s is not an option of %s; it is one of", ctl_names[verb],
		o->name, ctl_names[verb]);
	for (uint8_t v = 1; v <= PROTO_VERB_MAX; v++)
		if (o->verbs & CTL_VERB(v)) {
			fprintf(stderr, "%s %s", sep, ctl_names[v]);
			sep = ",";
		}
	fprintf(stderr, " (seglog %s --help)\n", ctl_names[verb]);
}

/* Parses the options of one verb into req; -1 for a usage error, 1 for
 * --help (printed), 0 to go on. */
static int
ctl_parse(uint8_t verb, int argc, char **argv, struct proto_control *req, int *timeout_s)
{
	struct ctl_args a = { .name = ctl_names[verb], .req = req, .timeout_s = timeout_s };
	struct option longopts[CTL_OPTIONS + 2];
	int k;

	ctl_getopt_table(longopts);
	while ((k = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		const struct ctl_option *o;

		if (k == 'h') {
			ctl_usage(stdout, verb);
			return 1;
		}
		if (k < CTL_OPT_BASE || k >= CTL_OPT_BASE + CTL_OPTIONS) {
			ctl_usage(stderr, verb);
			return -1;
		}
		o = &ctl_options[k - CTL_OPT_BASE];
		if (!(o->verbs & CTL_VERB(verb))) {
			ctl_not_an_option(verb, o);
			return -1;
		}
		if (o->fn(&a, optarg) < 0)
			return -1;
	}
	return ctl_check_args(verb, argc, argv, req);
}

int
cmd_ctl(const struct client_opts *o, int argc, char **argv)
{
	_cleanup_clientconn_ struct clientconn *c = NULL;
	struct proto_control req = { 0 };
	struct proto_control_done done;
	int timeout_s = 0, k;

	for (req.verb = 1; req.verb <= PROTO_VERB_MAX; req.verb++)
		if (strcmp(argv[0], ctl_names[req.verb]) == 0)
			break;
	if (req.verb > PROTO_VERB_MAX)
		return CLIENT_EXIT_USAGE;
	k = ctl_parse(req.verb, argc, argv, &req, &timeout_s);
	if (k != 0)
		return k > 0 ? CLIENT_EXIT_OK : CLIENT_EXIT_USAGE;
	k = clientconn_open(o->socket, CTL_CONNECT_TIMEOUT_MS, &c);
	if (k < 0)
		return clientconn_exit_status(k);
	if (c->hello.version < PROTO_VERSION_CONTROL) {
		fprintf(stderr, "seglog %s: the seglogd at %s speaks protocol version %u only, "
			"older than this seglog: restart it with this version (or use kill -%s)\n",
			argv[0], o->socket, c->hello.version,
			req.verb == PROTO_VERB_ROTATE ? "USR1" : "HUP to reload");
		return CLIENT_EXIT_PROTOCOL;
	}
	k = clientconn_queue_control(c, &req);
	if (k < 0)
		return CLIENT_EXIT_FAILURE;
	k = ctl_wait(c, req.verb, timeout_s, &done);
	if (k < 0)
		return clientconn_exit_status(k);
	if (done.status != PROTO_CTL_OK) {
		fprintf(stderr, "seglog %s: %s by %s: %.*s\n", argv[0],
			done.status == PROTO_CTL_REFUSED ? "refused" : "failed", o->socket,
			(int)done.text_len, done.text);
		return CLIENT_EXIT_FAILURE;
	}
	printf("%.*s\n", (int)done.text_len, done.text);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "seglog %s: writing to stdout failed: %m\n", argv[0]);
		return CLIENT_EXIT_FAILURE;
	}
	return CLIENT_EXIT_OK;
}
