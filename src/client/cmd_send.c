/* seglog send: log the arguments as one record, or every line of standard
 * input as one record each, over the native protocol (docs/protocol.md).
 *
 * Lines are streamed: stdin is read in large chunks and split here, frames
 * are batched into large nonblocking writes, and acks are read while
 * sending (poll(2) on the socket and stdin).  The output queue is bounded;
 * when it is full, stdin is not read until the socket drains, so a slow
 * daemon pushes back on the writer of the pipe instead of growing us.  By
 * default the command waits until every record is acknowledged (durable),
 * and says which were not and why. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "clientconn.h"
#include "parse.h"
#include "record.h"

enum {
	SEND_READ_CHUNK = 256 << 10, /* one read(2) of stdin */
	SEND_OUT_HIGH = 1 << 20,     /* stop reading stdin above this much queued */
	SEND_PIPE_SIZE = 1 << 20,    /* F_SETPIPE_SZ asked for on a stdin pipe */
	SEND_LINES_SHOWN = 5,	     /* line numbers listed per kind of failure */
	SEND_RECORD_MAX = PROTO_FRAME_HARD_MAX - PROTO_RECORD_OVERHEAD_MAX - 1,
	SEND_DEFAULT_FACILITY = 1,   /* user */
	SEND_DEFAULT_SEVERITY = 5,   /* notice, as logger(1) */
	SEND_HELLO_TIMEOUT_MS = 30000, /* a peer silent this long is not a working daemon */
};

/* SEND_HELLO_TIMEOUT_MS, or $SEGLOG_HELLO_TIMEOUT_MS (milliseconds; the
 * tests use it so as not to wait 30 s). */
static int
send_hello_timeout_ms(void)
{
	const char *v = getenv("SEGLOG_HELLO_TIMEOUT_MS");
	uint64_t ms;

	if (!v || parse_u64(v, &ms) < 0 || ms == 0 || ms > 3600000)
		return SEND_HELLO_TIMEOUT_MS;
	return (int)ms;
}

/* Why a record was not stored, for the final report. */
enum send_fail {
	SEND_FAIL_TOO_LONG,
	SEND_FAIL_RATE_LIMITED,
	SEND_FAIL_STORAGE,
	SEND_FAIL_INVALID,
	SEND_FAIL_OTHER,
	_SEND_FAIL_MAX,
};

struct send_fails {
	uint64_t count;
	uint64_t lines[SEND_LINES_SHOWN];
};

struct send {
	struct clientconn *conn;
	const char *path;
	bool no_wait;
	bool skip_empty; /* -e: empty lines are not sent */
	bool from_args; /* one record from the arguments, not stdin */
	bool claim_pid; /* --id: the claimed pid goes with every record */
	uint32_t claimed_pid;
	uint8_t facility, severity;
	const char *tag;
	size_t tag_len;
	size_t max_record;

	/* standard input: buffered bytes in[in_pos .. in_len) */
	char *in;
	size_t in_pos, in_len, in_cap;
	bool in_eof;
	bool discarding; /* dropping the rest of a line longer than max_record */
	int in_error;	 /* -errno of a failed read(2) */

	/* every line read is either sent (the connection numbers it) or skipped */
	uint64_t lines;	   /* lines taken from the input so far */
	uint64_t empty;	   /* of them, empty lines skipped for -e (not records) */
	uint64_t *skipped; /* line numbers not sent, ascending (for recno -> line) */
	size_t n_skipped, cap_skipped;
	struct send_fails fails[_SEND_FAIL_MAX];

	/* the connection */
	bool shut;	/* shutdown(SHUT_WR) done */
	bool write_dead; /* a write failed: only reading on */
	bool over;	/* closed, or ERROR(0): nothing more will come */
	int write_err;	/* -errno of the send that failed, if one did */
	char why[320];	/* why the connection ended early, if it did */
};

