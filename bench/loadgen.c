/* bench/loadgen: a load generator for seglogd (docs/bench.md, "loadgen").
 *
 * K client processes (fork(2)) each send M records of S message bytes,
 * over one of seglogd's sockets:
 *
 *  - native (docs/protocol.md): RECORD frames pipelined in writes of up to
 *    --batch bytes, at most --window records unacknowledged; each record's
 *    latency from the first send(2) that carried it to the ACK that covered
 *    it goes into a log-linear histogram (lghist.h);
 *  - stream, octet: RFC 3164 lines over the syslog stream socket, with
 *    newline framing or RFC 6587 octet counting, in writes of up to --batch
 *    bytes;
 *  - dgram: one RFC 3164 line per datagram on the syslog datagram socket,
 *    up to 64 datagrams per sendmmsg(2).
 *
 * Every message is "lg C=<client> N=<seq> S=<size> <padding>" (lgmsg.h),
 * so bench/loadverify can prove afterwards that none was lost, duplicated
 * or damaged.  Progress goes to stderr once a second; the end is one
 * "loadgen mode=... key=value ..." line on stdout.
 *
 * The clients connect (and, native, exchange HELLO) first and start
 * together when the parent closes the "go" pipe, so the time measured is
 * the load's alone.  Each writes its figures into its own slot of a shared
 * mapping; the parent reads the progress counters while they run and the
 * rest once they have exited. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "clientconn.h"
#include "lghist.h"
#include "lgmsg.h"
#include "proto.h"

enum loadgen_mode {
	LOADGEN_NATIVE,
	LOADGEN_STREAM, /* syslog, newline framing (RFC 6587 §3.4.2) */
	LOADGEN_OCTET,	/* syslog, octet counting (RFC 6587 §3.4.1) */
	LOADGEN_DGRAM,	/* syslog, one datagram per line */
};

static const char *const loadgen_mode_names[] = {
	[LOADGEN_NATIVE] = "native",
	[LOADGEN_STREAM] = "stream",
	[LOADGEN_OCTET] = "octet",
	[LOADGEN_DGRAM] = "dgram",
};

/* the seglogd option that makes the socket each mode talks to */
static const char *const loadgen_mode_option[] = {
	[LOADGEN_NATIVE] = "--socket",
	[LOADGEN_STREAM] = "--syslog-stream",
	[LOADGEN_OCTET] = "--syslog-stream",
	[LOADGEN_DGRAM] = "--syslog-dgram",
};

enum {
	LOADGEN_CLIENTS_MAX = 1024,
	LOADGEN_WINDOW_MAX = 1 << 24,
	LOADGEN_BATCH_MAX = 16 << 20,
	LOADGEN_DGRAM_BATCH = 64, /* datagrams per sendmmsg(2) */
	LOADGEN_HELLO_TIMEOUT_MS = 10000,
	LOADGEN_STALL_S = 30, /* no progress this long: give up */
	LOADGEN_WHY_MAX = 320,
	LOADGEN_FACILITY = 1, /* user */
	LOADGEN_SEVERITY = 6, /* info */
	/* "<COUNT> " + "<14>Mmm dd hh:mm:ss " + TAG + ": " */
	LOADGEN_LEAD_MAX = 12 + 20 + PROTO_TAG_MAX + 2,
	LOADGEN_EXIT_USAGE = 2,
};

struct loadgen_opts {
	enum loadgen_mode mode;
	const char *socket;
	const char *status_socket; /* syslog modes: wait until durable, through this */
	uint32_t clients;
	uint64_t records; /* per client */
	size_t size;	  /* message bytes */
	uint64_t window;  /* native: records unacknowledged at most */
	size_t batch;	  /* bytes per write */
	const char *tag;
	bool quiet;
};

/* One client's figures in the mapping shared with the parent.  Only that
 * client writes it.  sent and acked are progress, read by the parent
 * while the client runs (relaxed atomics); the rest is read after the
 * client exited. */
struct loadgen_slot {
	uint64_t sent;
	uint64_t acked; /* native: resolved (stored or refused) */
	uint64_t stored;
	uint64_t refused;
	uint64_t acks; /* ACK frames */
	bool started;
	int err;		    /* < 0: the client failed, why says how */
	char why[LOADGEN_WHY_MAX]; /* the failure, or the first refusal */
	struct lghist hist;	    /* native: send -> ack, ns */
};

static uint64_t
loadgen_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
loadgen_set(uint64_t *counter, uint64_t v)
{
	__atomic_store_n(counter, v, __ATOMIC_RELAXED);
}

