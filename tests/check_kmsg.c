/* The kernel log input: the pure /dev/kmsg record parser (kmsg.c) and the
 * reader around it (kmsgsrv.c), the latter driven over a SOCK_SEQPACKET
 * pair, which like /dev/kmsg returns one record per read(). */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "kmsg.h"
#include "kmsgsrv.h"
#include "testutil.h"

/* Parses s with a scratch buffer of exactly its length (ASan sees any
 * overrun). */
static int
parse(const char *s, struct kmsg_record *r, char **scratch)
{
	size_t n = strlen(s);

	*scratch = malloc(n ? n : 1);
	ck_assert_ptr_nonnull(*scratch);
	return kmsg_parse(s, n, *scratch, r);
}

static bool
msg_is(const struct kmsg_record *r, const char *want, size_t want_len)
{
	return r->msg_len == want_len && memcmp(r->msg, want, want_len) == 0;
}

START_TEST(test_parse_basic)
{
	struct kmsg_record r;
	_cleanup_free_ char *sc = NULL;

	ck_assert_int_eq(parse("6,339,5140900,-;NET: Registered protocol family 10\n", &r, &sc), 0);
	ck_assert_int_eq(r.facility, 0);
	ck_assert_int_eq(r.severity, 6);
	ck_assert_uint_eq(r.seq, 339);
	ck_assert_uint_eq(r.ts_us, 5140900);
	ck_assert_int_eq(r.flag, '-');
	ck_assert(msg_is(&r, "NET: Registered protocol family 10", 34));
	ck_assert_ptr_null(r.dict);
	ck_assert_uint_eq(r.dict_len, 0);
}
END_TEST

START_TEST(test_parse_without_lf_and_empty_message)
{
	struct kmsg_record r;
	_cleanup_free_ char *a = NULL, *b = NULL;

	ck_assert_int_eq(parse("3,1,2,-;no newline", &r, &a), 0);
	ck_assert(msg_is(&r, "no newline", 10));
	ck_assert_int_eq(r.severity, 3);
	ck_assert_int_eq(parse("7,2,3,-;\n", &r, &b), 0);
	ck_assert_uint_eq(r.msg_len, 0);
	ck_assert_int_eq(r.severity, 7);
}
END_TEST

START_TEST(test_parse_userspace_facility)
{
	struct kmsg_record r;
	_cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;

	/* "echo '<6>x' > /dev/kmsg": the kernel gives it facility user (14 = 1 << 3 | 6) */
	ck_assert_int_eq(parse("14,7,8,-;seglogtest: 42\n", &r, &a), 0);
	ck_assert_int_eq(r.facility, 1);
	ck_assert_int_eq(r.severity, 6);
	/* facility is 8 bits in the ABI: the highest PRI is 2047 */
	ck_assert_int_eq(parse("2047,1,1,-;x\n", &r, &b), 0);
	ck_assert_int_eq(r.facility, 255);
	ck_assert_int_eq(r.severity, 7);
	ck_assert_int_eq(parse("2048,1,1,-;x\n", &r, &c), -EBADMSG);
}
END_TEST

START_TEST(test_parse_unescapes)
{
	struct kmsg_record r;
	_cleanup_free_ char *sc = NULL;
	static const char want[] = "a\nb\\c\x7f\xe2\x82\xac\t";

	ck_assert_int_eq(parse("4,5,6,-;a\\x0ab\\x5cc\\x7f\\xe2\\x82\\xAC\\x09\n", &r, &sc), 0);
	ck_assert(msg_is(&r, want, sizeof(want) - 1));
}
END_TEST

START_TEST(test_parse_keeps_malformed_escapes)
{
	struct kmsg_record r;
	_cleanup_free_ char *sc = NULL;

	ck_assert_int_eq(parse("6,1,1,-;\\xZZ \\y \\x4", &r, &sc), 0);
	ck_assert(msg_is(&r, "\\xZZ \\y \\x4", 11));
}
END_TEST

