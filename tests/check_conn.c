/* The connection state machine (conn.c) and the server around it, over
 * socketpairs and a real libevent loop: framing errors end that connection
 * alone with ERROR(0, malformed), the HELLO timeout, ack coalescing and
 * order, the slow reader (its ERROR arrives whole, after the rest of a
 * frame half sent), the end of stream with acks owed or records held back,
 * pause and resume on backpressure, an oversized record while the engine is
 * full (issue 10, finding 8), the drain, syslog streams; the memory pool
 * and frame_timeout's cut of a stalled frame; the server's
 * pressure(false) resuming a blocked connection; the rate limiter.
 *
 * The engine is a test double behind engine.h's own functions (a link
 * seam): this file defines the seven the server and the connections call
 * -- engine_append, engine_can_accept, engine_durable_seq, engine_stats,
 * engine_latency_percentile, engine_error, engine_idle -- so the linker
 * takes these instead of engine.o, and "full", "durable" and "appended"
 * are whatever a test says. */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "ackaudit.h"
#include "conn.h"
#include "engine.h"
#include "proto.h"
#include "ratelimit.h"
#include "server.h"
#include "testutil.h"

/* --- the engine double -------------------------------------------------- */

struct engine {
	bool full;
	uint64_t next_seq;
	uint64_t durable;
	bool written_only; /* synced lags durable (synced below), as after write -> fsync */
	uint64_t synced;
	unsigned sync_requests;
	uint64_t appended;
	char last_msg[128];
};

static struct engine eng;
static unsigned can_accept_calls;

int
engine_append(struct engine *e, struct record *r)
{
	if (e->full)
		return -ENOBUFS;
	r->seq = e->next_seq++;
	e->appended++;
	snprintf(e->last_msg, sizeof(e->last_msg), "%.*s", (int)r->msg_len, r->msg);
	return 0;
}

bool
engine_can_accept(const struct engine *e)
{
	can_accept_calls++;
	return !e->full;
}

uint64_t
engine_durable_seq(const struct engine *e)
{
	return e->durable;
}

const struct engine_stats *
engine_stats(const struct engine *e)
{
	static struct engine_stats st;
	return &st;
}

uint64_t
engine_latency_percentile(const struct engine *e, unsigned p)
{
	return 0;
}

int
engine_error(const struct engine *e)
{
	return 0;
}

#ifdef SEGLOG_ACK_AUDIT
struct ack_audit *
engine_ack_audit(struct engine *e)
{
	return NULL; /* ack_audit_wire() ignores a NULL audit */
}
#endif

bool
engine_idle(const struct engine *e)
{
	return e->durable + 1 == e->next_seq;
}

/* rotate: whether there is something to seal, and through which seq the
 * seals completed so far reach */
static bool eng_rotate_has_records;
static uint64_t eng_sealed_through;
static unsigned eng_rotations;

bool
engine_rotate(struct engine *e)
{
	eng_rotations++;
	return eng_rotate_has_records;
}

bool
engine_sealed_through(const struct engine *e, uint64_t seq)
{
	return eng_sealed_through >= seq;
}

uint64_t
engine_synced_seq(const struct engine *e)
{
	return e->written_only ? e->synced : e->durable;
}

void
engine_request_sync(struct engine *e)
{
	e->sync_requests++;
}

/* --- the host double ---------------------------------------------------- */

struct host {
	int waiting;	/* connections owed acks */
	int gone;	/* connections freed */
	unsigned syslog_msgs, syslog_oversize;
	char last_syslog[128];
	size_t status_len;
};

static struct host hs;
static struct cfg cfg;
static struct conn_stats cst;
static struct event_base *base;
static struct ratelimit *rl;

static void
host_wait(void *ctx, void *cookie, bool on)
{
	hs.waiting += on ? 1 : -1;
}

static void
host_gone(void *ctx, void *cookie)
{
	hs.gone++;
	*(struct conn **)cookie = NULL;
}

static size_t
host_status(void *ctx, char *buf, size_t cap)
{
	size_t n = hs.status_len < cap ? hs.status_len : cap;

	memset(buf, 'x', n);
	memcpy(buf, "test 1\n", n < 7 ? n : 7);
	return n;
}

static uint64_t
host_next_seq(void *ctx)
{
	return 42;
}

static void
host_syslog(void *ctx, const char *msg, size_t len, const struct ucred *cred, uint64_t now_us,
	    uint64_t mono_us)
{
	hs.syslog_msgs++;
	snprintf(hs.last_syslog, sizeof(hs.last_syslog), "%.*s", (int)len, msg);
}

static void
host_syslog_oversize(void *ctx)
{
	hs.syslog_oversize++;
}

static unsigned host_controls;

static uint8_t
host_control(void *ctx, const struct proto_control *req, uint64_t *ret_value, char *text,
	     size_t cap)
{
	host_controls++;
	*ret_value = req->verb == PROTO_VERB_VACUUM ? req->max_files : 0;
	snprintf(text, cap, "done %u", req->verb);
	return req->verb == PROTO_VERB_RELOAD ? PROTO_CTL_FAILED : PROTO_CTL_OK;
}

static const struct conn_host_ops host_ops = {
	.control = host_control,
	.wait = host_wait,
	.gone = host_gone,
	.status = host_status,
	.next_seq = host_next_seq,
	.syslog = host_syslog,
	.syslog_oversize = host_syslog_oversize,
};

static struct conn_host host;
/* The daemon end's SO_SNDBUF for the next peer_open(), if not 0 (on a
 * Unix socket the sender's buffer is what fills). */
static int daemon_sndbuf;
static uint64_t want_next_seq; /* in HELLO_OK: what host_next_seq() says */

static void
setup(void)
{
	eng = (struct engine){ .next_seq = 1 };
	cfg.durability = CFG_DURABILITY_FSYNC;
	eng_rotate_has_records = true;
	eng_sealed_through = 0;
	eng_rotations = host_controls = 0;
	can_accept_calls = 0;
	daemon_sndbuf = 0;
	want_next_seq = 42;
	hs = (struct host){ .status_len = 100 };
	cst = (struct conn_stats){ 0 };
	ck_assert_int_eq(cfg_init(&cfg), 0);
	cfg.client_buffer = 64 * 1024;
	cfg.max_record = 1000;
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	rl = ratelimit_new(0, 1000000);
	ck_assert_ptr_nonnull(rl);
	host = (struct conn_host){ .ops = &host_ops, .base = base, .cfg = &cfg,
				   .engine = &eng, .rl = rl, .stats = &cst };
}

static void
teardown(void)
{
	ratelimit_free(rl);
	event_base_free(base);
	cfg_done(&cfg);
}

/* --- the client side ------------------------------------------------------ */

/* A test client: the peer socket of a connection and what it has read. */
struct peer {
	int fd;
	struct conn *c; /* NULL once the connection is freed (host_gone) */
	uint8_t in[256 << 10];
	size_t in_len;
	bool eof, reset;
};

/* A connection over a socketpair; the test holds the other end. */
static void
peer_open(struct peer *p, enum conn_proto proto)
{
	int sv[2];
	struct ucred cred = { .pid = getpid(), .uid = getuid(), .gid = getgid() };

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	if (daemon_sndbuf)
		ck_assert_int_eq(setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &daemon_sndbuf,
					    sizeof(daemon_sndbuf)), 0);
	p->fd = sv[0];
	p->in_len = 0;
	p->eof = p->reset = false;
	ck_assert_int_eq(conn_new(&host, &p->c, proto, sv[1], &cred, &p->c), 0);
}

static void
peer_close(struct peer *p)
{
	if (p->c)
		conn_free(p->c);
	safe_close(p->fd);
}