static void
send_usage(FILE *f)
{
	fprintf(f,
		"Usage: seglog [-s SOCKET] send [-t TAG] [-p FACILITY.LEVEL] [--id[=PID]]\n"
		"                               [-e] [--no-wait] [-f FILE | MESSAGE...]\n"
		"\n"
		"Logs MESSAGE (the arguments joined by spaces) as one record; without\n"
		"arguments, every line of standard input (or FILE) as one record (empty\n"
		"lines too, unless -e).\n"
		"Waits until every record is durable; exit 0 only if all were acknowledged.\n"
		"\n"
		"  -t, --tag TAG         the tag (default: your user name)\n"
		"  -p, --priority PRI    FACILITY.LEVEL or LEVEL (default user.notice)\n"
		"  -f, --file FILE       the lines of FILE instead of standard input\n"
		"  -e, --skip-empty      do not send empty lines\n"
		"      --id[=PID]        claim this process's pid (or PID) with each record,\n"
		"                        as logger --id does (stored as the claimed pid)\n"
		"      --no-wait         return once everything is sent\n"
		"  -h, --help            this text\n"
		"\n"
		"Facilities: kern user mail daemon auth syslog lpr news uucp cron authpriv\n"
		"  ftp ntp security console solaris-cron local0..local7, or 0-23.\n"
		"Levels: emerg alert crit err warning notice info debug, or 0-7.\n"
		"\n"
		"Exit status: 0 all acknowledged, 1 some records not stored, 2 usage,\n"
		"69 the daemon is not running, 75 it refused the connection (client\n"
		"limits, shutting down) or did not answer, 76 it is not seglogd.\n");
}

/* -p as logger(1): "FACILITY.LEVEL" or "LEVEL" (facility user); syslog
 * names ignoring case, or numbers (RFC 5424 §6.2.1: facility 0-23,
 * severity 0-7), by the one parser of record.h. */
static int
send_parse_priority(const char *arg, uint8_t *ret_facility, uint8_t *ret_severity)
{
	const char *dot = strchr(arg, '.'), *lvl = dot ? dot + 1 : arg;
	int fac = SEND_DEFAULT_FACILITY, sev;

	if (dot) {
		size_t n = (size_t)(dot - arg);
		fac = record_facility_parse(arg, n);
		if (fac < 0) {
			fprintf(stderr, "seglog: unknown facility '%.*s' in -p %s (see --help)\n",
				(int)n, arg, arg);
			return -EINVAL;
		}
	}
	sev = record_severity_parse(lvl, strlen(lvl));
	if (sev < 0) {
		fprintf(stderr, "seglog: unknown level '%s' in -p %s (see --help)\n", lvl, arg);
		return -EINVAL;
	}
	*ret_facility = (uint8_t)fac;
	*ret_severity = (uint8_t)sev;
	return 0;
}

static _Noreturn void
send_oom(void)
{
	fprintf(stderr, "seglog: out of memory\n");
	exit(CLIENT_EXIT_FAILURE);
}

/* Appends v to a growing array of uint64_t. */
static void
send_push(uint64_t **arr, size_t *n, size_t *cap, uint64_t v)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		uint64_t *na = realloc(*arr, ncap * sizeof(*na));
		if (!na)
			send_oom();
		*arr = na;
		*cap = ncap;
	}
	(*arr)[(*n)++] = v;
}

/* The input line of record number recno: the recno-th line that was not
 * skipped.  Skipped lines are few; the list is walked in order. */
static uint64_t
send_recno_line(const struct send *s, uint64_t recno)
{
	uint64_t line = recno;

	for (size_t i = 0; i < s->n_skipped && s->skipped[i] <= line; i++)
		line++;
	return line;
}

static void
send_note_fail(struct send *s, enum send_fail kind, uint64_t line)
{
	struct send_fails *f = &s->fails[kind];

	if (f->count < SEND_LINES_SHOWN)
		f->lines[f->count] = line;
	f->count++;
}