START_TEST(test_unescape_direct)
{
	char out[16];

	ck_assert_uint_eq(kmsg_unescape("\\x41\\x42", 8, out), 2);
	ck_assert_int_eq(memcmp(out, "AB", 2), 0);
	ck_assert_uint_eq(kmsg_unescape("\\", 1, out), 1);
	ck_assert_int_eq(out[0], '\\');
	ck_assert_uint_eq(kmsg_unescape("", 0, out), 0);
}
END_TEST

START_TEST(test_parse_ignores_extra_fields)
{
	struct kmsg_record r;
	_cleanup_free_ char *sc = NULL;

	ck_assert_int_eq(parse("6,10,20,-,caller=T123,more=1;with caller\n", &r, &sc), 0);
	ck_assert_uint_eq(r.seq, 10);
	ck_assert(msg_is(&r, "with caller", 11));
}
END_TEST

START_TEST(test_parse_continuation_flags)
{
	struct kmsg_record r;
	_cleanup_free_ char *a = NULL, *b = NULL;

	ck_assert_int_eq(parse("6,1,1,c;start\n", &r, &a), 0);
	ck_assert_int_eq(r.flag, 'c');
	ck_assert_int_eq(parse("6,2,1,+;more\n", &r, &b), 0);
	ck_assert_int_eq(r.flag, '+');
}
END_TEST

START_TEST(test_parse_dict)
{
	struct kmsg_record r;
	_cleanup_free_ char *sc = NULL;
	const char *k, *v;
	size_t kl, vl, pos = 0;
	char val[32];

	ck_assert_int_eq(parse("6,1,1,-;pci message\n SUBSYSTEM=pci\n DEVICE=+pci:0000:00:1f.3\n"
			       "\n NOEQUALS\n PATH=a\\x0ab\n", &r, &sc), 0);
	ck_assert(msg_is(&r, "pci message", 11));
	ck_assert_int_eq(kmsg_dict_next(&r, &pos, &k, &kl, &v, &vl), 1);
	ck_assert(kl == 9 && memcmp(k, "SUBSYSTEM", 9) == 0 && vl == 3 && memcmp(v, "pci", 3) == 0);
	ck_assert_int_eq(kmsg_dict_next(&r, &pos, &k, &kl, &v, &vl), 1);
	ck_assert(kl == 6 && memcmp(k, "DEVICE", 6) == 0);
	ck_assert(vl == 17 && memcmp(v, "+pci:0000:00:1f.3", 17) == 0);
	ck_assert_int_eq(kmsg_dict_next(&r, &pos, &k, &kl, &v, &vl), 1);
	ck_assert(kl == 8 && memcmp(k, "NOEQUALS", 8) == 0 && vl == 0);
	ck_assert_int_eq(kmsg_dict_next(&r, &pos, &k, &kl, &v, &vl), 1);
	ck_assert(kl == 4 && memcmp(k, "PATH", 4) == 0);
	ck_assert_uint_eq(kmsg_unescape(v, vl, val), 3);
	ck_assert_int_eq(memcmp(val, "a\nb", 3), 0);
	ck_assert_int_eq(kmsg_dict_next(&r, &pos, &k, &kl, &v, &vl), 0);
	ck_assert_int_eq(kmsg_dict_next(&r, &pos, &k, &kl, &v, &vl), 0);
}
END_TEST

START_TEST(test_parse_seq_limits)
{
	struct kmsg_record r;
	_cleanup_free_ char *a = NULL, *b = NULL;

	ck_assert_int_eq(parse("6,18446744073709551615,1,-;max\n", &r, &a), 0);
	ck_assert_uint_eq(r.seq, UINT64_MAX);
	ck_assert_int_eq(parse("6,18446744073709551616,1,-;over\n", &r, &b), -EBADMSG);
}
END_TEST

START_TEST(test_parse_rejects_malformed)
{
	static const char *const bad[] = {
		"",
		";",
		"6,1,1,-",		/* no ';' */
		"6,1,1;x",		/* no FLAGS */
		"6,1,1,;x",		/* empty FLAGS */
		"6,1,1,--;x",		/* FLAGS of two bytes */
		",1,1,-;x",		/* empty PRI */
		"a,1,1,-;x",
		"-6,1,1,-;x",
		"6,,1,-;x",
		"6,1,x,-;x",
		"6,1,1,-\n;x",		/* LF before ';' */
		"6 1 1 -;x",
	};
	struct kmsg_record r = { .seq = 4242 };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		_cleanup_free_ char *sc = NULL;
		ck_assert_msg(parse(bad[i], &r, &sc) == -EBADMSG, "accepted \"%s\"", bad[i]);
	}
	ck_assert_uint_eq(r.seq, 4242); /* untouched */
}
END_TEST

