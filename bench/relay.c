/* bench/relay: a Unix stream socket in front of a logger that reads only
 * its standard input (s6-log, svlogd), for bench/peers.sh.
 *
 *	relay -s SOCK | s6-log ...
 *
 * Accepts any number of connections on SOCK, reads each one and writes
 * whole lines to standard output, so that the logger behind the pipe gets
 * the same bytes as a daemon listening on the socket itself.  Newline
 * framing (RFC 6587 §3.4.2) with large writes splits lines across reads:
 * each connection keeps its partial last line until its newline arrives,
 * and only complete lines go to the pipe, so lines of two clients never
 * interleave (a write of up to PIPE_BUF bytes is atomic anyway, and the
 * relay is one process).  A connection that ends inside a line has that
 * line written with a newline added.
 *
 * Runs until SIGTERM or SIGINT, then prints on stderr one line
 *
 *	relay conns=C lines=L bytes=B user_s=U sys_s=S
 *
 * (its own CPU, so a benchmark can show the relay's cost apart from the
 * logger's) and exits 0.  One thread, epoll(7), blocking writes to
 * standard output: a slow logger stalls every client, which is the
 * backpressure a pipe gives. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cleanup.h"

enum {
	RELAY_BUF = 256 << 10, /* per connection: a 64 KiB write plus a partial line, amply */
	RELAY_EVENTS = 64,
	RELAY_BACKLOG = 1024,
};

struct relay_conn {
	int fd;
	size_t len; /* bytes in buf: at most one partial line between reads */
	char buf[RELAY_BUF];
};

struct relay_stats {
	uint64_t conns;
	uint64_t lines;
	uint64_t bytes;
};

static struct relay_conn *
relay_conn_free(struct relay_conn *c)
{
	if (c) {
		if (c->fd >= 0)
			close(c->fd);
		free(c);
	}
	return NULL;
}

/* Writes all of [p, p + n) to standard output, retrying short writes and
 * EINTR; -errno on failure (EPIPE: the logger went away). */
static int
relay_write_all(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(STDOUT_FILENO, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static uint64_t
relay_count_lines(const char *p, size_t n)
{
	uint64_t k = 0;
	const char *e = p + n;

	while ((p = memchr(p, '\n', (size_t)(e - p)))) {
		k++;
		p++;
	}
	return k;
}

/* Writes the complete lines at the head of c->buf and keeps the partial
 * one.  A buffer full of one line with no newline (longer than RELAY_BUF)
 * is written as it is: the line is then cut, but the relay cannot stall. */
static int
relay_conn_flush(struct relay_conn *c, struct relay_stats *st)
{
	const char *nl = memrchr(c->buf, '\n', c->len);
	size_t n = nl ? (size_t)(nl - c->buf) + 1 : (c->len == sizeof(c->buf) ? c->len : 0);
	int r;

	if (n == 0)
		return 0;
	r = relay_write_all(c->buf, n);
	if (r < 0)
		return r;
	st->lines += relay_count_lines(c->buf, n);
	st->bytes += n;
	c->len -= n;
	memmove(c->buf, c->buf + n, c->len);
	return 0;
}

/* Reads what connection c has; at its end writes its last partial line
 * with a newline.  Returns 1 while the connection lasts, 0 at its end,
 * -errno when standard output failed. */
static int
relay_conn_readable(struct relay_conn *c, struct relay_stats *st)
{
	ssize_t n = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
	int r;

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 1 : 0;
	if (n == 0) {
		if (c->len > 0) {
			c->buf[c->len++] = '\n'; /* room: the buffer is never left full */
			r = relay_conn_flush(c, st);
			if (r < 0)
				return r;
		}
		return 0;
	}
	c->len += (size_t)n;
	r = relay_conn_flush(c, st);
	return r < 0 ? r : 1;
}

static int
relay_listen(const char *path)
{
	_cleanup_close_ int fd = -EBADF;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "relay: socket path too long: %s\n", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	(void)unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, RELAY_BACKLOG) < 0) {
		int r = -errno;
		fprintf(stderr, "relay: cannot listen on %s: %s\n", path, strerror(errno));
		return r;
	}
	return TAKE_FD(fd);
}

static int
relay_accept(int lfd, int ep, struct relay_stats *st)
{
	for (;;) {
		_cleanup_close_ int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		struct relay_conn *c;
		struct epoll_event ev = {.events = EPOLLIN};

		if (fd < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		c = malloc(sizeof(*c));
		if (!c)
			return -ENOMEM;
		c->fd = TAKE_FD(fd);
		c->len = 0;
		ev.data.ptr = c;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
			relay_conn_free(c);
			return -errno;
		}
		st->conns++;
	}
}

static void
relay_report(const struct relay_stats *st)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	fprintf(stderr,
		"relay conns=%" PRIu64 " lines=%" PRIu64 " bytes=%" PRIu64
		" user_s=%ld.%06ld sys_s=%ld.%06ld\n",
		st->conns, st->lines, st->bytes, (long)ru.ru_utime.tv_sec,
		(long)ru.ru_utime.tv_usec, (long)ru.ru_stime.tv_sec, (long)ru.ru_stime.tv_usec);
}

/* The event loop: the listening socket (tagged NULL), the signalfd (tagged
 * by its own address) and one entry per connection. */
static int
relay_run(int lfd, int sfd)
{
	_cleanup_close_ int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event evs[RELAY_EVENTS], ev = {.events = EPOLLIN};
	struct relay_stats st = {0};
	static int sig_tag;

	if (ep < 0)
		return -errno;
	ev.data.ptr = NULL;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0)
		return -errno;
	ev.data.ptr = &sig_tag;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev) < 0)
		return -errno;
	for (;;) {
		int n = epoll_wait(ep, evs, RELAY_EVENTS, -1);

		if (n < 0 && errno != EINTR)
			return -errno;
		for (int i = 0; i < n; i++) {
			struct relay_conn *c = evs[i].data.ptr;
			int r;

			if (c == (void *)&sig_tag) {
				relay_report(&st);
				return 0;
			}
			r = c ? relay_conn_readable(c, &st) : relay_accept(lfd, ep, &st);
			if (r < 0) {
				fprintf(stderr, "relay: %s: %s\n",
					c ? "writing to stdout" : "accept", strerror(-r));
				return r;
			}
			if (c && r == 0)
				relay_conn_free(c); /* close(2) removes it from the epoll set */
		}
	}
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"socket", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	_cleanup_close_ int lfd = -EBADF, sfd = -EBADF;
	const char *path = NULL;
	sigset_t mask;
	int c;

	while ((c = getopt_long(argc, argv, "s:h", opts, NULL)) >= 0) {
		if (c == 's') {
			path = optarg;
			continue;
		}
		fprintf(c == 'h' ? stdout : stderr,
			"Usage: relay -s SOCK | LOGGER...\n"
			"Accepts Unix stream connections on SOCK and writes their whole lines to "
			"stdout;\n"
			"on SIGTERM/SIGINT prints its figures on stderr and exits.\n");
		return c == 'h' ? 0 : 2;
	}
	if (!path || optind < argc) {
		fprintf(stderr, "relay: -s SOCK is required (see --help)\n");
		return 2;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGPIPE); /* a vanished logger shows as EPIPE from write(2) */
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sigdelset(&mask, SIGPIPE);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		fprintf(stderr, "relay: signalfd: %s\n", strerror(errno));
		return 1;
	}
	lfd = relay_listen(path);
	if (lfd < 0)
		return 1;
	return relay_run(lfd, sfd) < 0 ? 1 : 0;
}