/* A line longer than max_record is never sent: said at once, with its
 * number, and counted as failed. */
static void
send_skip_line(struct send *s, size_t len, bool whole)
{
	char what[64];

	s->lines++;
	send_push(&s->skipped, &s->n_skipped, &s->cap_skipped, s->lines);
	send_note_fail(s, SEND_FAIL_TOO_LONG, s->lines);
	if (s->from_args)
		snprintf(what, sizeof(what), "the message (%zu bytes)", len);
	else
		snprintf(what, sizeof(what), "line %" PRIu64 " (%s%zu bytes)", s->lines,
			 whole ? "" : "at least ", len);
	fprintf(stderr, "seglog: %s is longer than max_record (%zu bytes) of %s; not sent\n",
		what, s->max_record, s->path);
}

static void
send_queue(struct send *s, const char *msg, size_t len)
{
	struct proto_record r = {
		.facility = s->facility,
		.severity = s->severity,
		.flags = s->claim_pid ? PROTO_REC_CPID : 0,
		.claimed_pid = s->claimed_pid,
		.tag = s->tag,
		.tag_len = s->tag_len,
		.msg = msg,
		.msg_len = len,
	};

	if (len == 0 && s->skip_empty && !s->from_args) {
		/* -e: not a record, but still a line of the input (line numbers
		 * in messages stay those of the file) */
		s->lines++;
		s->empty++;
		send_push(&s->skipped, &s->n_skipped, &s->cap_skipped, s->lines);
		return;
	}
	if (len > s->max_record) {
		send_skip_line(s, len, true);
		return;
	}
	if (clientconn_queue_record(s->conn, &r) < 0)
		send_oom();
	s->lines++;
}

/* Turns buffered input lines into queued frames until the output queue
 * reaches its bound or no whole line is left.  A partial line longer than
 * max_record is reported here and its rest discarded as it arrives. */
static void
send_fill(struct send *s)
{
	if (!s->in)
		return; /* the message came from the arguments */
	while (clientconn_pending(s->conn) < SEND_OUT_HIGH && !s->write_dead) {
		const char *p = s->in + s->in_pos;
		size_t avail = s->in_len - s->in_pos;
		const char *nl = memchr(p, '\n', avail);

		if (nl) {
			send_queue(s, p, (size_t)(nl - p));
			s->in_pos += (size_t)(nl - p) + 1;
		} else if (avail > s->max_record) {
			send_skip_line(s, avail, false);
			s->discarding = true;
			s->in_pos = s->in_len = 0;
		} else if (s->in_eof && avail > 0) {
			send_queue(s, p, avail); /* a last line without newline */
			s->in_pos = s->in_len;
		} else {
			break;
		}
	}
	if (s->in_pos == s->in_len)
		s->in_pos = s->in_len = 0;
}

/* One read(2) of stdin into the free end of the buffer.  The buffer holds
 * a read chunk plus the longest line allowed, so after moving a partial
 * line to the front there is always a chunk's room. */
static void
send_read_stdin(struct send *s)
{
	ssize_t n;

	if (s->in_pos > 0) {
		memmove(s->in, s->in + s->in_pos, s->in_len - s->in_pos);
		s->in_len -= s->in_pos;
		s->in_pos = 0;
	}
	do
		n = read(STDIN_FILENO, s->in + s->in_len, s->in_cap - s->in_len);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		if (n < 0)
			s->in_error = -errno;
		s->in_eof = true;
		s->discarding = false;
		return;
	}
	if (s->discarding) {
		const char *nl = memchr(s->in + s->in_len, '\n', (size_t)n);
		if (!nl)
			return; /* all of it belongs to the long line */
		size_t rest = (size_t)n - (size_t)(nl + 1 - (s->in + s->in_len));
		memmove(s->in, nl + 1, rest);
		s->in_len = rest;
		s->discarding = false;
		return;
	}
	s->in_len += (size_t)n;
}