/* --- kmsgsrv over a socketpair -------------------------------------------- */

enum { MAXREC = 100 }; /* more than kmsgsrv's 64 marks */

struct sink {
	unsigned n;
	uint64_t next_seq;
	int enobufs; /* refuse this many appends with -ENOBUFS first */
	int refuse;  /* refuse this many with -EMSGSIZE */
	struct record rec[MAXREC];
	char msg[MAXREC][128];
};

static int
sink_append(void *userdata, struct record *r)
{
	struct sink *s = userdata;

	if (s->enobufs > 0) {
		s->enobufs--;
		return -ENOBUFS;
	}
	if (s->refuse > 0) {
		s->refuse--;
		return -EMSGSIZE;
	}
	ck_assert_uint_lt(s->n, MAXREC);
	ck_assert_uint_lt(r->msg_len, sizeof(s->msg[0]));
	r->seq = ++s->next_seq;
	s->rec[s->n] = *r;
	memcpy(s->msg[s->n], r->msg, r->msg_len);
	s->msg[s->n][r->msg_len] = '\0';
	s->rec[s->n].msg = s->msg[s->n];
	s->n++;
	return 0;
}

static char *dir;
static struct event_base *base;
static int fds[2];
static struct sink sink;

static void
write_boot_id(const char *id)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/boot_id", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "%s\n", id);
	fclose(f);
}

static void
setup(void)
{
	dir = test_mkdtemp();
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), 0);
	memset(&sink, 0, sizeof(sink));
	write_boot_id("0b1e2c5e-6a49-4b8e-9d3c-5f1d2a7e8c01");
}

static void
teardown(void)
{
	safe_close(fds[0]);
	safe_close(fds[1]);
	event_base_free(base);
	test_rm_rf(dir);
	free(dir);
}

static struct kmsgsrv *
start(uint64_t interval_us)
{
	char boot[4096];
	struct kmsgsrv *k = NULL;
	struct kmsgsrv_config c;
	int fd;

	snprintf(boot, sizeof(boot), "%s/boot_id", dir);
	fd = fcntl(fds[0], F_DUPFD_CLOEXEC, 3);
	ck_assert_int_ge(fd, 0);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	c = (struct kmsgsrv_config){
		.fd = fd, .dir = dir, .boot_id_path = boot, .state_interval_us = interval_us,
	};
	ck_assert_int_eq(kmsgsrv_new(base, &c, sink_append, &sink, &k), 0);
	return k;
}

static void
send_rec(const char *s)
{
	ck_assert_int_eq(write(fds[1], s, strlen(s)), (ssize_t)strlen(s));
}

static void
run(unsigned ms)
{
	struct timeval tv = { 0, (suseconds_t)ms * 1000 };

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

static char *
state(void)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/kmsg", dir);
	return test_read_file(path, NULL);
}