static uint64_t
loadgen_get(const uint64_t *counter)
{
	return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

/* Keeps the client's failure in its slot for the parent to report (once,
 * however many clients fail alike); "%m" names -err.  Returns err. */
static int __attribute__((format(printf, 3, 4)))
loadgen_fail(struct loadgen_slot *slot, int err, const char *fmt, ...)
{
	va_list ap;

	errno = -err;
	va_start(ap, fmt);
	vsnprintf(slot->why, sizeof(slot->why), fmt, ap);
	va_end(ap);
	slot->err = err;
	return err;
}

/* socket(2) and connect(2) to the Unix socket at path, see unix(7);
 * blocking. */
static int
loadgen_connect(const char *path, int type, int *ret_fd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -EBADF;
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, n + 1);
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	while (connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0)
		if (errno != EINTR)
			return -errno;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

/* A failed connect, said with what to check: the daemon not there, or a
 * socket of the other type (EPROTOTYPE: stream vs datagram). */
static int
loadgen_fail_connect(struct loadgen_slot *slot, const struct loadgen_opts *o, int err)
{
	const char *opt = loadgen_mode_option[o->mode];

	if (err == -ENOENT || err == -ECONNREFUSED)
		return loadgen_fail(slot, err,
				    "cannot connect to %s: %m (is seglogd running with %s %s?)",
				    o->socket, opt, o->socket);
	if (err == -EPROTOTYPE)
		return loadgen_fail(slot, err,
				    "cannot connect to %s: %m (--mode %s needs the socket of "
				    "seglogd %s)",
				    o->socket, loadgen_mode_names[o->mode], opt);
	return loadgen_fail(slot, err, "cannot connect to %s: %m", o->socket);
}

/* Tells the parent this client is ready (or, with err < 0, that it is not
 * and never will be), then waits until the parent closes the go pipe. */
static int
loadgen_start(struct loadgen_slot *slot, int ready_fd, int go_fd)
{
	char b = 'R';

	if (write(ready_fd, &b, 1) != 1)
		return loadgen_fail(slot, -errno, "telling the parent: %m");
	slot->started = true;
	while (read(go_fd, &b, 1) < 0)
		if (errno != EINTR)
			return loadgen_fail(slot, -errno, "waiting for the start: %m");
	return 0;
}

/* HELLO, refused or unanswered, said as `seglog` says it. */
static int
loadgen_fail_hello(struct loadgen_slot *slot, const struct loadgen_opts *o, struct clientconn *c,
		   int err)
{
	if (err == -EPROTO || err == -EPROTONOSUPPORT)
		return loadgen_fail(slot, err, "the daemon at %s refused the connection: %s%s%s",
				    o->socket, proto_error_name(c->hello_err_code),
				    c->hello_err_text[0] ? ": " : "", c->hello_err_text);
	if (err == -ETIMEDOUT)
		return loadgen_fail(slot, err,
				    "no answer to HELLO from %s within %d s (is it seglogd's "
				    "native socket?)",
				    o->socket, LOADGEN_HELLO_TIMEOUT_MS / 1000);
	if (err == -EBADMSG || err == -ECONNRESET)
		return loadgen_fail(slot, err,
				    "no HELLO_OK from %s (is it seglogd's native socket, not a "
				    "syslog one?)",
				    o->socket);
	return loadgen_fail(slot, err, "HELLO to %s: %m", o->socket);
}

/* --- native ---------------------------------------------------------------- */

/* One native client.  Each record's send time is kept in a ring of window
 * slots (recno % window: a recno and the one window later are never in
 * flight together), 0 for a refused one. */
struct loadgen_native {
	const struct loadgen_opts *o;
	uint32_t id;
	struct loadgen_slot *slot;
	struct clientconn *c;
	uint64_t *t_sent;
	uint64_t window;
	uint64_t stamped; /* the last recno whose send time is kept */
	char *msg;
	int write_err; /* the first failed send: nothing more is sent */
	bool shut;
};

/* Closes the connection and frees the buffers (a guard: runs on every way out). */
static void
loadgen_native_closep(struct loadgen_native *n)
{
	n->c = clientconn_free(n->c);
	free(n->t_sent);
	free(n->msg);
}

/* Connects, exchanges HELLO and checks that the daemon takes --size. */
static int
loadgen_native_open(struct loadgen_native *n)
{
	const struct loadgen_opts *o = n->o;
	int k = clientconn_connect(o->socket, &n->c);

	if (k < 0)
		return loadgen_fail_connect(n->slot, o, k);
	k = clientconn_hello(n->c, LOADGEN_HELLO_TIMEOUT_MS);
	if (k < 0)
		return loadgen_fail_hello(n->slot, o, n->c, k);
	if (o->size > n->c->hello.max_record)
		return loadgen_fail(n->slot, -EMSGSIZE, "--size %zu is larger than the daemon's "
				    "max_record (%" PRIu32 " bytes) at %s", o->size,
				    n->c->hello.max_record, o->socket);
	n->window = o->window < o->records ? o->window : o->records;
	n->t_sent = calloc(n->window, sizeof(*n->t_sent));
	n->msg = malloc(o->size);
	if (!n->t_sent || !n->msg)
		return loadgen_fail(n->slot, -ENOMEM, "out of memory");
	return 0;
}

/* Queues records while the window and the batch allow. */
static int
loadgen_native_fill(struct loadgen_native *n)
{
	const struct loadgen_opts *o = n->o;
	struct clientconn *c = n->c;
	struct proto_record r = {
		.facility = LOADGEN_FACILITY,
		.severity = LOADGEN_SEVERITY,
		.tag = o->tag,
		.tag_len = strlen(o->tag),
		.msg = n->msg,
		.msg_len = o->size,
	};

	while (c->sent < o->records && c->sent - c->acked < n->window &&
	       clientconn_pending(c) < o->batch) {
		struct lgmsg m = { .client = n->id, .seq = c->sent + 1, .size = o->size };
		int k;

		lgmsg_format(n->msg, &m);
		k = clientconn_queue_record(c, &r);
		if (k < 0)
			return loadgen_fail(n->slot, k, "queueing a record: %m");
	}
	return 0;
}

/* Once the queue is empty, fills it again; stamps the records queued
 * since the last send with this send's time, and sends what the socket
 * takes.  After the last record, shuts the sending side: the daemon then
 * commits and sends the last ACK.  A failed send stops the sending only:
 * the daemon's reason comes after (docs/protocol.md, "End of a
 * connection"). */
static int
loadgen_native_send(struct loadgen_native *n)
{
	struct clientconn *c = n->c;
	uint64_t now;
	int k;

	if (n->write_err)
		return 0;
	if (clientconn_pending(c) == 0) {
		k = loadgen_native_fill(n);
		if (k < 0)
			return k;
	}
	if (clientconn_pending(c) > 0) {
		now = loadgen_now_ns();
		for (; n->stamped < c->sent; n->stamped++)
			n->t_sent[(n->stamped + 1) % n->window] = now;
		n->write_err = clientconn_flush(c);
		loadgen_set(&n->slot->sent, c->sent);
	}
	if (c->sent == n->o->records && clientconn_pending(c) == 0 && !n->shut && !n->write_err) {
		(void)clientconn_shutdown(c);
		n->shut = true;
	}
	return 0;
}

/* ERROR(N) refuses record N and comes before the ACK that covers it;
 * ACK(N) resolves every record up to N (docs/protocol.md,
 * "Acknowledgements"), and each one newly covered that was not refused
 * gets its latency counted.  1 for a record's frame, or the failure
 * (ERROR(0) ends the connection). */
static int
loadgen_native_frame(struct loadgen_native *n, const struct clientconn_frame *f, uint64_t now)
{
	struct loadgen_slot *slot = n->slot;
	uint64_t prev = n->c->acked, r;
	struct proto_error e;
	int k = clientconn_take_reply(n->c, f, &e);

	if (k == -ECONNABORTED)
		return loadgen_fail(slot, k, "the daemon at %s ended the connection: %s%s%.*s",
				    n->o->socket, proto_error_name(e.code), e.text_len ? ": " : "",
				    (int)e.text_len, e.text);
	if (k < 0)
		return loadgen_fail(slot, k,
				    "unexpected frame (type 0x%02x) from %s: is it seglogd's "
				    "native socket?",
				    f->type, n->o->socket);
	if (k == 1) {
		n->t_sent[e.recno % n->window] = 0;
		if (!slot->why[0])
			snprintf(slot->why, sizeof(slot->why),
				 "record %" PRIu64 " refused: %s%s%.*s", e.recno,
				 proto_error_name(e.code), e.text_len ? ": " : "", (int)e.text_len,
				 e.text);
		return 1;
	}
	if (f->type != PROTO_ACK)
		return 1;
	slot->acks++;
	for (r = prev + 1; r <= n->c->acked; r++)
		if (n->t_sent[r % n->window])
			lghist_add(&slot->hist, now - n->t_sent[r % n->window]);
	return 1;
}

/* Takes the frames the socket holds: 1, 0 at the end of the stream, or
 * the failure. */
static int
loadgen_native_read(struct loadgen_native *n)
{
	struct clientconn_frame f;
	uint64_t now;
	int k = clientconn_recv(n->c);

	if (k == -EAGAIN)
		return 1;
	if (k < 0)
		return loadgen_fail(n->slot, k, "reading from %s: %m", n->o->socket);
	now = loadgen_now_ns();
	while ((k = clientconn_next_frame(n->c, &f)) > 0) {
		k = loadgen_native_frame(n, &f, now);
		if (k < 0)
			return k;
	}
	if (k < 0)
		return loadgen_fail(n->slot, k, "%s sent a broken frame: is it seglogd's native "
				    "socket?", n->o->socket);
	loadgen_set(&n->slot->acked, n->c->acked);
	return n->c->in_eof ? 0 : 1;
}

/* One native client: pipelined RECORDs, at most window of them
 * unresolved, until every record is resolved. */
static int
loadgen_native(const struct loadgen_opts *o, uint32_t id, struct loadgen_slot *slot, int ready_fd,
	       int go_fd)
{
	_cleanup_(loadgen_native_closep) struct loadgen_native n = {
		.o = o,
		.id = id,
		.slot = slot,
	};
	struct clientconn *c;
	int k = loadgen_native_open(&n);

	if (k < 0)
		return k;
	k = loadgen_start(slot, ready_fd, go_fd);
	if (k < 0)
		return k;
	c = n.c;
	while (c->acked < o->records) {
		struct pollfd pfd = { .fd = clientconn_fd(c), .events = POLLIN };

		k = loadgen_native_send(&n);
		if (k < 0)
			return k;
		if (clientconn_pending(c) > 0 && !n.write_err)
			pfd.events |= POLLOUT;
		if (poll(&pfd, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return loadgen_fail(slot, -errno, "poll: %m");
		}
		if (!(pfd.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		k = loadgen_native_read(&n);
		if (k < 0)
			return k;
		if (k == 0)
			break;
	}
	slot->refused = c->refused;
	slot->stored = clientconn_stored(c);
	if (c->acked < o->records)
		return loadgen_fail(slot, -ECONNRESET,
				    "%s closed the connection with %" PRIu64 " of %" PRIu64
				    " records resolved%s%s (see seglogd's log)",
				    o->socket, c->acked, o->records,
				    n.write_err ? "; writing failed: " : "",
				    n.write_err ? strerror(-n.write_err) : "");
	return 0;
}

/* --- syslog ---------------------------------------------------------------- */

/* What comes before each message on a syslog socket: the octet count
 * (octet mode), then an RFC 3164 header (RFC 3164 §4.1) as logger(1) and
 * glibc write it on a local socket, without HOSTNAME:
 * "<PRI>Mmm dd hh:mm:ss TAG: ".  Rebuilt when the second changes. */
struct loadgen_lead {
	time_t second;
	size_t len;
	char buf[LOADGEN_LEAD_MAX + 1];
};

static void
loadgen_lead_update(const struct loadgen_opts *o, struct loadgen_lead *l)
{
	time_t now = time(NULL);
	char stamp[32], head[sizeof(stamp) + PROTO_TAG_MAX + 16];
	struct tm tm;
	int n;

	if (l->len && now == l->second)
		return;
	l->second = now;
	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
	n = snprintf(head, sizeof(head), "<%d>%s %s: ", LOADGEN_FACILITY * 8 + LOADGEN_SEVERITY,
		     stamp, o->tag);
	if (o->mode == LOADGEN_OCTET)
		n = snprintf(l->buf, sizeof(l->buf), "%zu %s", (size_t)n + o->size, head);
	else
		n = snprintf(l->buf, sizeof(l->buf), "%s", head);
	l->len = (size_t)n;
}

/* Lines for records *seq, *seq + 1, ... into buf, up to batch bytes (at
 * least one line) and n_max lines; iov[i] gets line i (without framing: a
 * datagram is a line) when iov is given.  Returns the bytes written. */
static size_t
loadgen_syslog_fill(const struct loadgen_opts *o, const struct loadgen_lead *l, uint32_t id,
		    uint64_t *seq, char *buf, struct iovec *iov, size_t n_max, size_t *ret_n)
{
	size_t line = l->len + o->size + (o->mode == LOADGEN_STREAM), len = 0, n = 0;

	while (*seq <= o->records && n < n_max && (n == 0 || len + line <= o->batch)) {
		struct lgmsg m = { .client = id, .seq = (*seq)++, .size = o->size };
		char *p = buf + len;

		memcpy(p, l->buf, l->len);
		lgmsg_format(p + l->len, &m);
		if (o->mode == LOADGEN_STREAM)
			p[l->len + o->size] = '\n';
		if (iov)
			iov[n] = (struct iovec){ .iov_base = p, .iov_len = line };
		len += line;
		n++;
	}
	*ret_n = n;
	return len;
}

static int
loadgen_send_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* sendmmsg(2) until every datagram is sent; blocking, so a full receive
 * queue at the daemon (backpressure) makes it wait instead of dropping. */
static int
loadgen_send_dgrams(int fd, struct iovec *iov, size_t n)
{
	struct mmsghdr mh[LOADGEN_DGRAM_BATCH];
	size_t i, done = 0;

	for (i = 0; i < n; i++)
		mh[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
	while (done < n) {
		int k = sendmmsg(fd, mh + done, (unsigned)(n - done), 0);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		done += (size_t)k;
	}
	return 0;
}

/* One syslog client: lines in batches, blocking writes; no answer comes on
 * these sockets (the parent can wait for durability through the native
 * socket, --status-socket). */
static int
loadgen_syslog(const struct loadgen_opts *o, uint32_t id, struct loadgen_slot *slot, int ready_fd,
	       int go_fd)
{
	bool dgram = o->mode == LOADGEN_DGRAM;
	struct iovec iov[LOADGEN_DGRAM_BATCH];
	struct loadgen_lead lead = { 0 };
	_cleanup_close_ int fd = -EBADF;
	_cleanup_free_ char *buf = NULL;
	uint64_t seq = 1;
	int k;

	k = loadgen_connect(o->socket, dgram ? SOCK_DGRAM : SOCK_STREAM, &fd);
	if (k < 0)
		return loadgen_fail_connect(slot, o, k);
	buf = malloc(o->batch + LOADGEN_LEAD_MAX + o->size + 1);
	if (!buf)
		return loadgen_fail(slot, -ENOMEM, "out of memory");
	k = loadgen_start(slot, ready_fd, go_fd);
	if (k < 0)
		return k;
	while (seq <= o->records) {
		size_t len, n;

		loadgen_lead_update(o, &lead);
		len = loadgen_syslog_fill(o, &lead, id, &seq, buf, dgram ? iov : NULL,
					  dgram ? LOADGEN_DGRAM_BATCH : SIZE_MAX, &n);
		k = dgram ? loadgen_send_dgrams(fd, iov, n) : loadgen_send_all(fd, buf, len);
		if (k < 0)
			return loadgen_fail(slot, k,
					    "writing to %s: %m (did seglogd stop? see its log)",
					    o->socket);
		loadgen_set(&slot->sent, seq - 1);
	}
	return 0;
}

/* --- the parent ------------------------------------------------------------ */

static int
loadgen_child(const struct loadgen_opts *o, uint32_t id, struct loadgen_slot *slot, int ready_fd,
	      int go_fd)
{
	int k = o->mode == LOADGEN_NATIVE ? loadgen_native(o, id, slot, ready_fd, go_fd)
					  : loadgen_syslog(o, id, slot, ready_fd, go_fd);

	if (k < 0 && !slot->started)
		(void)!write(ready_fd, "F", 1);
	return k < 0 ? 1 : 0;
}

/* The last durable seq from a STATUS reply ("seq N", docs/protocol.md). */
static int
loadgen_status_seq(struct clientconn *c, uint64_t *ret)
{
	struct clientconn_frame f;
	int k = clientconn_queue_status_req(c);

	if (k < 0)
		return k;
	do {
		k = clientconn_wait_frame(c, LOADGEN_HELLO_TIMEOUT_MS, &f);
		if (k < 0)
			return k;
		if (f.type == PROTO_ERROR)
			return -ECONNABORTED;
	} while (f.type != PROTO_STATUS);
	for (const char *p = (const char *)f.body, *end = p + f.len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;

		if (eol - p > 4 && memcmp(p, "seq ", 4) == 0) {
			char num[24];
			size_t n = (size_t)(eol - p - 4);

			if (n >= sizeof(num))
				return -EBADMSG;
			memcpy(num, p + 4, n);
			num[n] = '\0';
			*ret = strtoull(num, NULL, 10);
			return 0;
		}
		p = eol + 1;
	}
	return -EBADMSG;
}

static int
loadgen_open_status(const struct loadgen_opts *o, struct clientconn **ret)
{
	_cleanup_clientconn_ struct clientconn *c = NULL;
	int k = clientconn_connect(o->status_socket, &c);

	if (k == 0)
		k = clientconn_hello(c, LOADGEN_HELLO_TIMEOUT_MS);
	if (k < 0) {
		fprintf(stderr,
			"loadgen: cannot talk to --status-socket %s: %s (it must be seglogd's "
			"native --socket)\n",
			o->status_socket, strerror(-k));
		return k;
	}
	*ret = TAKE_PTR(c);
	return 0;
}

static void
loadgen_sum(const struct loadgen_opts *o, const struct loadgen_slot *slots, uint64_t *ret_sent,
	    uint64_t *ret_acked)
{
	uint64_t s = 0, a = 0;

	for (uint32_t i = 0; i < o->clients; i++) {
		s += loadgen_get(&slots[i].sent);
		a += loadgen_get(&slots[i].acked);
	}
	*ret_sent = s;
	*ret_acked = a;
}

/* Reads one byte per client from the ready pipe: 0 once all are ready,
 * -ECHILD if one failed (or died) first. */
static int
loadgen_wait_ready(int fd, uint32_t clients)
{
	for (uint32_t i = 0; i < clients;) {
		char b;
		ssize_t n = read(fd, &b, 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || b != 'R')
			return -ECHILD;
		i++;
	}
	return 0;
}

/* Once a second, until every client has exited (the ready pipe's end of
 * file): progress on stderr; -ETIMEDOUT after LOADGEN_STALL_S seconds
 * without any. */
static int
loadgen_watch(const struct loadgen_opts *o, const struct loadgen_slot *slots, int fd, uint64_t t0)
{
	uint64_t next = t0 + 1000000000u, last_change = t0, last_sent = 0, last_acked = 0;

	for (;;) {
		uint64_t now = loadgen_now_ns(), sent, acked;
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int ms = now >= next ? 0 : (int)((next - now) / 1000000u) + 1;

		if (poll(&pfd, 1, ms) > 0) {
			char b;

			if (read(fd, &b, 1) == 0)
				return 0;
			continue;
		}
		now = loadgen_now_ns();
		if (now < next)
			continue;
		loadgen_sum(o, slots, &sent, &acked);
		if (!o->quiet && o->mode == LOADGEN_NATIVE)
			fprintf(stderr,
				"loadgen: %.0f s: %" PRIu64 " sent, %" PRIu64 " acked (%" PRIu64
				"/s)\n",
				(double)(now - t0) / 1e9, sent, acked, acked - last_acked);
		else if (!o->quiet)
			fprintf(stderr, "loadgen: %.0f s: %" PRIu64 " sent (%" PRIu64 "/s)\n",
				(double)(now - t0) / 1e9, sent, sent - last_sent);
		if (sent != last_sent || acked != last_acked)
			last_change = now;
		else if (now - last_change >= (uint64_t)LOADGEN_STALL_S * 1000000000u) {
			fprintf(stderr, "loadgen: no progress for %d s (%" PRIu64 " sent, %" PRIu64
				" acked): is seglogd stalled? see seglog status\n", LOADGEN_STALL_S,
				sent, acked);
			return -ETIMEDOUT;
		}
		last_sent = sent;
		last_acked = acked;
		next += 1000000000u;
	}
}

/* Polls STATUS until the durable seq reaches target (the syslog modes'
 * records are then all stored, if nobody else logs meanwhile);
 * -ETIMEDOUT after LOADGEN_STALL_S seconds without progress. */
static int
loadgen_wait_durable(const struct loadgen_opts *o, struct clientconn *c, uint64_t target,
		     uint64_t *ret_seq)
{
	uint64_t seq = 0, last = 0, last_change = loadgen_now_ns();

	for (;;) {
		int k = loadgen_status_seq(c, &seq);

		if (k < 0) {
			fprintf(stderr, "loadgen: STATUS from %s: %s\n", o->status_socket,
				strerror(-k));
			return k;
		}
		if (seq >= target)
			break;
		if (seq != last) {
			last = seq;
			last_change = loadgen_now_ns();
		} else if (loadgen_now_ns() - last_change >=
			   (uint64_t)LOADGEN_STALL_S * 1000000000u) {
			fprintf(stderr,
				"loadgen: the durable seq at %s stayed at %" PRIu64 " for %d s, "
				"short of %" PRIu64 ": records were dropped (see seglog status: "
				"syslog_oversize, suppressed) or seglogd is stalled\n",
				o->status_socket, seq, LOADGEN_STALL_S, target);
			return -ETIMEDOUT;
		}
		nanosleep(&(struct timespec){ .tv_nsec = 5000000 }, NULL);
	}
	*ret_seq = seq;
	return 0;
}

static void
loadgen_stop(pid_t *pids, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (pids[i] > 0)
			(void)kill(pids[i], SIGTERM);
}

/* Reaps every client; the number that failed. */
static uint32_t
loadgen_reap(pid_t *pids, uint32_t n)
{
	uint32_t failed = 0;

	for (uint32_t i = 0; i < n; i++) {
		int st;

		if (pids[i] <= 0)
			continue;
		while (waitpid(pids[i], &st, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			failed++;
		pids[i] = 0;
	}
	return failed;
}

/* Says why clients failed: the first one's reason, and how many more. */
static void
loadgen_report(const struct loadgen_opts *o, const struct loadgen_slot *slots, uint32_t failed)
{
	uint32_t first = o->clients;

	for (uint32_t i = 0; i < o->clients && first == o->clients; i++)
		if (slots[i].err < 0)
			first = i;
	if (first < o->clients)
		fprintf(stderr, "loadgen: client %" PRIu32 ": %s\n", first, slots[first].why);
	if (failed > 1 || first == o->clients)
		fprintf(stderr, "loadgen: %" PRIu32 " of %" PRIu32 " clients failed\n", failed,
			o->clients);
}

/* User and system CPU of the clients, reaped by now (getrusage(2)): on
 * two cores the generator competes with the daemon, and this says how
 * much. */
static double
loadgen_children_cpu_s(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_CHILDREN, &ru) < 0)
		return 0;
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void
loadgen_us(const char *key, uint64_t ns)
{
	printf(" %s=%.1f", key, (double)ns / 1000.0);
}

/* The result line (docs/bench.md): figures over all clients. */
static void
loadgen_result(const struct loadgen_opts *o, const struct loadgen_slot *slots, double wall_s,
	       double send_s, uint64_t durable, bool waited)
{
	static struct lghist h; /* 15 KiB: not on the stack */
	uint64_t sent = 0, stored = 0, refused = 0, acks = 0, done;

	for (uint32_t i = 0; i < o->clients; i++) {
		sent += slots[i].sent;
		stored += slots[i].stored;
		refused += slots[i].refused;
		acks += slots[i].acks;
		lghist_merge(&h, &slots[i].hist);
	}
	done = o->mode == LOADGEN_NATIVE ? stored : waited ? durable : sent;
	printf("loadgen mode=%s clients=%" PRIu32 " records=%" PRIu64 " size=%zu",
	       loadgen_mode_names[o->mode], o->clients, o->records, o->size);
	if (o->mode == LOADGEN_NATIVE)
		printf(" window=%" PRIu64, o->window);
	printf(" wall_s=%.3f rec_per_s=%.0f MB_per_s=%.2f client_cpu_s=%.3f sent=%" PRIu64, wall_s,
	       (double)done / wall_s, (double)done * (double)o->size / wall_s / 1e6,
	       loadgen_children_cpu_s(), sent);
	if (o->mode == LOADGEN_NATIVE) {
		printf(" acked=%" PRIu64 " refused=%" PRIu64 " acks=%" PRIu64, stored, refused,
		       acks);
		loadgen_us("p50_us", lghist_percentile(&h, 50));
		loadgen_us("p99_us", lghist_percentile(&h, 99));
		loadgen_us("p999_us", lghist_percentile(&h, 99.9));
		loadgen_us("max_us", h.max);
	} else if (waited) {
		printf(" send_s=%.3f stored=%" PRIu64, send_s, durable);
	} else {
		printf(" send_s=%.3f stored=-", send_s);
	}
	printf("\n");
	fflush(stdout);
}

/* Creates the ready and go pipes and forks the clients.  The parent keeps
 * the reading end of ready (its end of file: every client has exited) and
 * the writing end of go (closing it starts them). */
static int
loadgen_spawn(const struct loadgen_opts *o, struct loadgen_slot *slots, pid_t *pids, int *ret_ready,
	      int *ret_go)
{
	_cleanup_close_ int ready_r = -EBADF, ready_w = -EBADF, go_r = -EBADF, go_w = -EBADF;
	int fds[2], k;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	ready_r = fds[0], ready_w = fds[1];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	go_r = fds[0], go_w = fds[1];
	fflush(NULL);
	for (uint32_t i = 0; i < o->clients; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			/* a client whose parent is gone must not start (go's end of file) */
			(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
			ready_r = safe_close(ready_r);
			go_w = safe_close(go_w);
			_exit(loadgen_child(o, i, &slots[i], ready_w, go_r));
		}
		if (pid < 0) {
			k = -errno;
			loadgen_stop(pids, i);
			loadgen_reap(pids, i);
			return k;
		}
		pids[i] = pid;
	}
	*ret_ready = TAKE_FD(ready_r);
	*ret_go = TAKE_FD(go_w);
	return 0;
}

/* The run: the clients ready, started together, watched until they
 * exit; in the syslog modes with --status-socket, the wait until their
 * records are durable; the result line. */
static int
loadgen_run(const struct loadgen_opts *o)
{
	_cleanup_clientconn_ struct clientconn *st = NULL;
	_cleanup_free_ pid_t *pids = calloc(o->clients, sizeof(pid_t));
	_cleanup_close_ int ready = -EBADF, go = -EBADF;
	struct loadgen_slot *slots;
	uint64_t seq0 = 0, durable = 0, t0, t_sent, t1;
	uint32_t failed;
	int k;

	if (!pids)
		return 1;
	if (o->status_socket &&
	    (loadgen_open_status(o, &st) < 0 || loadgen_status_seq(st, &seq0) < 0))
		return 1;
	slots = mmap(NULL, o->clients * sizeof(*slots), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	k = slots == MAP_FAILED ? -errno : loadgen_spawn(o, slots, pids, &ready, &go);
	if (k < 0) {
		fprintf(stderr, "loadgen: starting the clients: %s\n", strerror(-k));
		return 1;
	}
	if (loadgen_wait_ready(ready, o->clients) < 0) {
		loadgen_stop(pids, o->clients);
		loadgen_report(o, slots, loadgen_reap(pids, o->clients));
		return 1;
	}
	t0 = loadgen_now_ns();
	go = safe_close(go);
	k = loadgen_watch(o, slots, ready, t0);
	t_sent = loadgen_now_ns();
	if (k < 0)
		loadgen_stop(pids, o->clients); /* stalled, and said so */
	failed = loadgen_reap(pids, o->clients);
	if (k < 0)
		return 1;
	if (failed) {
		loadgen_report(o, slots, failed);
		return 1;
	}
	if (st && loadgen_wait_durable(o, st, seq0 + o->clients * o->records, &durable) < 0)
		return 1;
	t1 = loadgen_now_ns();
	loadgen_result(o, slots, (double)(t1 - t0) / 1e9, (double)(t_sent - t0) / 1e9,
		       durable - seq0, st != NULL);
	for (uint32_t i = 0; i < o->clients; i++)
		if (slots[i].refused) {
			fprintf(stderr, "loadgen: client %" PRIu32 ": %s\n", i, slots[i].why);
			return 1;
		}
	return 0;
}

/* --- options --------------------------------------------------------------- */

static void
loadgen_usage(FILE *f)
{
	fprintf(f,
		"Usage: loadgen -s SOCKET [OPTIONS]\n"
		"\n"
		"Runs K client processes that each send M records of S message bytes to\n"
		"seglogd, then prints one result line on stdout (docs/bench.md).\n"
		"\n"
		"  -m, --mode MODE          native (default): the native protocol, with acks;\n"
		"                           stream: syslog stream, newline framing;\n"
		"                           octet: syslog stream, RFC 6587 octet counting;\n"
		"                           dgram: syslog datagrams, one line each\n"
		"  -s, --socket PATH        seglogd's --socket (native), --syslog-stream (stream,\n"
		"                           octet) or --syslog-dgram (dgram)\n"
		"  -c, --clients K          client processes (8; 1 to %d)\n"
		"  -n, --records M          records per client (250000)\n"
		"  -b, --size S             message bytes per record (128), the sequence prefix\n"
		"                           \"lg C=.. N=.. S=.. \" included\n"
		"  -w, --window N           native: records unacknowledged at most per client\n"
		"                           (65536; 1 waits for each ack)\n"
		"      --batch BYTES        bytes per write (65536)\n"
		"  -t, --tag TAG            the records' tag (lg)\n"
		"      --status-socket PATH syslog modes: seglogd's native socket; the time then\n"
		"                           runs until every record is durable\n"
		"  -q, --quiet              no progress lines on stderr\n"
		"  -h, --help               this text\n"
		"\n"
		"Exit status: 0 every record sent (native: and acknowledged), 1 failure or\n"
		"records refused, 2 usage.\n",
		LOADGEN_CLIENTS_MAX);
}

/* The whole decimal number arg of option opt, in [min, max]: 0, or
 * -EINVAL (said). */
static int
loadgen_number(const char *opt, const char *arg, uint64_t min, uint64_t max, uint64_t *ret)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (*arg < '0' || *arg > '9' || errno || *end || v < min || v > max) {
		fprintf(stderr,
			"loadgen: %s: '%s' is not a number from %" PRIu64 " to %" PRIu64 "\n", opt,
			arg, min, max);
		return -EINVAL;
	}
	*ret = v;
	return 0;
}

/* The checks that need all options: what the mode takes, the tag syslog
 * accepts (RFC 3164 §4.1.3, as seglog's parser reads it: no SP, ':' or
 * '['), a size that holds the sequence prefix. */
static int
loadgen_check_opts(struct loadgen_opts *o, bool window_given)
{
	struct lgmsg widest = { .client = o->clients - 1, .seq = o->records, .size = o->size };
	size_t tlen = strlen(o->tag);

	if (!o->socket) {
		fprintf(stderr, "loadgen: no socket: give -s PATH (seglogd's %s for --mode %s)\n",
			loadgen_mode_option[o->mode], loadgen_mode_names[o->mode]);
		return -EINVAL;
	}
	if (window_given && o->mode != LOADGEN_NATIVE) {
		fprintf(stderr, "loadgen: --window is for --mode native (syslog has no acks)\n");
		return -EINVAL;
	}
	if (o->status_socket && o->mode == LOADGEN_NATIVE) {
		fprintf(stderr,
			"loadgen: --status-socket is for the syslog modes (native waits for "
			"acks)\n");
		return -EINVAL;
	}
	if (tlen == 0 || tlen > PROTO_TAG_MAX || strpbrk(o->tag, " :[")) {
		fprintf(stderr, "loadgen: --tag '%s': 1 to %d bytes without space, ':' or '['\n",
			o->tag, PROTO_TAG_MAX);
		return -EINVAL;
	}
	if (o->size < lgmsg_prefix_len(&widest)) {
		fprintf(stderr,
			"loadgen: --size %zu cannot hold the sequence prefix \"lg C=%" PRIu32
			" N=%" PRIu64 " S=%zu \": give at least %zu\n",
			o->size, widest.client, widest.seq, o->size, lgmsg_prefix_len(&widest));
		return -EINVAL;
	}
	return 0;
}

enum {
	LOADGEN_OPT_BATCH = 0x100,
	LOADGEN_OPT_STATUS_SOCKET,
};

static int
loadgen_parse_mode(const char *arg, enum loadgen_mode *ret)
{
	for (size_t i = 0; i < ELEMENTSOF(loadgen_mode_names); i++)
		if (strcmp(arg, loadgen_mode_names[i]) == 0) {
			*ret = (enum loadgen_mode)i;
			return 0;
		}
	fprintf(stderr, "loadgen: --mode '%s': native, stream, octet or dgram\n", arg);
	return -EINVAL;
}

/* One option: 0, or -EINVAL (said). */
static int
loadgen_opt(struct loadgen_opts *o, int c, const char *arg, bool *window_given)
{
	uint64_t v = 0;
	int k;

	switch (c) {
	case 'm':
		return loadgen_parse_mode(arg, &o->mode);
	case 's':
		o->socket = arg;
		return 0;
	case 'c':
		k = loadgen_number("--clients", arg, 1, LOADGEN_CLIENTS_MAX, &v);
		o->clients = k == 0 ? (uint32_t)v : o->clients;
		return k;
	case 'n':
		return loadgen_number("--records", arg, 1, UINT32_MAX, &o->records);
	case 'b':
		k = loadgen_number("--size", arg, 1, LGMSG_SIZE_MAX, &v);
		o->size = k == 0 ? (size_t)v : o->size;
		return k;
	case 'w':
		*window_given = true;
		return loadgen_number("--window", arg, 1, LOADGEN_WINDOW_MAX, &o->window);
	case LOADGEN_OPT_BATCH:
		k = loadgen_number("--batch", arg, 1, LOADGEN_BATCH_MAX, &v);
		o->batch = k == 0 ? (size_t)v : o->batch;
		return k;
	case 't':
		o->tag = arg;
		return 0;
	case LOADGEN_OPT_STATUS_SOCKET:
		o->status_socket = arg;
		return 0;
	case 'q':
		o->quiet = true;
		return 0;
	default:
		loadgen_usage(stderr);
		return -EINVAL;
	}
}

/* 0 with o filled in, 1 after --help, -EINVAL (said) for bad options. */
static int
loadgen_parse_args(int argc, char **argv, struct loadgen_opts *o)
{
	static const struct option longopts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "socket", required_argument, NULL, 's' },
		{ "clients", required_argument, NULL, 'c' },
		{ "records", required_argument, NULL, 'n' },
		{ "size", required_argument, NULL, 'b' },
		{ "window", required_argument, NULL, 'w' },
		{ "batch", required_argument, NULL, LOADGEN_OPT_BATCH },
		{ "tag", required_argument, NULL, 't' },
		{ "status-socket", required_argument, NULL, LOADGEN_OPT_STATUS_SOCKET },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool window_given = false;
	int c;

	while ((c = getopt_long(argc, argv, "m:s:c:n:b:w:t:qh", longopts, NULL)) != -1) {
		if (c == 'h') {
			loadgen_usage(stdout);
			return 1;
		}
		if (loadgen_opt(o, c, optarg, &window_given) < 0)
			return -EINVAL;
	}
	if (optind < argc) {
		fprintf(stderr, "loadgen: unexpected argument '%s' (see --help)\n", argv[optind]);
		return -EINVAL;
	}
	return loadgen_check_opts(o, window_given);
}

int
main(int argc, char **argv)
{
	struct loadgen_opts o = {
		.mode = LOADGEN_NATIVE,
		.clients = 8,
		.records = 250000,
		.size = 128,
		.window = 65536,
		.batch = 64 << 10,
		.tag = "lg",
	};
	int k = loadgen_parse_args(argc, argv, &o);

	if (k != 0)
		return k > 0 ? 0 : LOADGEN_EXIT_USAGE;
	signal(SIGPIPE, SIG_IGN);
	return loadgen_run(&o);
}