static void
peer_send(struct peer *p, const void *data, size_t n)
{
	ck_assert_int_eq(send(p->fd, data, n, MSG_NOSIGNAL), (ssize_t)n);
}

static void
peer_hello(struct peer *p)
{
	uint8_t b[PROTO_HELLO_LEN];
	struct proto_hello h = { .min_version = 1, .max_version = 1 };

	peer_send(p, b, proto_put_hello(b, &h));
}

static size_t
put_record(uint8_t *b, const char *msg)
{
	struct proto_record r = { .facility = 1, .severity = 6, .tag = "t", .tag_len = 1,
				  .msg = msg, .msg_len = strlen(msg) };
	return proto_put_record(b, &r);
}

static void
peer_record(struct peer *p, const char *msg)
{
	uint8_t b[1200];
	peer_send(p, b, put_record(b, msg));
}

/* Reads what the socket holds (nonblocking). */
static void
peer_read(struct peer *p)
{
	for (;;) {
		ssize_t n = recv(p->fd, p->in + p->in_len, sizeof(p->in) - p->in_len, MSG_DONTWAIT);
		if (n > 0) {
			p->in_len += (size_t)n;
			continue;
		}
		if (n == 0)
			p->eof = true;
		else if (errno == ECONNRESET)
			p->reset = p->eof = true;
		return;
	}
}

/* The frames read so far, as (type, body) pairs; returns how many whole
 * frames there are and sets *ret_rest to the bytes of a partial one. */
struct frame {
	uint8_t type;
	const uint8_t *body;
	uint32_t len;
};

static size_t
peer_frames(const struct peer *p, struct frame *out, size_t max, size_t *ret_rest)
{
	size_t pos = 0, n = 0;

	for (;;) {
		uint8_t type;
		uint32_t blen;
		int k = proto_frame_header(p->in + pos, p->in_len - pos, &type, &blen);
		ck_assert_int_ge(k, 0);
		if (k == 0 || p->in_len - pos < PROTO_FRAME_HEADER + (size_t)blen)
			break;
		if (n < max)
			out[n] = (struct frame){ type, p->in + pos + PROTO_FRAME_HEADER, blen };
		n++;
		pos += PROTO_FRAME_HEADER + blen;
	}
	if (ret_rest)
		*ret_rest = p->in_len - pos;
	return n;
}

/* Asserts frame f is ERROR(recno, code). */
static void
assert_error(const struct frame *f, uint64_t recno, uint16_t code)
{
	struct proto_error e;

	ck_assert_int_eq(f->type, PROTO_ERROR);
	ck_assert_int_eq(proto_parse_error(f->body, f->len, &e), 0);
	ck_assert_uint_eq(e.recno, recno);
	ck_assert_uint_eq(e.code, code);
}

static void
assert_ack(const struct frame *f, uint64_t recno, uint64_t seq)
{
	struct proto_ack a;

	ck_assert_int_eq(f->type, PROTO_ACK);
	ck_assert_int_eq(proto_parse_ack(f->body, f->len, &a), 0);
	ck_assert_uint_eq(a.recno, recno);
	ck_assert_uint_eq(a.seq, seq);
}

/* --- driving the loop ------------------------------------------------------ */

static bool timed_out;

static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	timed_out = true;
}

/* Runs the loop until cond(arg) holds (checked after every turn, reading
 * the peers first) or ms pass; returns whether it holds. */
static bool
run_until(bool (*cond)(void *), void *arg, int ms)
{
	struct event *dl = evtimer_new(base, deadline_cb, NULL);
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	bool ok;

	timed_out = false;
	evtimer_add(dl, &tv);
	while (!(ok = cond(arg)) && !timed_out)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(dl);
	return ok;
}

/* Runs every event that is ready, n times, without blocking. */
static void
run_ready(int n)
{
	for (int i = 0; i < n; i++)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
}

static bool
peer_has_eof(void *arg)
{
	struct peer *p = arg;
	peer_read(p);
	return p->eof;
}

static size_t want_frames;

static bool
peer_has_frames(void *arg)
{
	struct peer *p = arg;
	peer_read(p);
	return peer_frames(p, NULL, 0, NULL) >= want_frames;
}

static void
wait_frames(struct peer *p, size_t n)
{
	want_frames = n;
	ck_assert_msg(run_until(peer_has_frames, p, 2000), "waited for %zu frames, have %zu", n,
		      peer_frames(p, NULL, 0, NULL));
}

static void
wait_eof(struct peer *p)
{
	ck_assert_msg(run_until(peer_has_eof, p, 8000), "no end of stream");
}

static bool
conn_is_gone(void *arg)
{
	return ((struct peer *)arg)->c == NULL;
}

/* HELLO and its HELLO_OK. */
static void
peer_greet(struct peer *p)
{
	struct frame f;
	struct proto_hello_ok ok;

	peer_hello(p);
	wait_frames(p, 1);
	peer_frames(p, &f, 1, NULL);
	ck_assert_int_eq(f.type, PROTO_HELLO_OK);
	ck_assert_int_eq(proto_parse_hello_ok(f.body, f.len, &ok), 0);
	ck_assert_uint_eq(ok.next_seq, want_next_seq);
	ck_assert_uint_eq(ok.max_record, 1000);
	p->in_len = 0;
}

/* --- tests ---------------------------------------------------------------- */

START_TEST(test_hello_then_records_acked)
{
	struct peer p;
	struct frame f;

	peer_open(&p, CONN_NATIVE);
	peer_greet(&p);
	peer_record(&p, "one");
	run_until(conn_is_gone, &p, 50); /* just a few turns */
	ck_assert_uint_eq(eng.appended, 1);
	ck_assert_str_eq(eng.last_msg, "one");
	ck_assert_int_eq(hs.waiting, 1);
	eng.durable = 1;
	conn_ack(p.c, eng.durable);
	wait_frames(&p, 1);
	peer_frames(&p, &f, 1, NULL);
	assert_ack(&f, 1, 1);
	ck_assert_int_eq(hs.waiting, 0);
	ck_assert_uint_eq(cst.received, 1);
	peer_close(&p);
}
END_TEST

/* Each framing error: ERROR(0, malformed), then the end of that
 * connection; another connection on the same loop goes on. */
START_TEST(test_framing_error_closes_that_connection_only)
{
	static const uint8_t zero_len[] = { 0, 0, 0, 0, 0x02 };
	static const uint8_t too_long[] = { 0xff, 0xff, 0xff, 0x7f, 0x02 };
	static const uint8_t unknown[] = { 1, 0, 0, 0, 0x7e };
	static const uint8_t daemon_type[] = { 1, 0, 0, 0, PROTO_ACK };
	static const struct {
		const uint8_t *bytes;
		size_t len;
		bool hello_first;
	} cases[] = {
		{ zero_len, sizeof(zero_len), true },
		{ too_long, sizeof(too_long), true },
		{ unknown, sizeof(unknown), true },
		{ daemon_type, sizeof(daemon_type), true },
		{ zero_len, sizeof(zero_len), false }, /* before HELLO */
		{ unknown, sizeof(unknown), false },
	};
	struct peer good, bad;
	struct frame f[4];

	peer_open(&good, CONN_NATIVE);
	peer_greet(&good);
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		uint64_t malformed = cst.malformed;
		size_t rest;

		peer_open(&bad, CONN_NATIVE);
		if (cases[i].hello_first)
			peer_greet(&bad);
		peer_send(&bad, cases[i].bytes, cases[i].len);
		wait_eof(&bad);
		ck_assert_msg(!bad.reset, "case %zu: reset instead of an end of stream", i);
		ck_assert_uint_eq(peer_frames(&bad, f, 4, &rest), 1);
		ck_assert_uint_eq(rest, 0);
		assert_error(&f[0], 0, PROTO_ERR_MALFORMED);
		ck_assert_uint_eq(cst.malformed, malformed + 1);
		ck_assert(run_until(conn_is_gone, &bad, 1000));
		peer_close(&bad);
	}
	/* a repeated HELLO too */
	peer_open(&bad, CONN_NATIVE);
	peer_greet(&bad);
	peer_hello(&bad);
	wait_eof(&bad);
	ck_assert_uint_eq(peer_frames(&bad, f, 4, NULL), 1);
	assert_error(&f[0], 0, PROTO_ERR_MALFORMED);
	peer_close(&bad);

	ck_assert_ptr_nonnull(good.c);
	peer_record(&good, "still here");
	run_until(conn_is_gone, &good, 50);
	eng.durable = eng.next_seq - 1;
	conn_ack(good.c, eng.durable);
	wait_frames(&good, 1);
	peer_frames(&good, f, 1, NULL);
	assert_ack(&f[0], 1, eng.durable);
	peer_close(&good);
}
END_TEST

