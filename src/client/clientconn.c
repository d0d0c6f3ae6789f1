/* A native-protocol client connection (docs/protocol.md, "Writing a
 * client"): the seglog utility's side of the socket.  See clientconn.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "client.h"
#include "clientconn.h"
#include "now.h"

enum {
	CLIENTCONN_IN_INITIAL = 64 << 10,
	CLIENTCONN_OUT_INITIAL = 256 << 10,
	CLIENTCONN_SNDBUF = 1 << 20, /* asked for; the kernel caps it at wmem_max */
};

struct clientconn *
clientconn_free(struct clientconn *c)
{
	if (!c)
		return NULL;
	safe_close(c->fd);
	free(c->out);
	free(c->in);
	free(c->ahead);
	free(c);
	return NULL;
}

/* socket(2) and connect(2) to an AF_UNIX stream socket, see unix(7).  The
 * socket is made nonblocking only after connect(), so that a listener with
 * a full backlog makes connect() wait rather than fail with EAGAIN. */
int
clientconn_connect(const char *path, struct clientconn **ret)
{
	_cleanup_clientconn_ struct clientconn *c = NULL;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t plen = strlen(path);
	int sndbuf = CLIENTCONN_SNDBUF;

	if (plen == 0 || plen >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, plen + 1);
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->fd = -EBADF;
	c->path = path;
	c->in_cap = CLIENTCONN_IN_INITIAL;
	c->out_cap = CLIENTCONN_OUT_INITIAL;
	c->in = malloc(c->in_cap);
	c->out = malloc(c->out_cap);
	if (!c->in || !c->out)
		return -ENOMEM;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	(void)setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	while (connect(c->fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0)
		if (errno != EINTR)
			return -errno;
	int fl = fcntl(c->fd, F_GETFL);
	if (fl < 0 || fcntl(c->fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	*ret = TAKE_PTR(c);
	return 0;
}

size_t
clientconn_pending(const struct clientconn *c)
{
	return c->out_len - c->out_pos;
}

/* Makes room for n more bytes at the end of the output queue: moves the
 * unsent rest to the front, grows the buffer if that is not enough.  The
 * caller bounds the queue; this only never loses bytes. */
static int
clientconn_out_reserve(struct clientconn *c, size_t n, uint8_t **ret)
{
	if (c->out_cap - c->out_len < n && c->out_pos > 0) {
		memmove(c->out, c->out + c->out_pos, c->out_len - c->out_pos);
		c->out_len -= c->out_pos;
		c->out_pos = 0;
	}
	if (c->out_cap - c->out_len < n) {
		size_t ncap = c->out_cap;
		while (ncap - c->out_len < n)
			ncap *= 2;
		uint8_t *nb = realloc(c->out, ncap);
		if (!nb)
			return -ENOMEM;
		c->out = nb;
		c->out_cap = ncap;
	}
	*ret = c->out + c->out_len;
	return 0;
}

int
clientconn_queue_record(struct clientconn *c, const struct proto_record *r)
{
	size_t n = proto_record_size(r);
	uint8_t *p;
	int k = clientconn_out_reserve(c, n, &p);

	if (k < 0)
		return k;
	c->out_len += proto_put_record(p, r);
	c->sent++;
	return 0;
}

int
clientconn_queue_status_req(struct clientconn *c)
{
	uint8_t *p;
	int k = clientconn_out_reserve(c, PROTO_FRAME_HEADER, &p);

	if (k < 0)
		return k;
	c->out_len += proto_put_status_req(p);
	return 0;
}

int
clientconn_queue_control(struct clientconn *c, const struct proto_control *req)
{
	uint8_t *p;
	int k = clientconn_out_reserve(c, PROTO_CONTROL_LEN, &p);

	if (k < 0)
		return k;
	c->out_len += proto_put_control(p, req);
	return 0;
}

static int
clientconn_queue_hello(struct clientconn *c)
{
	struct proto_hello h = { .min_version = PROTO_VERSION_MIN, .max_version = PROTO_VERSION };
	uint8_t *p;
	int k = clientconn_out_reserve(c, PROTO_HELLO_LEN, &p);

	if (k < 0)
		return k;
	c->out_len += proto_put_hello(p, &h);
	return 0;
}

/* send(2) with MSG_NOSIGNAL: a vanished daemon is EPIPE, not SIGPIPE. */
int
clientconn_flush(struct clientconn *c)
{
	if (c->write_err)
		return c->write_err;
	while (c->out_pos < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_pos, c->out_len - c->out_pos,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			c->write_err = -errno;
			return c->write_err;
		}
		c->out_pos += (size_t)n;
	}
	c->out_pos = c->out_len = 0;
	return 0;
}

int
clientconn_shutdown(struct clientconn *c)
{
	if (shutdown(c->fd, SHUT_WR) < 0)
		return -errno;
	return 0;
}

int
clientconn_unread(const struct clientconn *c, size_t *ret)
{
	int n;

	if (ioctl(c->fd, SIOCOUTQ, &n) < 0)
		return -errno;
	*ret = n > 0 ? (size_t)n : 0;
	return 0;
}

/* Reads into the free end of the input buffer, first moving a partial
 * frame to the front.  The buffer grows only when one frame does not fit
 * (a large STATUS), never beyond the largest legal frame. */
int
clientconn_recv(struct clientconn *c)
{
	ssize_t n;

	if (c->in_pos > 0) {
		memmove(c->in, c->in + c->in_pos, c->in_len - c->in_pos);
		c->in_len -= c->in_pos;
		c->in_pos = 0;
	}
	if (c->in_len == c->in_cap) {
		size_t ncap = c->in_cap * 2;
		if (ncap > (size_t)PROTO_FRAME_HARD_MAX + 4)
			ncap = (size_t)PROTO_FRAME_HARD_MAX + 4;
		if (ncap <= c->in_cap)
			return -EBADMSG;
		uint8_t *nb = realloc(c->in, ncap);
		if (!nb)
			return -ENOMEM;
		c->in = nb;
		c->in_cap = ncap;
	}
	do
		n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		c->in_eof = true;
	c->in_len += (size_t)n;
	return (int)n;
}

int
clientconn_next_frame(struct clientconn *c, struct clientconn_frame *ret)
{
	const uint8_t *p = c->in + c->in_pos;
	size_t avail = c->in_len - c->in_pos;
	uint32_t blen;
	uint8_t type;
	int k = proto_frame_header(p, avail, &type, &blen);

	if (k <= 0)
		return k;
	if (avail < (size_t)PROTO_FRAME_HEADER + blen)
		return 0;
	*ret = (struct clientconn_frame){
		.type = type,
		.body = p + PROTO_FRAME_HEADER,
		.len = blen,
	};
	c->in_pos += (size_t)PROTO_FRAME_HEADER + blen;
	return 1;
}

/* Drops the refused recnos an ACK now covers. */
static void
clientconn_acked(struct clientconn *c, const struct proto_ack *a)
{
	size_t k = 0;

	if (a->recno <= c->acked)
		return;
	c->acked = a->recno;
	c->last_seq = a->seq;
	while (k < c->n_ahead && c->ahead[k] <= a->recno)
		k++;
	if (k == 0)
		return; /* (also: ahead may be NULL, and memmove wants pointers) */
	memmove(c->ahead, c->ahead + k, (c->n_ahead - k) * sizeof(*c->ahead));
	c->n_ahead -= k;
}

/* Keeps a refused recno that no ACK covers yet: with the final ACK it is
 * resolved as refused, without it (connection lost) it is still not
 * counted as unresolved. */
static int
clientconn_refused(struct clientconn *c, uint64_t recno)
{
	c->refused++;
	if (recno <= c->acked)
		return 0;
	if (c->n_ahead == c->cap_ahead) {
		size_t ncap = c->cap_ahead ? c->cap_ahead * 2 : 64;
		uint64_t *na = realloc(c->ahead, ncap * sizeof(*na));
		if (!na)
			return -ENOMEM;
		c->ahead = na;
		c->cap_ahead = ncap;
	}
	c->ahead[c->n_ahead++] = recno;
	return 0;
}

int
clientconn_take_reply(struct clientconn *c, const struct clientconn_frame *f,
		      struct proto_error *ret_err)
{
	struct proto_ack a;
	struct proto_error e;
	int k;

	if (f->type == PROTO_ACK) {
		if (proto_parse_ack(f->body, f->len, &a) < 0 || a.recno > c->sent)
			return -EBADMSG;
		clientconn_acked(c, &a);
		return 0;
	}
	if (f->type != PROTO_ERROR)
		return 0; /* STATUS, or what a later version adds */
	if (proto_parse_error(f->body, f->len, &e) < 0 || e.recno > c->sent)
		return -EBADMSG;
	*ret_err = e;
	if (e.recno == 0)
		return -ECONNABORTED;
	k = clientconn_refused(c, e.recno);
	return k < 0 ? k : 1;
}

static int64_t
clientconn_now_ms(void)
{
	return (int64_t)(now_us(CLOCK_MONOTONIC) / 1000);
}

/* A blocking exchange on the nonblocking socket: poll(2) for writing while
 * frames are queued and for reading, until one whole frame is in. */
int
clientconn_wait_frame(struct clientconn *c, int timeout_ms, struct clientconn_frame *ret)
{
	int64_t deadline = timeout_ms < 0 ? -1 : clientconn_now_ms() + timeout_ms;

	for (;;) {
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		int k = clientconn_next_frame(c, ret), left = -1;

		if (k != 0)
			return k;
		if (c->in_eof)
			return -ECONNRESET;
		if (clientconn_flush(c) == 0 && clientconn_pending(c) > 0)
			pfd.events |= POLLOUT;
		if (deadline >= 0) {
			int64_t now = clientconn_now_ms();
			if (now >= deadline)
				return -ETIMEDOUT;
			left = (int)(deadline - now);
		}
		k = poll(&pfd, 1, left);
		if (k < 0 && errno != EINTR)
			return -errno;
		if (k <= 0 || !(pfd.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		k = clientconn_recv(c);
		if (k < 0 && k != -EAGAIN)
			return k;
	}
}

/* docs/protocol.md "Hello": HELLO_OK, or an ERROR saying why not. */
int
clientconn_hello(struct clientconn *c, int timeout_ms)
{
	struct clientconn_frame f;
	struct proto_error e;
	int k = clientconn_queue_hello(c);

	if (k < 0)
		return k;
	k = clientconn_wait_frame(c, timeout_ms, &f);
	if (k < 0)
		return k;
	if (f.type == PROTO_HELLO_OK) {
		if (proto_parse_hello_ok(f.body, f.len, &c->hello) < 0 ||
		    c->hello.version < PROTO_VERSION_MIN || c->hello.version > PROTO_VERSION)
			return -EBADMSG;
		return 0;
	}
	if (f.type != PROTO_ERROR || proto_parse_error(f.body, f.len, &e) < 0)
		return -EBADMSG;
	c->hello_err_code = e.code;
	size_t n = e.text_len < CLIENTCONN_ERROR_TEXT_MAX ? e.text_len : CLIENTCONN_ERROR_TEXT_MAX;
	memcpy(c->hello_err_text, e.text, n);
	c->hello_err_text[n] = '\0';
	return e.code == PROTO_ERR_VERSION ? -EPROTONOSUPPORT : -EPROTO;
}

/* Connects and exchanges HELLO for a seglog subcommand.  This is where the
 * decision is made, so this is where it is said: a daemon that is not
 * there, refuses us or does not answer gets one line on stderr naming the
 * socket.  A daemon that refuses a connection sends its ERROR and closes,
 * maybe before our HELLO is written: the write then fails, and the ERROR
 * is read all the same (clientconn_wait_frame()). */
int
clientconn_open(const char *path, int timeout_ms, struct clientconn **ret)
{
	_cleanup_clientconn_ struct clientconn *c = NULL;
	int k = clientconn_connect(path, &c);

	if (k < 0) {
		fprintf(stderr, "seglog: cannot connect to %s: %s%s\n", path, strerror(-k),
			k == -ENOENT || k == -ECONNREFUSED
				? " (is seglogd running? set -s or SEGLOG_SOCKET)"
				: "");
		return k;
	}
	k = clientconn_hello(c, timeout_ms);
	if (k == -EPROTO || k == -EPROTONOSUPPORT)
		fprintf(stderr, "seglog: the daemon at %s refused the connection: %s%s%s\n", path,
			proto_error_name(c->hello_err_code), c->hello_err_text[0] ? ": " : "",
			c->hello_err_text);
	else if (k == -ETIMEDOUT)
		fprintf(stderr, "seglog: no answer to HELLO from %s within %.1f s (is it seglogd? "
			"is it stopped?)\n", path, timeout_ms / 1000.0);
	else if (k < 0)
		fprintf(stderr, "seglog: no HELLO_OK from %s: %s\n", path,
			k == -EBADMSG	   ? "unexpected reply (not seglogd?)"
			: k == -ECONNRESET ? "the daemon closed the connection without a reason"
					   : strerror(-k));
	if (k < 0)
		return k;
	*ret = TAKE_PTR(c);
	return 0;
}

int
clientconn_exit_status(int err)
{
	switch (err) {
	case -EPROTO:
	case -ECONNRESET:
	case -EPIPE:
	case -ETIMEDOUT:
		return CLIENT_EXIT_TEMPFAIL;
	case -EPROTONOSUPPORT:
	case -EBADMSG:
		return CLIENT_EXIT_PROTOCOL;
	case -ENOMEM:
		return CLIENT_EXIT_FAILURE;
	default:
		return CLIENT_EXIT_UNAVAILABLE;
	}
}