static bool
send_input_done(const struct send *s)
{
	return s->in_eof && s->in_pos == s->in_len;
}

#define SEND_LOST "the connection to %s was lost (daemon gone?): %s"

static void send_stop(struct send *s, bool over, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Stops writing (the connection broke) and, if over, reading too (nothing
 * more will come); the first reason is kept for the report. */
static void
send_stop(struct send *s, bool over, const char *fmt, ...)
{
	va_list ap;

	s->write_dead = true;
	s->over |= over;
	if (s->why[0])
		return;
	va_start(ap, fmt);
	vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
}

/* A send failed: the daemon stopped reading us (it is shutting down, or
 * dropped us) or is gone.  Nothing more is written, but the reason is not
 * decided yet: the daemon's last ACKs and the ERROR saying why may be in
 * our receive queue already, or on their way, and are read until the end
 * of stream (docs/protocol.md, "End of a connection"). */
static void
send_write_failed(struct send *s, int err)
{
	s->write_dead = true;
	if (!s->write_err)
		s->write_err = err;
}

/* ACKs and ERRORs: a refused record is noted by its input line; ERROR(0)
 * ends the connection (docs/protocol.md, "Errors"). */
static void
send_frame(struct send *s, const struct clientconn_frame *f)
{
	struct proto_error e;
	enum send_fail kind;
	int k = clientconn_take_reply(s->conn, f, &e);

	if (k == -ENOMEM)
		send_oom();
	if (k == -EBADMSG)
		send_stop(s, true, "the daemon at %s sent a malformed reply", s->path);
	if (k == -ECONNABORTED)
		send_stop(s, true, "the daemon at %s ended the connection (%s: %.*s)", s->path,
			   proto_error_name(e.code), (int)(e.text_len < 256 ? e.text_len : 256),
			   e.text);
	if (k != 1)
		return;
	kind = e.code == PROTO_ERR_TOO_LARGE	  ? SEND_FAIL_TOO_LONG
	       : e.code == PROTO_ERR_RATE_LIMITED ? SEND_FAIL_RATE_LIMITED
	       : e.code == PROTO_ERR_STORAGE	  ? SEND_FAIL_STORAGE
	       : e.code == PROTO_ERR_INVALID	  ? SEND_FAIL_INVALID
						  : SEND_FAIL_OTHER;
	/* only the lines that are shown are looked up */
	send_note_fail(s, kind,
		       s->fails[kind].count < SEND_LINES_SHOWN ? send_recno_line(s, e.recno) : 0);
}

/* Reads what the socket holds and handles every whole frame in it. */
static void
send_read_socket(struct send *s)
{
	struct clientconn_frame f;
	int r = clientconn_recv(s->conn), k = 0;

	if (r == -EAGAIN)
		return;
	while (!s->over && (k = clientconn_next_frame(s->conn, &f)) > 0)
		send_frame(s, &f);
	if (k < 0)
		send_stop(s, true, "the daemon at %s sent a frame with a bad length", s->path);
	else if (r < 0)
		send_stop(s, true, SEND_LOST, s->path, strerror(-r));
	else if (r == 0)
		send_stop(s, true, "the daemon at %s closed the connection", s->path);
}

/* --no-wait is done when the daemon has read every byte we sent: a
 * seglogd that finds the connection closed while it still has unread
 * records may drop them (it stops reading when an ACK cannot be written). */
static bool
send_received(const struct send *s)
{
	size_t n;

	return clientconn_unread(s->conn, &n) < 0 || n == 0;
}

/* The event loop: fill, write, read, until everything is sent (and, unless
 * --no-wait, acknowledged) or the connection is over. */
static void
send_loop(struct send *s)
{
	for (;;) {
		struct pollfd p[2] = { { .fd = clientconn_fd(s->conn), .events = POLLIN },
				       { .fd = -1, .events = POLLIN } };
		int k;

		send_fill(s);
		if (!s->write_dead && (k = clientconn_flush(s->conn)) < 0)
			send_write_failed(s, k);
		if (!s->shut && !s->write_dead && send_input_done(s) &&
		    clientconn_pending(s->conn) == 0) {
			if ((k = clientconn_shutdown(s->conn)) < 0)
				send_write_failed(s, k);
			s->shut = true;
		}
		if (s->over || (s->shut && (s->no_wait ? send_received(s)
						       : s->conn->acked == s->conn->sent)))
			break;
		if (!s->write_dead && clientconn_pending(s->conn) > 0)
			p[0].events |= POLLOUT;
		if (!s->in_eof && !s->write_dead && clientconn_pending(s->conn) < SEND_OUT_HIGH)
			p[1].fd = STDIN_FILENO;
		k = poll(p, 2, s->shut && s->no_wait ? 1 : -1);
		if (k < 0 && errno != EINTR) {
			send_stop(s, true, "poll on %s failed: %s", s->path, strerror(errno));
			break;
		}
		if (k <= 0)
			continue;
		if (p[1].revents)
			send_read_stdin(s);
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR))
			send_read_socket(s);
	}
	/* --no-wait: still collect the errors that are already there */
	while (s->no_wait && !s->over && clientconn_recv(s->conn) > 0) {
		struct clientconn_frame f;
		while (!s->over && clientconn_next_frame(s->conn, &f) > 0)
			send_frame(s, &f);
	}
	/* the daemon said nothing about why our send failed */
	if (s->write_err && !s->why[0])
		snprintf(s->why, sizeof(s->why), SEND_LOST, s->path, strerror(-s->write_err));
}

