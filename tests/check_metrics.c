/* metrics: the STATUS text as OpenMetrics and Prometheus text.  The
 * output is checked line by line here; tests/status-metrics.sh parses a
 * real daemon's with the prometheus_client parsers. */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "testutil.h"

static const char status_body[] =
	"version 0.1.0\npid 99\nuptime_s 12\nstate running\nstorage_error none\n"
	"durability fsync\nrecords 10\nbytes 1234\nseq 10\nnext_seq 11\nsegment 1\n"
	"sealed_segments 0\nclients 1\npending_bytes 0\ncommits 8\nfsyncs 8\n"
	"commit_p50_us 12\ncommit_p99_us 2000\ndisk_free 4096\nerrors 0\nrefused 0\n"
	"rate_limited 0\nmalformed 0\nsuppressed 0\nsyslog_oversize 0\nsyslog_dropped 0\n"
	"slow_readers 0\nrejected_clients 0\nconnections 3\nrss_kb 2000\n"
	"some_future_key 7\n"
	"commit_latency_sum_us 5001234\n"
	"commit_latency_buckets_us 0 0 0 5 0 0 0 0 0 0 2 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 "
	"0 0 1\n";

static char *
render(const char *body, enum metrics_format fmt)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(metrics_write(body, strlen(body), fmt, f), 0);
	fclose(f);
	return buf;
}

/* line is one whole line of text */
static bool
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

START_TEST(test_openmetrics)
{
	char *t = render(status_body, METRICS_OPENMETRICS);

	ck_assert(has_line(t, "# TYPE seglog_records counter"));
	ck_assert(has_line(t, "seglog_records_total 10"));
	ck_assert(has_line(t, "# TYPE seglog_durable_seq gauge"));
	ck_assert(has_line(t, "seglog_durable_seq 10"));
	ck_assert(has_line(t, "seglog_resident_memory_bytes 2048000"));
	ck_assert(has_line(t, "# TYPE seglog_daemon info"));
	ck_assert(has_line(t, "seglog_daemon_info{version=\"0.1.0\",durability=\"fsync\"} 1"));
	ck_assert(has_line(t, "# TYPE seglog_state stateset"));
	ck_assert(has_line(t, "seglog_state{seglog_state=\"running\"} 1"));
	ck_assert(has_line(t, "seglog_state{seglog_state=\"storage-error\"} 0"));
	ck_assert(has_line(t, "# TYPE seglog_commit_latency_seconds histogram"));
	/* bucket 3 is [8, 16) µs: counted from le 16 µs on, cumulative */
	ck_assert(has_line(t, "seglog_commit_latency_seconds_bucket{le=\"0.000008\"} 0"));
	ck_assert(has_line(t, "seglog_commit_latency_seconds_bucket{le=\"0.000016\"} 5"));
	ck_assert(has_line(t, "seglog_commit_latency_seconds_bucket{le=\"0.001024\"} 5"));
	ck_assert(has_line(t, "seglog_commit_latency_seconds_bucket{le=\"0.002048\"} 7"));
	ck_assert(has_line(t, "seglog_commit_latency_seconds_bucket{le=\"2147.483648\"} 7"));
	/* the last bucket is open-ended: only +Inf counts it */
	ck_assert(has_line(t, "seglog_commit_latency_seconds_bucket{le=\"+Inf\"} 8"));
	ck_assert(has_line(t, "seglog_commit_latency_seconds_count 8"));
	ck_assert(has_line(t, "seglog_commit_latency_seconds_sum 5.001234"));
	ck_assert_ptr_null(strstr(t, "some_future_key"));
	ck_assert_ptr_null(strstr(t, "p50"));
	/* # EOF ends it, once */
	size_t n = strlen(t);
	ck_assert(n > 6 && strcmp(t + n - 6, "# EOF\n") == 0);
	ck_assert_ptr_eq(strstr(t, "# EOF"), t + n - 6);
	free(t);
}
END_TEST

START_TEST(test_prometheus)
{
	char *t = render(status_body, METRICS_PROMETHEUS);

	ck_assert(has_line(t, "# TYPE seglog_records_total counter"));
	ck_assert(has_line(t, "# HELP seglog_records_total Records committed since the daemon "
			      "started."));
	ck_assert(has_line(t, "seglog_records_total 10"));
	ck_assert(has_line(t, "# TYPE seglog_daemon_info gauge"));
	ck_assert(has_line(t, "# TYPE seglog_state gauge"));
	ck_assert(has_line(t, "seglog_state{state=\"running\"} 1"));
	ck_assert(has_line(t, "seglog_commit_latency_seconds_bucket{le=\"+Inf\"} 8"));
	ck_assert_ptr_null(strstr(t, "# EOF"));
	ck_assert_ptr_null(strstr(t, "stateset"));
	ck_assert_ptr_null(strstr(t, " info\n"));
	free(t);
}
END_TEST

/* Label values are escaped; what an older daemon does not send is left
 * out, and a histogram that does not have its 32 buckets is left out. */
START_TEST(test_escapes_and_missing)
{
	char *t = render("version 1\"\\x\nrecords 5\ncommit_latency_sum_us 3\n"
			 "commit_latency_buckets_us 1 2 3\n", METRICS_OPENMETRICS);

	ck_assert(has_line(t, "seglog_daemon_info{version=\"1\\\"\\\\x\"} 1"));
	ck_assert(has_line(t, "seglog_records_total 5"));
	ck_assert_ptr_null(strstr(t, "seglog_state"));
	ck_assert_ptr_null(strstr(t, "latency"));
	ck_assert_ptr_null(strstr(t, "seglog_bytes"));
	free(t);
	t = render("records x\nseq 18446744073709551616\nclients 3\n", METRICS_PROMETHEUS);
	ck_assert_ptr_null(strstr(t, "seglog_records"));
	ck_assert_ptr_null(strstr(t, "seglog_durable_seq"));
	ck_assert(has_line(t, "seglog_clients 3"));
	free(t);
	t = render("", METRICS_OPENMETRICS);
	ck_assert_str_eq(t, "# EOF\n");
	free(t);
}
END_TEST

static Suite *
metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("format");

	tcase_add_test(tc, test_openmetrics);
	tcase_add_test(tc, test_prometheus);
	tcase_add_test(tc, test_escapes_and_missing);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_run_suite(metrics_suite());
}
