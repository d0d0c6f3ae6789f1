/* seglog status: the running daemon's figures.  Sends STATUS_REQ over the
 * native protocol and prints the STATUS reply ("key value" lines, see
 * docs/protocol.md) as aligned text or as one JSON object. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "clientconn.h"
#include "cleanup.h"
#include "metrics.h"
#include "output.h"

enum {
	STATUS_TIMEOUT_MS = 10000,
};

static void
status_usage(FILE *f)
{
	fprintf(f, "Usage: seglog [-s SOCKET] status [-o text|json|openmetrics|prometheus]\n"
		   "\n"
		   "Prints the running daemon's figures: aligned \"key: value\" lines; with\n"
		   "-o json one JSON object (all-digit values as numbers); with -o openmetrics\n"
		   "OpenMetrics 1.0 text, with -o prometheus the Prometheus text format (for\n"
		   "node_exporter's textfile collector): counters, gauges, the state, and the\n"
		   "commit latency as a histogram.\n"
		   "\n"
		   "  -o, --output FORMAT   text (default), json, openmetrics or prometheus\n"
		   "  -h, --help            this text\n"
		   "\n"
		   "Exit status: 0 printed, 2 usage, 69 the daemon is not running, 75 it\n"
		   "refused the connection or did not answer, 76 it is not seglogd.\n");
}

/* Calls fn for each "key value" line of a STATUS body (the value is empty
 * when the line has no space; a last line without newline counts). */
static void
status_each(const char *body, size_t len,
	    void (*fn)(const char *key, size_t klen, const char *val, size_t vlen, void *ud),
	    void *ud)
{
	const char *p = body, *end = body + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		const char *sp = memchr(p, ' ', (size_t)(eol - p));

		if (eol > p) {
			if (sp)
				fn(p, (size_t)(sp - p), sp + 1, (size_t)(eol - sp - 1), ud);
			else
				fn(p, (size_t)(eol - p), eol, 0, ud);
		}
		p = eol + 1;
	}
}

static void
status_width(const char *key, size_t klen, const char *val, size_t vlen, void *ud)
{
	size_t *w = ud;

	if (klen > *w)
		*w = klen;
}

static void
status_text(const char *key, size_t klen, const char *val, size_t vlen, void *ud)
{
	const size_t *w = ud;

	printf("%.*s:%*s %.*s\n", (int)klen, key, (int)(*w - klen), "", (int)vlen, val);
}

/* A JSON value for a key or a text value, with seglog's one JSON escaper
 * (output.c); the daemon's status text is UTF-8, so it is a string. */
static void
status_json_string(const char *s, size_t len)
{
	_cleanup_free_ char *buf = malloc(6 * len + 2);

	if (!buf) {
		fputs("null", stdout);
		return;
	}
	fwrite(buf, 1, output_json_value(s, len, buf), stdout);
}

/* A JSON number only for plain decimal integers (no sign, no leading
 * zero), so the value reads back exactly as the daemon wrote it. */
static bool
status_is_number(const char *v, size_t len)
{
	if (len == 0 || len > 20 || (len > 1 && v[0] == '0'))
		return false;
	for (size_t i = 0; i < len; i++)
		if (v[i] < '0' || v[i] > '9')
			return false;
	return true;
}

static void
status_json(const char *key, size_t klen, const char *val, size_t vlen, void *ud)
{
	bool *first = ud;

	fputs(*first ? "{" : ", ", stdout);
	*first = false;
	status_json_string(key, klen);
	fputs(": ", stdout);
	if (status_is_number(val, vlen))
		fwrite(val, 1, vlen, stdout);
	else
		status_json_string(val, vlen);
}

/* Sends STATUS_REQ and waits for the STATUS frame; ACK and ERROR frames
 * for records cannot come (none were sent), an ERROR(0) ends it. */
static int
status_fetch(struct clientconn *c, struct clientconn_frame *ret)
{
	struct proto_error e;
	int k = clientconn_queue_status_req(c);

	if (k < 0)
		return k;
	for (;;) {
		k = clientconn_wait_frame(c, STATUS_TIMEOUT_MS, ret);
		if (k == -ETIMEDOUT) {
			fprintf(stderr, "seglog: no STATUS reply from %s within %d s\n", c->path,
				STATUS_TIMEOUT_MS / 1000);
			return k;
		}
		if (k < 0) {
			fprintf(stderr, "seglog: reading the status from %s failed: %s\n", c->path,
				k == -ECONNRESET ? "the daemon closed the connection"
				: k == -EBADMSG	 ? "a frame with a bad length"
						 : strerror(-k));
			return k;
		}
		if (ret->type == PROTO_STATUS)
			return 0;
		if (ret->type == PROTO_ERROR && proto_parse_error(ret->body, ret->len, &e) == 0) {
			fprintf(stderr, "seglog: the daemon at %s answered %s: %.*s\n", c->path,
				proto_error_name(e.code), (int)e.text_len, e.text);
			return -EPROTO;
		}
	}
}

/* -o FORMAT into *json or *metrics: 0 to go on, 1 after --help, -1 for a
 * usage error (said). */
static int
status_parse(int argc, char **argv, bool *json, int *metrics)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int k;

	while ((k = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		switch (k) {
		case 'o':
			*json = strcmp(optarg, "json") == 0;
			*metrics = !strcmp(optarg, "openmetrics") ? METRICS_OPENMETRICS
				   : !strcmp(optarg, "prometheus") ? METRICS_PROMETHEUS : -1;
			if (*json || *metrics >= 0 || strcmp(optarg, "text") == 0)
				break;
			fprintf(stderr, "seglog: unknown format '%s' (text, json, openmetrics or "
				"prometheus)\n", optarg);
			return -1;
		case 'h':
			status_usage(stdout);
			return 1;
		default:
			status_usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "seglog: status takes no arguments\n");
		return -1;
	}
	return 0;
}

/* The STATUS body f in the format asked for; -1 (said) if it cannot be
 * written. */
static int
status_print(const struct clientconn_frame *f, bool json, int metrics)
{
	if (metrics >= 0) {
		if (metrics_write((const char *)f->body, f->len, (enum metrics_format)metrics,
				  stdout) < 0) {
			fprintf(stderr, "seglog: writing the metrics failed: %m\n");
			return -1;
		}
	} else if (json) {
		bool first = true;
		status_each((const char *)f->body, f->len, status_json, &first);
		puts(first ? "{}" : "}");
	} else {
		size_t w = 0;
		status_each((const char *)f->body, f->len, status_width, &w);
		status_each((const char *)f->body, f->len, status_text, &w);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "seglog: writing the status failed: %m\n");
		return -1;
	}
	return 0;
}

int
cmd_status(const struct client_opts *o, int argc, char **argv)
{
	_cleanup_clientconn_ struct clientconn *c = NULL;
	struct clientconn_frame f;
	bool json = false;
	int metrics = -1, k;

	k = status_parse(argc, argv, &json, &metrics);
	if (k != 0)
		return k > 0 ? CLIENT_EXIT_OK : CLIENT_EXIT_USAGE;
	k = clientconn_open(o->socket, STATUS_TIMEOUT_MS, &c);
	if (k < 0)
		return clientconn_exit_status(k);
	k = status_fetch(c, &f);
	if (k < 0)
		return clientconn_exit_status(k);
	return status_print(&f, json, metrics) < 0 ? CLIENT_EXIT_FAILURE : CLIENT_EXIT_OK;
}