/* The one line that says how many records were stored of how many, and
 * why the others were not.  Returns the exit status. */
static int
send_report(struct send *s)
{
	static const char *const what[_SEND_FAIL_MAX] = {
		[SEND_FAIL_TOO_LONG] = "longer than max_record",
		[SEND_FAIL_RATE_LIMITED] = "rate-limited",
		[SEND_FAIL_STORAGE] = "refused for a storage error",
		[SEND_FAIL_INVALID] = "refused as invalid",
		[SEND_FAIL_OTHER] = "refused (unknown reason)",
	};
	const struct clientconn *c = s->conn;
	uint64_t unresolved = clientconn_unresolved(c);
	bool complete = send_input_done(s) && s->in_error == 0;
	uint64_t records = s->lines - s->empty;
	_cleanup_free_ char *msg = NULL;
	size_t len = 0;
	const char *sep = ": ";
	FILE *f;

	if (s->no_wait ? (c->refused + s->n_skipped - s->empty == 0 && complete && !s->write_dead)
		       : (clientconn_stored(c) == records && complete))
		return CLIENT_EXIT_OK;
	f = open_memstream(&msg, &len);
	if (!f)
		send_oom();
	if (s->no_wait)
		fprintf(f, "seglog: queued %" PRIu64 " of %" PRIu64 " records for %s, not waiting "
			"for acknowledgement", c->sent, records, s->path);
	else
		fprintf(f, "seglog: acknowledged %" PRIu64 " of %" PRIu64 " records at %s",
			clientconn_stored(c), records, s->path);
	for (int k = 0; k < _SEND_FAIL_MAX; k++) {
		const struct send_fails *e = &s->fails[k];
		if (e->count == 0)
			continue;
		fprintf(f, "%s%" PRIu64 " %s", sep, e->count, what[k]);
		sep = ", ";
		for (uint64_t i = 0; !s->from_args && i < e->count && i < SEND_LINES_SHOWN; i++)
			fprintf(f, "%s%" PRIu64 "%s",
				i ? ", " : e->count > 1 ? " (lines " : " (line ", e->lines[i],
				i + 1 < e->count && i + 1 < SEND_LINES_SHOWN ? ""
				: e->count > SEND_LINES_SHOWN		     ? ", ...)"
									     : ")");
	}
	if (!s->no_wait && unresolved > 0) {
		fprintf(f, "%s%" PRIu64 " not acknowledged", sep, unresolved);
		sep = ", ";
	}
	if (s->why[0])
		fprintf(f, "%s%s", sep, s->why);
	if (s->in_error)
		fprintf(f, "%sreading standard input failed: %s", sep, strerror(-s->in_error));
	else if (!complete)
		fputs("; the rest of the input was not read", f);
	fclose(f);
	fprintf(stderr, "%s\n", msg ? msg : "seglog: out of memory");
	return CLIENT_EXIT_FAILURE;
}