START_TEST(test_srv_maps_records)
{
	_cleanup_(kmsgsrv_freep) struct kmsgsrv *k = start(0);
	struct timespec rt, mono;
	uint64_t offset;

	send_rec("6,0,1000000,-;first\\x0aline\n SUBSYSTEM=pci\n");
	send_rec("14,1,2000000,-;from userspace\n");
	send_rec("251,2,3000000,-;facility 31\n");
	run(50);
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	offset = ((uint64_t)rt.tv_sec * 1000000 + (uint64_t)rt.tv_nsec / 1000) -
		 ((uint64_t)mono.tv_sec * 1000000 + (uint64_t)mono.tv_nsec / 1000);
	ck_assert_uint_eq(sink.n, 3);
	ck_assert_str_eq(sink.msg[0], "first\nline"); /* unescaped, the dict dropped */
	ck_assert_int_eq(sink.rec[0].tag_len, 6);
	ck_assert_int_eq(memcmp(sink.rec[0].tag, "kernel", 6), 0);
	ck_assert_int_eq(sink.rec[0].pid, 0);
	ck_assert_uint_eq(sink.rec[0].uid, 0);
	ck_assert_uint_eq(sink.rec[0].gid, 0);
	ck_assert_int_eq(sink.rec[0].claimed_pid, RECORD_NO_CLAIMED_PID);
	ck_assert_int_eq(sink.rec[0].facility, 0);
	ck_assert_int_eq(sink.rec[0].severity, 6);
	ck_assert_int_eq(sink.rec[1].facility, 1);
	ck_assert_int_eq(sink.rec[2].facility, 1); /* 31 is no syslog facility: user */
	ck_assert_int_eq(sink.rec[2].severity, 3);
	/* claimed time = monotonic stamp + realtime - monotonic (within 1 s) */
	ck_assert_uint_le(sink.rec[0].claimed_time_us, 1000000 + offset + 1000000);
	ck_assert_uint_ge(sink.rec[0].claimed_time_us + 1000000, 1000000 + offset);
	ck_assert_uint_eq(sink.rec[1].claimed_time_us - sink.rec[0].claimed_time_us, 1000000);
	ck_assert_uint_ge(sink.rec[0].time_us, (uint64_t)(rt.tv_sec - 5) * 1000000);
	ck_assert_uint_eq(kmsgsrv_stats(k)->records, 3);
}
END_TEST

START_TEST(test_srv_restart_skips_committed)
{
	struct kmsgsrv *k = start(0);
	_cleanup_free_ char *st = NULL;

	send_rec("6,0,1,-;a\n");
	send_rec("6,1,1,-;b\n");
	send_rec("6,2,1,-;c\n");
	run(50);
	ck_assert_uint_eq(sink.n, 3);
	kmsgsrv_committed(k, 2); /* daemon seqs 1 and 2 (kmsg 0 and 1) are durable */
	st = state();
	ck_assert_ptr_nonnull(st);
	ck_assert_str_eq(st, "seglog-kmsg 1 0b1e2c5e-6a49-4b8e-9d3c-5f1d2a7e8c01 1\n");
	ck_assert_uint_eq(kmsgsrv_stats(k)->committed_seq, 1);
	kmsgsrv_free(k); /* kmsg 2 was never committed: not in the state */

	/* the restarted reader sees the same buffer from its start */
	sink.n = 0;
	k = start(0);
	send_rec("6,0,1,-;a\n");
	send_rec("6,1,1,-;b\n");
	send_rec("6,2,1,-;c\n");
	send_rec("6,3,1,-;d\n");
	run(50);
	ck_assert_uint_eq(sink.n, 2);
	ck_assert_str_eq(sink.msg[0], "c");
	ck_assert_str_eq(sink.msg[1], "d");
	ck_assert_uint_eq(kmsgsrv_stats(k)->skipped, 2);
	ck_assert_uint_eq(kmsgsrv_stats(k)->lost, 0);
	kmsgsrv_free(k);
}
END_TEST

static void
write_state(const char *s)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/kmsg", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(s, f);
	fclose(f);
}

START_TEST(test_srv_other_boot_reads_all)
{
	_cleanup_(kmsgsrv_freep) struct kmsgsrv *k = NULL;

	write_state("seglog-kmsg 1 11111111-2222-3333-4444-555555555555 5\n");
	k = start(0);
	send_rec("6,0,1,-;new boot 0\n");
	send_rec("6,6,1,-;new boot 6\n");
	run(50);
	ck_assert_uint_eq(sink.n, 2);
	ck_assert_uint_eq(kmsgsrv_stats(k)->skipped, 0);
	ck_assert_uint_eq(kmsgsrv_stats(k)->lost, 5); /* 1..5 overwritten */
}
END_TEST

START_TEST(test_srv_malformed_state_reads_all)
{
	_cleanup_(kmsgsrv_freep) struct kmsgsrv *k = NULL;

	write_state("garbage\n");
	k = start(0);
	send_rec("6,0,1,-;x\n");
	run(50);
	ck_assert_uint_eq(sink.n, 1);
}
END_TEST