START_TEST(test_hello_timeout)
{
	struct peer p;
	struct frame f;
	uint8_t half[PROTO_HELLO_LEN];
	struct proto_hello h = { .min_version = 1, .max_version = 1 };

	cfg.hello_timeout_us = 30000;
	peer_open(&p, CONN_NATIVE);
	proto_put_hello(half, &h);
	peer_send(&p, half, 8); /* half a HELLO, then nothing */
	wait_eof(&p);
	ck_assert_uint_eq(peer_frames(&p, &f, 1, NULL), 1);
	assert_error(&f, 0, PROTO_ERR_MALFORMED);
	ck_assert(memmem(f.body, f.len, "hello_timeout", 13));
	ck_assert(run_until(conn_is_gone, &p, 1000));
	peer_close(&p);

	/* after HELLO the timer is off */
	peer_open(&p, CONN_NATIVE);
	peer_greet(&p);
	ck_assert(!run_until(peer_has_eof, &p, 100));
	peer_close(&p);
}
END_TEST

/* Records from one read resolve with one cumulative ACK; an ERROR(N) comes
 * before the ACK that covers N; ACKs never cover a seq not yet durable. */
START_TEST(test_ack_coalescing_and_order)
{
	uint8_t buf[100 * 64], bad[] = { 2, 0, 0, 0, PROTO_RECORD, 99 };
	size_t n = 0;
	struct peer p;
	struct frame f[8];

	peer_open(&p, CONN_NATIVE);
	peer_greet(&p);
	for (int i = 0; i < 100; i++) {
		char m[16];
		snprintf(m, sizeof(m), "m%d", i);
		n += put_record(buf + n, m);
	}
	peer_send(&p, buf, n);
	run_until(conn_is_gone, &p, 50);
	ck_assert_uint_eq(eng.appended, 100);
	eng.durable = 100;
	conn_ack(p.c, eng.durable);
	wait_frames(&p, 1);
	ck_assert_uint_eq(peer_frames(&p, f, 8, NULL), 1);
	assert_ack(&f[0], 100, 100);
	p.in_len = 0;

	/* record 101 is stored, 102 does not parse (facility 99), 103 stored */
	peer_record(&p, "a");
	run_until(conn_is_gone, &p, 20);
	peer_send(&p, bad, sizeof(bad));
	peer_record(&p, "c");
	run_until(conn_is_gone, &p, 20);
	wait_frames(&p, 1);
	ck_assert_uint_eq(peer_frames(&p, f, 8, NULL), 1);
	assert_error(&f[0], 102, PROTO_ERR_INVALID);
	eng.durable = 101; /* only the first is durable */
	conn_ack(p.c, eng.durable);
	wait_frames(&p, 2);
	peer_frames(&p, f, 8, NULL);
	assert_ack(&f[1], 101, 101);
	ck_assert_int_eq(hs.waiting, 1);
	eng.durable = 102;
	conn_ack(p.c, eng.durable);
	wait_frames(&p, 3);
	ck_assert_uint_eq(peer_frames(&p, f, 8, NULL), 3);
	assert_ack(&f[2], 103, 102);
	ck_assert_int_eq(hs.waiting, 0);
	peer_close(&p);
}
END_TEST

/* The peer shuts down its side with acks still owed: the connection stays
 * until they are sent, then ends with an end of stream. */
START_TEST(test_eof_with_acks_owed)
{
	struct peer p;
	struct frame f[4];

	peer_open(&p, CONN_NATIVE);
	peer_greet(&p);
	peer_record(&p, "1");
	peer_record(&p, "2");
	peer_record(&p, "3");
	ck_assert_int_eq(shutdown(p.fd, SHUT_WR), 0);
	ck_assert(!run_until(peer_has_eof, &p, 100));
	ck_assert_ptr_nonnull(p.c);
	ck_assert_uint_eq(eng.appended, 3);
	eng.durable = 3;
	conn_ack(p.c, eng.durable);
	wait_eof(&p);
	ck_assert(!p.reset);
	ck_assert_uint_eq(peer_frames(&p, f, 4, NULL), 1);
	assert_ack(&f[0], 3, 3);
	ck_assert(run_until(conn_is_gone, &p, 1000));
	peer_close(&p);
}
END_TEST

/* The end of stream arrives while the engine is full: the records held
 * back are neither dropped nor forgotten; they go in when there is room,
 * and are acknowledged before the close. */
START_TEST(test_eof_while_blocked)
{
	struct peer p;
	struct frame f[4];

	peer_open(&p, CONN_NATIVE);
	peer_greet(&p);
	eng.full = true;
	peer_record(&p, "held-1");
	peer_record(&p, "held-2");
	ck_assert_int_eq(shutdown(p.fd, SHUT_WR), 0);
	ck_assert(!run_until(peer_has_eof, &p, 100));
	ck_assert_ptr_nonnull(p.c);
	ck_assert(conn_blocked(p.c));
	ck_assert_uint_eq(eng.appended, 0);
	eng.full = false;
	conn_resume(p.c);
	ck_assert_uint_eq(eng.appended, 2);
	eng.durable = 2;
	conn_ack(p.c, eng.durable);
	wait_eof(&p);
	ck_assert_uint_eq(peer_frames(&p, f, 4, NULL), 1);
	assert_ack(&f[0], 2, 2);
	peer_close(&p);
}
END_TEST

static bool
not_reading(void *arg)
{
	struct peer *p = arg;
	return p->c && !conn_reading(p->c);
}

/* Backpressure: a record the engine cannot take stops the connection (not
 * reading, nothing spinning); conn_resume() takes the record and reads
 * again.  HELLO and STATUS_REQ before it are still answered. */
START_TEST(test_pause_and_resume)
{
	struct peer p;
	struct frame f[4];
	uint8_t req[PROTO_FRAME_HEADER];
	unsigned calls;

	peer_open(&p, CONN_NATIVE);
	peer_greet(&p);
	eng.full = true;
	peer_send(&p, req, proto_put_status_req(req));
	peer_record(&p, "waits");
	ck_assert(run_until(not_reading, &p, 1000));
	wait_frames(&p, 1);
	peer_frames(&p, f, 1, NULL);
	ck_assert_int_eq(f[0].type, PROTO_STATUS);
	ck_assert(conn_blocked(p.c));
	calls = can_accept_calls;
	peer_record(&p, "more"); /* the socket is readable: no one must be reading */
	run_ready(100);
	ck_assert_uint_le(can_accept_calls - calls, 1);
	ck_assert_uint_eq(eng.appended, 0);
	eng.full = false;
	conn_resume(p.c);
	ck_assert_uint_eq(eng.appended, 1);
	ck_assert(conn_reading(p.c));
	ck_assert(!conn_blocked(p.c));
	run_until(conn_is_gone, &p, 50);
	ck_assert_uint_eq(eng.appended, 2);
	ck_assert_str_eq(eng.last_msg, "more");
	peer_close(&p);
}
END_TEST