/* The default tag, as logger(1): the user name, else the uid. */
static const char *
send_default_tag(char *buf, size_t cap)
{
	const struct passwd *pw = getpwuid(getuid());

	if (pw && pw->pw_name && *pw->pw_name)
		return pw->pw_name;
	snprintf(buf, cap, "%u", (unsigned)getuid());
	return buf;
}

/* Joins the arguments with spaces into one message, as logger(1). */
static char *
send_join(int argc, char **argv, size_t *ret_len)
{
	size_t len = 1;
	char *m, *p;

	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	m = p = malloc(len);
	if (!m)
		return NULL;
	for (int i = 0; i < argc; i++) {
		if (i > 0)
			*p++ = ' ';
		p = stpcpy(p, argv[i]);
	}
	*ret_len = (size_t)(p - m);
	return m;
}

static void
send_free(struct send *s)
{
	free(s->in);
	free(s->skipped);
}

/* --id[=PID]: this process's pid, or PID. */
static int
send_opt_id(struct send *s, const char *arg)
{
	uint64_t v = (uint64_t)getpid();

	if (arg && (parse_u64(arg, &v) < 0 || v > INT32_MAX)) {
		fprintf(stderr, "seglog: --id '%s' is not a pid (0..%d)\n", arg, INT32_MAX);
		return -EINVAL;
	}
	s->claim_pid = true;
	s->claimed_pid = (uint32_t)v;
	return 0;
}

/* The options into s and *ret_file: 0, 1 after --help, or -EINVAL (said). */
static int
send_parse_options(struct send *s, const char **ret_file, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "tag", required_argument, NULL, 't' },
		{ "priority", required_argument, NULL, 'p' },
		{ "no-wait", no_argument, NULL, 'W' },
		{ "file", required_argument, NULL, 'f' },
		{ "skip-empty", no_argument, NULL, 'e' },
		{ "id", optional_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int k;

	while ((k = getopt_long(argc, argv, "t:p:f:eh", longopts, NULL)) != -1) {
		switch (k) {
		case 't':
			s->tag = optarg;
			break;
		case 'p':
			if (send_parse_priority(optarg, &s->facility, &s->severity) < 0)
				return -EINVAL;
			break;
		case 'W':
			s->no_wait = true;
			break;
		case 'f':
			*ret_file = optarg;
			break;
		case 'e':
			s->skip_empty = true;
			break;
		case 'I':
			if (send_opt_id(s, optarg) < 0)
				return -EINVAL;
			break;
		case 'h':
			send_usage(stdout);
			return 1;
		default:
			send_usage(stderr);
			return -EINVAL;
		}
	}
	return 0;
}

/* The tag (default: the user's name, in uidbuf if only a uid) and that a
 * file and a message are not both given; -EINVAL (said) if wrong. */