START_TEST(test_srv_gap_after_state_is_counted)
{
	_cleanup_(kmsgsrv_freep) struct kmsgsrv *k = NULL;

	write_state("seglog-kmsg 1 0b1e2c5e-6a49-4b8e-9d3c-5f1d2a7e8c01 9\n");
	k = start(0);
	send_rec("6,8,1,-;old\n");
	send_rec("6,13,1,-;after a gap\n");
	run(50);
	ck_assert_uint_eq(sink.n, 1);
	ck_assert_uint_eq(kmsgsrv_stats(k)->skipped, 1);
	ck_assert_uint_eq(kmsgsrv_stats(k)->lost, 3); /* 10, 11, 12 */
}
END_TEST

START_TEST(test_srv_enobufs_retries_in_order)
{
	_cleanup_(kmsgsrv_freep) struct kmsgsrv *k = start(0);

	sink.enobufs = 3;
	send_rec("6,0,1,-;one\n");
	send_rec("6,1,1,-;two\n");
	run(200);
	ck_assert_int_eq(sink.enobufs, 0);
	ck_assert_uint_eq(sink.n, 2);
	ck_assert_str_eq(sink.msg[0], "one");
	ck_assert_str_eq(sink.msg[1], "two");
	ck_assert_uint_eq(kmsgsrv_stats(k)->dropped, 0);
}
END_TEST

START_TEST(test_srv_refused_and_malformed_are_counted)
{
	_cleanup_(kmsgsrv_freep) struct kmsgsrv *k = start(0);

	sink.refuse = 1;
	send_rec("6,0,1,-;too large\n");
	send_rec("this is not a kmsg record");
	send_rec("6,1,1,-;fine\n");
	run(50);
	ck_assert_uint_eq(sink.n, 1);
	ck_assert_str_eq(sink.msg[0], "fine");
	ck_assert_uint_eq(kmsgsrv_stats(k)->dropped, 1);
	ck_assert_uint_eq(kmsgsrv_stats(k)->malformed, 1);
	ck_assert_uint_eq(kmsgsrv_stats(k)->lost, 0);
}
END_TEST

START_TEST(test_srv_state_writes_are_rate_limited)
{
	struct kmsgsrv *k = start(100000);
	_cleanup_free_ char *s1 = NULL, *s2 = NULL, *s3 = NULL;

	for (int i = 0; i < 4; i++) {
		char line[64];
		snprintf(line, sizeof(line), "6,%d,1,-;r%d\n", i, i);
		send_rec(line);
	}
	run(20);
	ck_assert_uint_eq(sink.n, 4);
	kmsgsrv_committed(k, 1);
	kmsgsrv_committed(k, 2);
	ck_assert_uint_eq(kmsgsrv_stats(k)->state_writes, 1); /* the second waits */
	s1 = state();
	ck_assert_str_eq(s1, "seglog-kmsg 1 0b1e2c5e-6a49-4b8e-9d3c-5f1d2a7e8c01 0\n");
	run(200);
	ck_assert_uint_eq(kmsgsrv_stats(k)->state_writes, 2);
	s2 = state();
	ck_assert_str_eq(s2, "seglog-kmsg 1 0b1e2c5e-6a49-4b8e-9d3c-5f1d2a7e8c01 1\n");
	kmsgsrv_committed(k, 0); /* nothing new: no write */
	run(150);
	ck_assert_uint_eq(kmsgsrv_stats(k)->state_writes, 2);
	kmsgsrv_committed(k, 4);
	kmsgsrv_free(k); /* clean shutdown writes what is pending */
	s3 = state();
	ck_assert_str_eq(s3, "seglog-kmsg 1 0b1e2c5e-6a49-4b8e-9d3c-5f1d2a7e8c01 3\n");
	ck_assert_int_eq(test_count_entries(dir), 2); /* boot_id, kmsg: no temporaries */
}
END_TEST