/* Writes len bytes to the peer's socket as it takes them, running the loop
 * in between; stops early when the socket takes nothing for a while. */
static size_t
pump(struct peer *p, const uint8_t *data, size_t len)
{
	size_t done = 0;
	int idle = 0;

	while (done < len && idle < 50) {
		ssize_t n = send(p->fd, data + done, len - done, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			done += (size_t)n;
			idle = 0;
		} else {
			idle++;
		}
		run_ready(2);
	}
	return done;
}

/* Issue 10, finding 8: an oversized RECORD arriving while the engine is
 * full.  It is refused (ERROR(1, too-large)) and its bytes discarded as
 * they come -- it needs no room in the engine -- and the connection then
 * stops at the next record, paused: it does not spin on a readable socket
 * with a full buffer (the old code left it unpaused, level-triggered). */
START_TEST(test_oversized_record_while_full)
{
	size_t blen = 200 * 1024, total = PROTO_FRAME_HEADER + blen;
	_cleanup_free_ uint8_t *big = calloc(1, total + 64);
	struct peer p;
	struct frame f[4];
	unsigned calls;
	size_t n;

	ck_assert_ptr_nonnull(big);
	big[0] = (uint8_t)(blen + 1);
	big[1] = (uint8_t)((blen + 1) >> 8);
	big[2] = (uint8_t)((blen + 1) >> 16);
	big[4] = PROTO_RECORD;
	n = put_record(big + total, "after");
	peer_open(&p, CONN_NATIVE);
	peer_greet(&p);
	eng.full = true;
	ck_assert_uint_eq(pump(&p, big, total + n), total + n);
	ck_assert(run_until(not_reading, &p, 2000));
	wait_frames(&p, 2);
	ck_assert_uint_eq(peer_frames(&p, f, 4, NULL), 2);
	assert_error(&f[0], 1, PROTO_ERR_TOO_LARGE);
	assert_ack(&f[1], 1, 0); /* resolved, none stored */
	calls = can_accept_calls;
	run_ready(200);
	ck_assert_uint_le(can_accept_calls - calls, 1);
	ck_assert_uint_eq(eng.appended, 0);
	eng.full = false;
	conn_resume(p.c);
	ck_assert_uint_eq(eng.appended, 1);
	ck_assert_str_eq(eng.last_msg, "after");
	eng.durable = 1;
	conn_ack(p.c, eng.durable);
	wait_frames(&p, 3);
	peer_frames(&p, f, 4, NULL);
	assert_ack(&f[2], 2, 1);
	peer_close(&p);
}
END_TEST

static bool
peer_has_error0(void *arg)
{
	struct peer *p = arg;
	struct frame f[4096];
	size_t n;

	peer_read(p);
	n = peer_frames(p, f, ELEMENTSOF(f), NULL);
	return p->eof || (n > 0 && n <= ELEMENTSOF(f) && f[n - 1].type == PROTO_ERROR);
}

/* Issue 10, finding 6: a client that reads too little of its replies is
 * dropped, and what it reads is whole frames -- the rest of the frame the
 * socket took only part of, then ERROR(0, slow-reader) -- and an end of
 * stream, not a reset.  A small send buffer and large STATUS replies make
 * the daemon's sends partial, so its queue starts inside a frame when the
 * drop comes. */