static int
send_check_args(struct send *s, const char *file, char *uidbuf, size_t uidbuf_size, int argc)
{
	if (!s->tag)
		s->tag = send_default_tag(uidbuf, uidbuf_size);
	s->tag_len = strlen(s->tag);
	if (s->tag_len > PROTO_TAG_MAX) {
		fprintf(stderr, "seglog: the tag is %zu bytes, at most %d are allowed\n", s->tag_len,
			PROTO_TAG_MAX);
		return -EINVAL;
	}
	if (file && optind < argc) {
		fprintf(stderr, "seglog: -f %s and a message on the command line exclude each "
			"other\n", file);
		return -EINVAL;
	}
	return 0;
}

/* -f FILE becomes standard input; -EIO (said) if it cannot be. */
static int
send_stdin_from(const char *file)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "seglog: cannot open %s: %m\n", file);
		return -EIO;
	}
	if (fd != STDIN_FILENO && (dup2(fd, STDIN_FILENO) < 0 || close(fd) < 0)) {
		fprintf(stderr, "seglog: cannot read %s: %m\n", file);
		return -EIO;
	}
	return 0;
}

/* Connects and takes the daemon's limits from its HELLO: 0, or the exit
 * status.  seglogd answers HELLO even under backpressure (only records
 * wait), so a peer silent for the hello timeout is not a working daemon:
 * exit 75 as seglog(1) says, instead of hanging a pipeline for ever. */
static int
send_connect(struct send *s, struct clientconn **ret)
{
	_cleanup_clientconn_ struct clientconn *c = NULL;
	int k;

	k = clientconn_open(s->path, send_hello_timeout_ms(), &c);
	if (k < 0)
		return clientconn_exit_status(k);
	s->max_record = c->hello.max_record;
	if (s->max_record > SEND_RECORD_MAX)
		s->max_record = SEND_RECORD_MAX; /* a frame must stay below the hard limit */
	if (s->tag_len > c->hello.max_tag) {
		fprintf(stderr, "seglog: the tag is %zu bytes, the daemon at %s takes at most %u\n",
			s->tag_len, s->path, (unsigned)c->hello.max_tag);
		return CLIENT_EXIT_USAGE;
	}
	s->conn = c;
	*ret = TAKE_PTR(c);
	return 0;
}

/* The input: the one message of the arguments, queued at once, or a
 * buffer for standard input. */
static void
send_start_input(struct send *s, const char *msg, size_t msg_len)
{
	if (s->from_args) {
		s->in_eof = true;
		send_queue(s, msg, msg_len);
		return;
	}
	s->in_cap = SEND_READ_CHUNK + s->max_record + 1;
	s->in = malloc(s->in_cap);
	if (!s->in)
		send_oom();
	(void)fcntl(STDIN_FILENO, F_SETPIPE_SZ, SEND_PIPE_SIZE); /* fails unless a pipe */
}

int
cmd_send(const struct client_opts *o, int argc, char **argv)
{
	_cleanup_(send_free) struct send s = {
		.path = o->socket,
		.facility = SEND_DEFAULT_FACILITY,
		.severity = SEND_DEFAULT_SEVERITY,
	};
	_cleanup_clientconn_ struct clientconn *c = NULL;
	_cleanup_free_ char *msg = NULL;
	char uidbuf[16];
	size_t msg_len = 0;
	const char *file = NULL;
	int k;

	k = send_parse_options(&s, &file, argc, argv);
	if (k != 0)
		return k > 0 ? CLIENT_EXIT_OK : CLIENT_EXIT_USAGE;
	if (send_check_args(&s, file, uidbuf, sizeof(uidbuf), argc) < 0)
		return CLIENT_EXIT_USAGE;
	if (file && send_stdin_from(file) < 0)
		return CLIENT_EXIT_FAILURE;
	if (optind < argc) {
		s.from_args = true;
		msg = send_join(argc - optind, argv + optind, &msg_len);
		if (!msg)
			send_oom();
	}
	signal(SIGPIPE, SIG_IGN);

	k = send_connect(&s, &c);
	if (k != 0)
		return k;
	send_start_input(&s, msg, msg_len);
	send_loop(&s);
	return send_report(&s);
}