START_TEST(test_srv_many_marks_never_advance_early)
{
	_cleanup_(kmsgsrv_freep) struct kmsgsrv *k = start(0);
	char line[64];

	for (int i = 0; i < 60; i++) {
		snprintf(line, sizeof(line), "6,%d,1,-;r\n", i);
		send_rec(line);
	}
	run(30);
	for (int i = 60; i < MAXREC; i++) {
		snprintf(line, sizeof(line), "6,%d,1,-;r\n", i);
		send_rec(line);
	}
	run(30);
	ck_assert_uint_eq(sink.n, MAXREC);
	/* more records than marks: the state may lag, never lead */
	for (uint64_t d = 1; d <= MAXREC; d++) {
		kmsgsrv_committed(k, d);
		if (kmsgsrv_stats(k)->have_committed)
			ck_assert_uint_le(kmsgsrv_stats(k)->committed_seq, d - 1);
	}
	ck_assert_uint_eq(kmsgsrv_stats(k)->committed_seq, MAXREC - 1);
}
END_TEST

START_TEST(test_srv_pause_stops_reading)
{
	_cleanup_(kmsgsrv_freep) struct kmsgsrv *k = start(0);

	kmsgsrv_pause(k, true);
	send_rec("6,0,1,-;held back\n");
	run(50);
	ck_assert_uint_eq(sink.n, 0);
	kmsgsrv_pause(k, false);
	run(50);
	ck_assert_uint_eq(sink.n, 1);
}
END_TEST

START_TEST(test_srv_missing_device)
{
	char path[4096];
	struct kmsgsrv *k = NULL;
	struct kmsgsrv_config c;

	snprintf(path, sizeof(path), "%s/no-such-kmsg", dir);
	c = (struct kmsgsrv_config){ .device = path, .fd = -EBADF, .dir = dir };
	ck_assert_int_eq(kmsgsrv_new(base, &c, sink_append, &sink, &k), -ENOENT);
	ck_assert_ptr_null(k);
}
END_TEST

START_TEST(test_srv_no_fd_leak)
{
	int n0 = test_count_fds();
	struct kmsgsrv *k = start(0);

	ck_assert_int_gt(test_count_fds(), n0);
	send_rec("6,0,1,-;x\n");
	run(20);
	kmsgsrv_committed(k, 1);
	kmsgsrv_free(k);
	ck_assert_int_eq(test_count_fds(), n0);
}
END_TEST

static Suite *
kmsg_suite(void)
{
	Suite *s = suite_create("kmsg");
	TCase *tp = tcase_create("parse");
	TCase *ts = tcase_create("input");

	tcase_add_test(tp, test_parse_basic);
	tcase_add_test(tp, test_parse_without_lf_and_empty_message);
	tcase_add_test(tp, test_parse_userspace_facility);
	tcase_add_test(tp, test_parse_unescapes);
	tcase_add_test(tp, test_parse_keeps_malformed_escapes);
	tcase_add_test(tp, test_unescape_direct);
	tcase_add_test(tp, test_parse_ignores_extra_fields);
	tcase_add_test(tp, test_parse_continuation_flags);
	tcase_add_test(tp, test_parse_dict);
	tcase_add_test(tp, test_parse_seq_limits);
	tcase_add_test(tp, test_parse_rejects_malformed);
	suite_add_tcase(s, tp);

	tcase_add_checked_fixture(ts, setup, teardown);
	tcase_add_test(ts, test_srv_maps_records);
	tcase_add_test(ts, test_srv_restart_skips_committed);
	tcase_add_test(ts, test_srv_other_boot_reads_all);
	tcase_add_test(ts, test_srv_malformed_state_reads_all);
	tcase_add_test(ts, test_srv_gap_after_state_is_counted);
	tcase_add_test(ts, test_srv_enobufs_retries_in_order);
	tcase_add_test(ts, test_srv_refused_and_malformed_are_counted);
	tcase_add_test(ts, test_srv_state_writes_are_rate_limited);
	tcase_add_test(ts, test_srv_many_marks_never_advance_early);
	tcase_add_test(ts, test_srv_pause_stops_reading);
	tcase_add_test(ts, test_srv_missing_device);
	tcase_add_test(ts, test_srv_no_fd_leak);
	suite_add_tcase(s, ts);
	return s;
}

int
main(void)
{
	return test_run_suite(kmsg_suite());
}