START_TEST(test_slow_reader_gets_its_error_whole)
{
	static struct frame f[4096];
	uint8_t reqs[5 * PROTO_FRAME_HEADER];
	struct peer p;
	int rounds = 0;
	size_t n, rest;

	cfg.ack_queue_max = 64 * 1024;
	hs.status_len = 2000;
	daemon_sndbuf = 1; /* the smallest send buffer the kernel allows */
	peer_open(&p, CONN_NATIVE);
	peer_greet(&p);
	for (size_t i = 0; i < 5; i++)
		proto_put_status_req(reqs + i * PROTO_FRAME_HEADER);
	while (!p.eof && rounds++ < 10000) {
		uint8_t tiny[700];
		ssize_t k;

		if (send(p.fd, reqs, sizeof(reqs), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			break; /* dropped: the daemon shut down its read side */
		run_ready(3);
		/* read a little: the daemon's next send is then partial */
		k = recv(p.fd, tiny, sizeof(tiny), MSG_DONTWAIT);
		if (k > 0) {
			memcpy(p.in + p.in_len, tiny, (size_t)k);
			p.in_len += (size_t)k;
		}
		if (p.in_len > sizeof(p.in) / 2) {
			/* keep whole frames only: drop what was parsed */
			size_t keep;
			n = peer_frames(&p, NULL, 0, &keep);
			memmove(p.in, p.in + p.in_len - keep, keep);
			p.in_len = keep;
		}
	}
	ck_assert_uint_eq(cst.slow_readers, 1);
	ck_assert(run_until(peer_has_error0, &p, 8000));
	wait_eof(&p);
	ck_assert(!p.reset);
	n = peer_frames(&p, f, ELEMENTSOF(f), &rest);
	ck_assert_uint_le(n, ELEMENTSOF(f));
	ck_assert_uint_eq(rest, 0);
	for (size_t i = 0; i + 1 < n; i++)
		ck_assert_int_eq(f[i].type, PROTO_STATUS);
	assert_error(&f[n - 1], 0, PROTO_ERR_SLOW_READER);
	ck_assert(run_until(conn_is_gone, &p, 1000));
	peer_close(&p);
}
END_TEST

/* SIGTERM: what the kernel holds is processed, further writes fail; then
 * conn_end() sends ERROR(0, shutdown) and an end of stream. */
START_TEST(test_drain_and_end)
{
	struct peer p;
	struct frame f[4];

	peer_open(&p, CONN_NATIVE);
	peer_greet(&p);
	peer_record(&p, "before the signal");
	conn_drain_input(p.c);
	ck_assert_uint_eq(eng.appended, 1);
	ck_assert(!conn_reading(p.c));
	ck_assert_int_lt(send(p.fd, "x", 1, MSG_NOSIGNAL), 0);
	ck_assert_int_eq(errno, EPIPE);
	eng.durable = 1;
	conn_ack(p.c, eng.durable);
	conn_end(p.c, PROTO_ERR_SHUTDOWN, "seglogd is shutting down");
	wait_eof(&p);
	ck_assert(!p.reset);
	ck_assert_uint_eq(peer_frames(&p, f, 4, NULL), 2);
	assert_ack(&f[0], 1, 1);
	assert_error(&f[1], 0, PROTO_ERR_SHUTDOWN);
	peer_close(&p);

	/* a connection that never said HELLO is just closed */
	peer_open(&p, CONN_NATIVE);
	conn_end(p.c, PROTO_ERR_SHUTDOWN, "seglogd is shutting down");
	wait_eof(&p);
	ck_assert_uint_eq(p.in_len, 0);
	peer_close(&p);
}
END_TEST

/* A connection that ends while the peer's bytes wait unread in the socket
 * (stopped on backpressure): the peer still reads every frame and then an
 * end of stream -- a close(2) with input unread would make its read fail
 * with ECONNRESET instead (unix(7)). */
START_TEST(test_close_with_input_unread)
{
	struct peer p;
	struct frame f[4];

	peer_open(&p, CONN_NATIVE);
	peer_greet(&p);
	eng.full = true;
	peer_record(&p, "r1");
	ck_assert(run_until(not_reading, &p, 1000));
	for (int i = 0; i < 100; i++)
		peer_record(&p, "unread");
	conn_end(p.c, PROTO_ERR_SHUTDOWN, "seglogd is shutting down");
	wait_eof(&p);
	ck_assert(!p.reset);
	ck_assert_uint_eq(peer_frames(&p, f, 4, NULL), 1);
	assert_error(&f[0], 0, PROTO_ERR_SHUTDOWN);
	ck_assert(run_until(conn_is_gone, &p, 1000));
	peer_close(&p);
}
END_TEST

/* A peer that stops reading cannot keep a closing connection: it is freed
 * after CONN_LINGER_SEC whatever is left. */
START_TEST(test_linger_is_bounded)
{
	struct peer p;
	uint8_t reqs[20 * PROTO_FRAME_HEADER];

	hs.status_len = 2000;
	cfg.ack_queue_max = 1 << 20;
	daemon_sndbuf = 1;
	peer_open(&p, CONN_NATIVE);
	peer_greet(&p);
	for (size_t i = 0; i < 20; i++)
		proto_put_status_req(reqs + i * PROTO_FRAME_HEADER);
	for (int i = 0; i < 20; i++) {
		peer_send(&p, reqs, sizeof(reqs));
		run_ready(2);
	}
	conn_end(p.c, PROTO_ERR_SHUTDOWN, "bye");
	ck_assert_ptr_nonnull(p.c);
	ck_assert(run_until(conn_is_gone, &p, (CONN_LINGER_SEC + 2) * 1000));
	peer_close(&p);
}
END_TEST

/* Syslog over a stream: complete lines go to the host, an overlong one is
 * counted, the end of stream closes.  max_record (1000 here) is the
 * message's limit, checked by the host: a frame may be longer by a syslog
 * header (CONN_SYSLOG_HEADER_MAX, 1 KiB), so 1,500 bytes pass and 3,000
 * do not. */
START_TEST(test_syslog_stream)
{
	char line[3000];
	struct peer p;

	peer_open(&p, CONN_SYSLOG_STREAM);
	peer_send(&p, "<14>a: first\n<14>a: second\n", 27);
	memset(line, 'y', sizeof(line));
	line[1499] = '\n';
	peer_send(&p, line, 1500);
	line[1499] = 'y';
	line[sizeof(line) - 1] = '\n';
	peer_send(&p, line, sizeof(line));
	peer_send(&p, "<14>a: third\n", 13);
	ck_assert_int_eq(shutdown(p.fd, SHUT_WR), 0);
	wait_eof(&p);
	ck_assert_uint_eq(hs.syslog_msgs, 4);
	ck_assert_str_eq(hs.last_syslog, "<14>a: third");
	ck_assert_uint_eq(hs.syslog_oversize, 1);
	peer_close(&p);
}
END_TEST

/* --- the server around connections ---------------------------------------- */

static char *tmp;

static int
connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	return fd;
}

static unsigned calls_before;

static bool
engine_was_asked(void *arg)
{
	return can_accept_calls > calls_before;
}

/* The engine's pressure(false) resumes a connection that stopped at a
 * record the engine could not take (the engine owner makes memory_limit
 * changes end with it too); committed() then acknowledges it. */
START_TEST(test_server_pressure_resumes_blocked)
{
	_cleanup_free_ char *sock = NULL;
	struct server *srv = NULL;
	struct peer p = { .c = NULL };
	struct frame f[4];

	tmp = test_mkdtemp();
	ck_assert_int_gt(asprintf(&sock, "%s/sock", tmp), 0);
	free(cfg.socket);
	cfg.socket = strdup(sock);
	ck_assert_int_eq(server_new(base, &cfg, &srv), 0);
	ck_assert_int_eq(server_listen(srv), 0);
	server_attach_engine(srv, &eng, NULL);
	p.fd = connect_to(sock);
	want_next_seq = 0; /* no store attached */
	peer_greet(&p);
	eng.full = true;
	server_pressure(srv, true);
	calls_before = can_accept_calls;
	peer_record(&p, "blocked");
	ck_assert(run_until(engine_was_asked, NULL, 2000));
	run_ready(10);
	ck_assert_uint_eq(eng.appended, 0);
	ck_assert_uint_eq(server_clients(srv), 1);
	eng.full = false;
	server_pressure(srv, false);
	ck_assert_uint_eq(eng.appended, 1);
	eng.durable = 1;
	server_committed(srv, 1);
	wait_frames(&p, 1);
	peer_frames(&p, f, 4, NULL);
	assert_ack(&f[0], 1, 1);
	safe_close(p.fd);
	server_free(srv);
	test_rm_rf(tmp);
	free(tmp);
}
END_TEST

/* --- the memory pool ------------------------------------------------------ */

/* The recno of the last ACK a peer has read, 0 if none. */
static uint64_t
peer_last_ack(struct peer *p)
{
	static struct frame f[8192];
	size_t n;
	uint64_t last = 0;

	peer_read(p);
	n = peer_frames(p, f, ELEMENTSOF(f), NULL);
	ck_assert_uint_le(n, ELEMENTSOF(f));
	for (size_t i = 0; i < n; i++) {
		struct proto_ack a;
		ck_assert_int_eq(f[i].type, PROTO_ACK);
		ck_assert_int_eq(proto_parse_ack(f[i].body, f[i].len, &a), 0);
		ck_assert_uint_gt(a.recno, last); /* in order, each ack newer */
		last = a.recno;
	}
	return last;
}

/* Sends what the socket takes of the next n bytes of peer i's stream of
 * RECS copies of frame (flen bytes each), from sent[i] on. */
static void
pool_send(struct peer *p, const uint8_t *frame, size_t flen, size_t *sent, size_t upto)
{
	while (*sent < upto) {
		size_t off = *sent % flen, n = flen - off;
		ssize_t k;

		if (n > upto - *sent)
			n = upto - *sent;
		k = send(p->fd, frame + off, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (k <= 0)
			return;
		*sent += (size_t)k;
	}
}

/* Bounded memory (issue #14): N clients each pipeline RECS records of 30 KB
 * (each needs a full read buffer) against a pool that lends two full read
 * buffers.  First every client sends half of its first record and stops:
 * two connections get full buffers, the rest wait for the pool, none holds
 * pool memory with a frame it cannot finish (the deadlock the rule
 * excludes).  Then they send everything: every record is taken, every
 * client's last ACK arrives, in bounded time, and the pool never lent past
 * its limit. */
START_TEST(test_pool_many_large_records)
{
	enum { N = 24, RECS = 6, MSG = 30000 };
	static struct peer ps[N];
	static uint8_t frame[MSG + 512];
	static char msg[MSG + 1];
	struct conn_pool *pool;
	struct conn_pool_stats st;
	size_t flen, sent[N] = { 0 }, done = 0;
	struct timespec t0, t1;

	cfg.client_buffer = 64 * 1024;
	ck_assert_int_eq(conn_pool_new(base, 2 * cfg.client_buffer, &pool), 0);
	host.pool = pool;
	memset(msg, 'L', MSG);
	for (size_t i = 0; i < N; i++) {
		peer_open(&ps[i], CONN_NATIVE);
		peer_greet(&ps[i]);
	}
	cfg.max_record = MSG + 100;
	eng.durable = UINT64_MAX / 2; /* every record durable at once */
	flen = put_record(frame, msg);
	for (size_t i = 0; i < N; i++)
		pool_send(&ps[i], frame, flen, &sent[i], flen / 2);
	run_ready(200);
	conn_pool_get_stats(pool, &st);
	ck_assert_uint_eq(st.used, 2 * (cfg.client_buffer - 2048)); /* two full buffers */
	ck_assert(st.waiting);
	ck_assert_uint_eq(eng.appended, 0);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	t1 = t0;
	while (done < N && t1.tv_sec - t0.tv_sec < 20) {
		done = 0;
		for (size_t i = 0; i < N; i++) {
			pool_send(&ps[i], frame, flen, &sent[i], RECS * flen);
			done += peer_last_ack(&ps[i]) == RECS;
		}
		run_ready(4);
		clock_gettime(CLOCK_MONOTONIC, &t1);
	}
	ck_assert_uint_eq(done, N);
	ck_assert_uint_eq(eng.appended, N * RECS);
	ck_assert_uint_eq(cst.received, N * RECS);
	conn_pool_get_stats(pool, &st);
	ck_assert_uint_le(st.peak, st.limit);
	ck_assert_uint_eq(st.forced, 0);
	ck_assert_uint_ge(st.waits, N - 2);
	for (size_t i = 0; i < N; i++)
		peer_close(&ps[i]);
	conn_pool_get_stats(pool, &st);
	ck_assert_uint_eq(st.used, 0); /* every byte given back */
	host.pool = conn_pool_free(pool);
}
END_TEST

/* Runs the loop for ms, whatever happens. */
static bool
never(void *arg)
{
	return false;
}

/* frame_timeout (1 s) over a pool of two full read buffers: peers a, b and
 * c greeted, then a and b each holding one buffer with the first half of a
 * STALL_MSG-byte record (the frame and its length in *ret_flen; *sa, *sb
 * the bytes they sent). */
enum { STALL_MSG = 30000 };

static struct conn_pool *
stall_setup(struct peer *a, struct peer *b, struct peer *c, uint8_t *frame, size_t *ret_flen,
	    size_t *sa, size_t *sb)
{
	static char msg[STALL_MSG + 1];
	struct conn_pool *pool;
	struct conn_pool_stats st;

	cfg.client_buffer = 64 * 1024;
	cfg.frame_timeout_us = 1000000;
	ck_assert_int_eq(conn_pool_new(base, 2 * cfg.client_buffer, &pool), 0);
	host.pool = pool;
	memset(msg, 'S', STALL_MSG);
	peer_open(a, CONN_NATIVE);
	peer_greet(a);
	peer_open(b, CONN_NATIVE);
	peer_greet(b);
	peer_open(c, CONN_NATIVE);
	peer_greet(c);
	cfg.max_record = STALL_MSG + 100;
	eng.durable = UINT64_MAX / 2;
	*ret_flen = put_record(frame, msg);
	pool_send(a, frame, *ret_flen, sa, *ret_flen / 2); /* in this order: A, B hold */
	run_ready(100);
	pool_send(b, frame, *ret_flen, sb, *ret_flen / 2);
	run_ready(100);
	conn_pool_get_stats(pool, &st);
	ck_assert_uint_eq(st.used, 2 * (cfg.client_buffer - 2048));
	return pool;
}

/* The three peers closed: every byte of the pool given back. */
static void
stall_done(struct conn_pool *pool, struct peer *a, struct peer *b, struct peer *c)
{
	struct conn_pool_stats st;

	peer_close(a);
	peer_close(b);
	peer_close(c);
	conn_pool_get_stats(pool, &st);
	ck_assert_uint_eq(st.used, 0);
	host.pool = conn_pool_free(pool);
}

/* frame_timeout (issue #14): two clients hold the pool's two full read
 * buffers with half a large frame each, a third waits for one.  A, which
 * sends one byte every 300 ms, is not stalled; B, which sends nothing, is
 * cut after frame_timeout (1 s) with ERROR(0, stalled), and C gets its
 * buffer.  Exactly one is cut for one waiter, and with nobody waiting a
 * silent A is left alone: both A and C then finish their records and are
 * acknowledged. */
START_TEST(test_pool_stalled_frame_cut)
{
	static struct peer a, b, c;
	static uint8_t frame[STALL_MSG + 512];
	struct conn_pool *pool;
	struct conn_pool_stats st;
	struct frame f[4];
	size_t flen, sa = 0, sb = 0, sc = 0;
	int turns = 0;

	pool = stall_setup(&a, &b, &c, frame, &flen, &sa, &sb);
	pool_send(&c, frame, flen, &sc, flen / 2); /* C waits */
	run_ready(100);
	conn_pool_get_stats(pool, &st);
	ck_assert_uint_eq(st.used, 2 * (cfg.client_buffer - 2048));
	ck_assert(st.waiting);

	/* A drips, B is silent: B goes within a few sweeps, A stays */
	while (!peer_has_eof(&b) && turns++ < 20) {
		pool_send(&a, frame, flen, &sa, sa + 1);
		(void)run_until(peer_has_eof, &b, 300);
	}
	ck_assert_msg(b.eof, "the stalled client was not cut in %d turns", turns);
	ck_assert_uint_eq(peer_frames(&b, f, 4, NULL), 1);
	assert_error(&f[0], 0, PROTO_ERR_STALLED);
	ck_assert_ptr_null(b.c);
	conn_pool_get_stats(pool, &st);
	ck_assert_uint_eq(st.stalled, 1);
	ck_assert(!st.waiting); /* C has B's buffer */
	peer_read(&a);
	ck_assert(!a.eof);
	ck_assert_ptr_nonnull(a.c);

	/* nobody waits now: A and C, both silent, are left alone */
	(void)run_until(never, NULL, 2500);
	peer_read(&a);
	peer_read(&c);
	ck_assert(!a.eof && !c.eof);
	conn_pool_get_stats(pool, &st);
	ck_assert_uint_eq(st.stalled, 1);

	pool_send(&a, frame, flen, &sa, flen);
	pool_send(&c, frame, flen, &sc, flen);
	turns = 0;
	while ((peer_last_ack(&a) != 1 || peer_last_ack(&c) != 1) && turns++ < 400)
		(void)run_until(never, NULL, 5);
	ck_assert_uint_eq(peer_last_ack(&a), 1);
	ck_assert_uint_eq(peer_last_ack(&c), 1);
	ck_assert_uint_eq(eng.appended, 2);
	stall_done(pool, &a, &b, &c);
}
END_TEST

/* Found by the hostile review of frame_timeout: a connection whose reply
 * room the pool refused while replies were queued stopped reading until the
 * client had read them -- but they were then sent at once, in the same
 * pass, so nothing ever woke it, and it was no waiter of the pool either
 * (so the stalled clients holding the pool were never cut for it).  Two
 * stalled clients hold the pool; C pipelines 400 invalid records (400
 * ERRORs, more than the reply queue holds without the pool) and a valid
 * one: every reply arrives, the last the ACK of the valid record (the same
 * holds for an ACK left owed for want of room: conn_flush wakes both). */
START_TEST(test_pool_reply_room_refused_wakes)
{
	enum { BAD = 400 };
	static struct peer a, b, c;
	static uint8_t frame[STALL_MSG + 512], pipe[BAD * 64 + 1200];
	static struct frame f[BAD + 64];
	struct conn_pool *pool;
	size_t flen, sa = 0, sb = 0, n = 0, k, errs = 0;
	int turns = 0;
	uint64_t acked = 0;

	pool = stall_setup(&a, &b, &c, frame, &flen, &sa, &sb);
	for (size_t i = 0; i < BAD; i++) {
		k = put_record(pipe + n, "x");
		pipe[n + PROTO_FRAME_HEADER + 2] = 0xf0; /* no such flags: INVALID */
		n += k;
	}
	n += put_record(pipe + n, "valid");
	peer_send(&c, pipe, n);
	while (turns++ < 300 && acked != BAD + 1) {
		(void)run_until(never, NULL, 10);
		peer_read(&c);
		k = peer_frames(&c, f, ELEMENTSOF(f), NULL);
		if (k && k <= ELEMENTSOF(f) && f[k - 1].type == PROTO_ACK) {
			struct proto_ack last;
			ck_assert_int_eq(proto_parse_ack(f[k - 1].body, f[k - 1].len, &last), 0);
			acked = last.recno;
		}
	}
	k = peer_frames(&c, f, ELEMENTSOF(f), NULL);
	acked = 0;
	for (size_t i = 0; i < k && i < ELEMENTSOF(f); i++) {
		struct proto_error e;
		struct proto_ack ack;
		if (f[i].type == PROTO_ERROR) {
			ck_assert_int_eq(proto_parse_error(f[i].body, f[i].len, &e), 0);
			ck_assert_uint_eq(e.code, PROTO_ERR_INVALID);
			errs++;
		} else if (f[i].type == PROTO_ACK) {
			ck_assert_int_eq(proto_parse_ack(f[i].body, f[i].len, &ack), 0);
			acked = ack.recno;
		}
	}
	ck_assert_msg(errs == BAD && acked == BAD + 1 && eng.appended == 1,
		      "%zu ERRORs of %d, last ACK %llu, appended %llu", errs, (int)BAD,
		      (unsigned long long)acked, (unsigned long long)eng.appended);
	stall_done(pool, &a, &b, &c);
}
END_TEST

/* --- the rate limiter -------------------------------------------------------- */

START_TEST(test_ratelimit_windows)
{
	struct ratelimit *r = ratelimit_new(3, 1000);
	struct ratelimit_report rep[4];

	ck_assert_ptr_nonnull(r);
	for (int i = 0; i < 3; i++)
		ck_assert(ratelimit_allow(r, 7, 100));
	ck_assert(!ratelimit_allow(r, 7, 200));
	ck_assert(!ratelimit_allow(r, 7, 300));
	ck_assert(ratelimit_allow(r, 8, 300)); /* another uid, its own bucket */
	ck_assert_uint_eq(ratelimit_expired(r, 900, rep, 4), 0);
	ck_assert(!ratelimit_allow(r, 7, 1099)); /* the window is not over */
	ck_assert_uint_eq(ratelimit_expired(r, 1100, rep, 4), 1);
	ck_assert_uint_eq(rep[0].uid, 7);
	ck_assert_uint_eq(rep[0].suppressed, 3);
	ck_assert(ratelimit_allow(r, 7, 1101));
	ck_assert_uint_eq(ratelimit_total_suppressed(r), 3);
	ratelimit_configure(r, 0, 1000); /* off */
	for (int i = 0; i < 100; i++)
		ck_assert(ratelimit_allow(r, 7, 1102));
	ratelimit_free(r);
}
END_TEST

/* The native records' rate limit is the connection's own (the server
 * gives the syslog sources another instance): a refused record is
 * ERROR(N, rate-limited), counted as such. */
START_TEST(test_native_rate_limit)
{
	struct peer p;
	struct frame f[4];

	ratelimit_configure(rl, 2, 3600000000ull);
	peer_open(&p, CONN_NATIVE);
	peer_greet(&p);
	peer_record(&p, "1");
	peer_record(&p, "2");
	peer_record(&p, "3");
	wait_frames(&p, 1);
	ck_assert_uint_eq(peer_frames(&p, f, 4, NULL), 1);
	assert_error(&f[0], 3, PROTO_ERR_RATE_LIMITED);
	ck_assert_uint_eq(eng.appended, 2);
	ck_assert_uint_eq(cst.rate_limited, 1);
	ck_assert_uint_eq(cst.refused, 1);
	peer_close(&p);
}
END_TEST

/* --- CONTROL (protocol version 2) ------------------------------------------ */

/* HELLO for versions 1..2, and its HELLO_OK, which must choose 2. */
static void
peer_greet_v2(struct peer *p)
{
	uint8_t b[PROTO_HELLO_LEN];
	struct proto_hello h = { .min_version = 1, .max_version = 2 };
	struct proto_hello_ok ok;
	struct frame f;

	peer_send(p, b, proto_put_hello(b, &h));
	wait_frames(p, 1);
	peer_frames(p, &f, 1, NULL);
	ck_assert_int_eq(f.type, PROTO_HELLO_OK);
	ck_assert_int_eq(proto_parse_hello_ok(f.body, f.len, &ok), 0);
	ck_assert_uint_eq(ok.version, 2);
	p->in_len = 0;
}

static void
peer_control(struct peer *p, uint8_t verb, uint8_t flags, uint64_t files)
{
	uint8_t b[PROTO_CONTROL_LEN];
	struct proto_control c = { .verb = verb, .flags = flags, .max_files = files };

	peer_send(p, b, proto_put_control(b, &c));
}

static void
assert_done(const struct frame *f, uint8_t verb, uint8_t status, uint64_t value)
{
	struct proto_control_done d;

	ck_assert_int_eq(f->type, PROTO_CONTROL_DONE);
	ck_assert_int_eq(proto_parse_control_done(f->body, f->len, &d), 0);
	ck_assert_uint_eq(d.verb, verb);
	ck_assert_uint_eq(d.status, status);
	ck_assert_uint_eq(d.value, value);
	ck_assert_uint_gt(d.text_len, 0);
}

/* A version 1 connection cannot send CONTROL: malformed, closed. */
START_TEST(test_control_needs_version_2)
{
	struct peer p;
	struct frame f;

	peer_open(&p, CONN_NATIVE);
	peer_greet(&p);
	peer_control(&p, PROTO_VERB_SYNC, 0, 0);
	wait_eof(&p);
	ck_assert_uint_eq(peer_frames(&p, &f, 1, NULL), 1);
	assert_error(&f, 0, PROTO_ERR_MALFORMED);
	peer_close(&p);
}
END_TEST

/* An old client's HELLO (1..1) still gets version 1; one that speaks
 * only a version after 2 gets ERROR(0, version). */
START_TEST(test_hello_versions)
{
	uint8_t b[PROTO_HELLO_LEN];
	struct proto_hello h = { .min_version = 3, .max_version = 5 };
	struct peer p;
	struct frame f;

	peer_open(&p, CONN_NATIVE);
	peer_send(&p, b, proto_put_hello(b, &h));
	wait_eof(&p);
	ck_assert_uint_eq(peer_frames(&p, &f, 1, NULL), 1);
	assert_error(&f, 0, PROTO_ERR_VERSION);
	peer_close(&p);
}
END_TEST

/* sync answers only once everything received before it is durable
 * (next_seq 42: through seq 41), after the ACK for this connection's own
 * records, and a STATUS_REQ sent behind it waits for it (replies stay in
 * order). */
START_TEST(test_sync_waits_for_durable)
{
	struct peer p;
	struct frame f[4];
	uint8_t b[PROTO_FRAME_HEADER];

	peer_open(&p, CONN_NATIVE);
	peer_greet_v2(&p);
	peer_record(&p, "one");
	peer_record(&p, "two");
	peer_control(&p, PROTO_VERB_SYNC, 0, 0);
	peer_send(&p, b, proto_put_status_req(b));
	run_ready(20);
	peer_read(&p);
	ck_assert_uint_eq(peer_frames(&p, NULL, 0, NULL), 0);
	ck_assert_int_eq(hs.waiting, 1);
	eng.durable = 2; /* its own records: ACK, still no answer */
	conn_ack(p.c, 2);
	run_ready(20);
	peer_read(&p);
	ck_assert_uint_eq(peer_frames(&p, f, 4, NULL), 1);
	assert_ack(&f[0], 2, 2);
	eng.durable = 41;
	conn_ack(p.c, 41);
	wait_frames(&p, 3);
	ck_assert_uint_eq(peer_frames(&p, f, 4, NULL), 3);
	assert_done(&f[1], PROTO_VERB_SYNC, PROTO_CTL_OK, 41);
	ck_assert_int_eq(f[2].type, PROTO_STATUS);
	ck_assert_int_eq(hs.waiting, 0);
	peer_close(&p);
}
END_TEST

/* In durability = fsync, sync waits for an fdatasync, not the durable
 * seq: after a reload from write that covers records only written (a
 * hostile test saw "durable (fdatasync)" with fsyncs 0); it asks the
 * engine for one.  In write mode, written is what it promises. */
START_TEST(test_sync_fsync_waits_for_fdatasync)
{
	struct peer p;
	struct frame f;
	struct proto_control_done d;

	peer_open(&p, CONN_NATIVE);
	peer_greet_v2(&p);
	eng.written_only = true;
	eng.durable = 41;
	eng.synced = 10;
	peer_control(&p, PROTO_VERB_SYNC, 0, 0);
	run_ready(20);
	peer_read(&p);
	ck_assert_uint_eq(peer_frames(&p, NULL, 0, NULL), 0);
	ck_assert_uint_eq(eng.sync_requests, 1);
	eng.synced = 41;
	conn_ack(p.c, 41);
	wait_frames(&p, 1);
	peer_frames(&p, &f, 1, NULL);
	assert_done(&f, PROTO_VERB_SYNC, PROTO_CTL_OK, 41);
	ck_assert_int_eq(proto_parse_control_done(f.body, f.len, &d), 0);
	ck_assert(memmem(d.text, d.text_len, "fdatasync", 9));
	p.in_len = 0;
	/* write mode: written is enough */
	cfg.durability = CFG_DURABILITY_WRITE;
	eng.synced = 0;
	peer_control(&p, PROTO_VERB_SYNC, 0, 0);
	wait_frames(&p, 1);
	peer_frames(&p, &f, 1, NULL);
	assert_done(&f, PROTO_VERB_SYNC, PROTO_CTL_OK, 41);
	ck_assert_int_eq(proto_parse_control_done(f.body, f.len, &d), 0);
	ck_assert(memmem(d.text, d.text_len, "written", 7));
	peer_close(&p);
}
END_TEST

/* rotate: nothing to seal answers at once; else the answer waits until
 * the seal covers everything received before it. */
START_TEST(test_rotate_waits_for_seal)
{
	struct peer p;
	struct frame f[3];

	peer_open(&p, CONN_NATIVE);
	peer_greet_v2(&p);
	eng_rotate_has_records = false;
	peer_control(&p, PROTO_VERB_ROTATE, 0, 0);
	wait_frames(&p, 1);
	peer_frames(&p, f, 1, NULL);
	assert_done(&f[0], PROTO_VERB_ROTATE, PROTO_CTL_OK, 0);
	p.in_len = 0;

	eng_rotate_has_records = true;
	peer_control(&p, PROTO_VERB_ROTATE, 0, 0);
	run_ready(20);
	peer_read(&p);
	ck_assert_uint_eq(peer_frames(&p, NULL, 0, NULL), 0);
	ck_assert_uint_eq(eng_rotations, 2);
	eng_sealed_through = 40; /* a seal, but not yet the one asked for */
	conn_ack(p.c, 0);
	run_ready(20);
	peer_read(&p);
	ck_assert_uint_eq(peer_frames(&p, NULL, 0, NULL), 0);
	eng_sealed_through = 41;
	conn_ack(p.c, 0);
	wait_frames(&p, 1);
	peer_frames(&p, f, 1, NULL);
	assert_done(&f[0], PROTO_VERB_ROTATE, PROTO_CTL_OK, 41);
	ck_assert_int_eq(hs.waiting, 0);
	peer_close(&p);
}
END_TEST

/* reload and vacuum go to the host, from the loop, never from inside the
 * frame loop; an unknown verb or flag is refused and the connection
 * stays; a record after the CONTROL is taken once it is answered. */
START_TEST(test_control_host_verbs)
{
	struct peer p;
	struct frame f[5];

	peer_open(&p, CONN_NATIVE);
	peer_greet_v2(&p);
	peer_control(&p, PROTO_VERB_VACUUM, PROTO_CTL_FILES, 7);
	peer_control(&p, PROTO_VERB_RELOAD, 0, 0);
	peer_control(&p, 9, 0, 0);
	peer_control(&p, PROTO_VERB_VACUUM, 0x80, 0);
	peer_control(&p, PROTO_VERB_ROTATE, PROTO_CTL_FORCE, 0); /* vacuum's flag */
	peer_record(&p, "after");
	wait_frames(&p, 5);
	ck_assert_uint_eq(peer_frames(&p, f, 5, NULL), 5);
	assert_done(&f[0], PROTO_VERB_VACUUM, PROTO_CTL_OK, 7);
	assert_done(&f[1], PROTO_VERB_RELOAD, PROTO_CTL_FAILED, 0);
	assert_done(&f[2], 9, PROTO_CTL_REFUSED, 0);
	assert_done(&f[3], PROTO_VERB_VACUUM, PROTO_CTL_REFUSED, 0);
	assert_done(&f[4], PROTO_VERB_ROTATE, PROTO_CTL_REFUSED, 0);
	ck_assert_uint_eq(eng_rotations, 0);
	ck_assert_uint_eq(host_controls, 2);
	ck_assert_uint_eq(eng.appended, 1);
	ck_assert_str_eq(eng.last_msg, "after");
	ck_assert_ptr_nonnull(p.c);
	peer_close(&p);
}
END_TEST

/* A client that shuts down its side with a sync pending still gets the
 * answer, then the end of stream. */
START_TEST(test_sync_then_eof)
{
	struct peer p;
	struct frame f[2];

	peer_open(&p, CONN_NATIVE);
	peer_greet_v2(&p);
	peer_control(&p, PROTO_VERB_SYNC, 0, 0);
	ck_assert_int_eq(shutdown(p.fd, SHUT_WR), 0);
	run_ready(20);
	peer_read(&p);
	ck_assert(!p.eof);
	eng.durable = 41;
	conn_ack(p.c, 41);
	wait_eof(&p);
	ck_assert_uint_eq(peer_frames(&p, f, 2, NULL), 1);
	assert_done(&f[0], PROTO_VERB_SYNC, PROTO_CTL_OK, 41);
	peer_close(&p);
}
END_TEST

static Suite *
conn_suite(void)
{
	Suite *s = suite_create("conn");
	TCase *tc = tcase_create("conn");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_hello_then_records_acked);
	tcase_add_test(tc, test_framing_error_closes_that_connection_only);
	tcase_add_test(tc, test_hello_timeout);
	tcase_add_test(tc, test_ack_coalescing_and_order);
	tcase_add_test(tc, test_eof_with_acks_owed);
	tcase_add_test(tc, test_eof_while_blocked);
	tcase_add_test(tc, test_pause_and_resume);
	tcase_add_test(tc, test_oversized_record_while_full);
	tcase_add_test(tc, test_slow_reader_gets_its_error_whole);
	tcase_add_test(tc, test_drain_and_end);
	tcase_add_test(tc, test_close_with_input_unread);
	tcase_add_test(tc, test_linger_is_bounded);
	tcase_add_test(tc, test_syslog_stream);
	tcase_add_test(tc, test_server_pressure_resumes_blocked);
	tcase_add_test(tc, test_native_rate_limit);
	tcase_add_test(tc, test_control_needs_version_2);
	tcase_add_test(tc, test_hello_versions);
	tcase_add_test(tc, test_sync_waits_for_durable);
	tcase_add_test(tc, test_rotate_waits_for_seal);
	tcase_add_test(tc, test_sync_fsync_waits_for_fdatasync);
	tcase_add_test(tc, test_control_host_verbs);
	tcase_add_test(tc, test_sync_then_eof);
	tcase_add_test(tc, test_pool_many_large_records);
	tcase_add_test(tc, test_pool_stalled_frame_cut);
	tcase_add_test(tc, test_pool_reply_room_refused_wakes);
	suite_add_tcase(s, tc);
	tc = tcase_create("ratelimit");
	tcase_add_test(tc, test_ratelimit_windows);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_run_suite(conn_suite());
}
