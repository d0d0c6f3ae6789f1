#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "parse.h"
#include "metrics.h"

enum {
	METRICS_KEYS_MAX = 96,	  /* "key value" lines taken from one STATUS */
	METRICS_BUCKETS = 32,	  /* the daemon's histogram: bucket i is [2^i, 2^(i+1)) µs */
};

struct metrics_kv {
	const char *key, *val;
	size_t klen, vlen;
};

struct metrics_status {
	struct metrics_kv kv[METRICS_KEYS_MAX];
	size_t n;
};

/* The plain figures, in the order written: STATUS key, metric family,
 * HELP text, counter or gauge, and a factor to the base unit. */
static const struct metrics_plain {
	const char *key, *family, *help;
	bool counter;
	uint64_t scale;
} metrics_plain[] = {
	{ "records", "seglog_records", "Records committed since the daemon started.", true, 1 },
	{ "bytes", "seglog_written_bytes", "Bytes written to segments since start.", true, 1 },
	{ "commits", "seglog_commits", "Group commits completed since start.", true, 1 },
	{ "fsyncs", "seglog_fdatasyncs", "Commit fdatasyncs completed since start.", true, 1 },
	{ "errors", "seglog_storage_errors", "Storage errors since start.", true, 1 },
	{ "refused", "seglog_refused_records", "Records refused with an ERROR frame.", true, 1 },
	{ "rate_limited", "seglog_rate_limited_records",
	  "Native records refused by the per-uid rate limit.", true, 1 },
	{ "suppressed", "seglog_syslog_suppressed",
	  "Syslog messages dropped by the per-uid rate limit.", true, 1 },
	{ "syslog_oversize", "seglog_syslog_oversize",
	  "Syslog messages dropped for being larger than max_record.", true, 1 },
	{ "syslog_dropped", "seglog_syslog_dropped",
	  "Syslog messages the engine could not take (out of memory).", true, 1 },
	{ "malformed", "seglog_malformed_connections",
	  "Connections closed for broken framing.", true, 1 },
	{ "slow_readers", "seglog_slow_reader_connections",
	  "Connections dropped for leaving their replies unread.", true, 1 },
	{ "rejected_clients", "seglog_rejected_connections",
	  "Connections refused by the client limits or a shutdown.", true, 1 },
	{ "connections", "seglog_connections", "Connections accepted since start.", true, 1 },
	{ "uptime_s", "seglog_uptime_seconds", "Seconds since the daemon started.", false, 1 },
	{ "seq", "seglog_durable_seq", "The last durable seq (the watermark).", false, 1 },
	{ "next_seq", "seglog_next_seq", "The seq the next record gets.", false, 1 },
	{ "segment", "seglog_current_first_seq", "The first seq of current.", false, 1 },
	{ "sealed_segments", "seglog_sealed_segments", "Sealed segments on disk.", false, 1 },
	{ "clients", "seglog_clients", "Connections open now.", false, 1 },
	{ "pending_bytes", "seglog_pending_bytes", "Bytes received, not yet committed.", false,
	  1 },
	{ "disk_free", "seglog_disk_free_bytes",
	  "Free bytes on the data directory's file system.", false, 1 },
	{ "rss_kb", "seglog_resident_memory_bytes", "The daemon's resident memory.", false,
	  1024 },
	{ "memory_budget", "seglog_memory_budget_bytes",
	  "The memory budget for pending records and connection buffers.", false, 1 },
	{ "memory_used", "seglog_memory_used_bytes",
	  "Of the memory budget, taken now (pending records and connection buffers).", false, 1 },
	{ "buffer_bytes", "seglog_buffer_bytes",
	  "Connection buffers beyond the minimum each connection always has.", false, 1 },
	{ "buffer_waits", "seglog_buffer_waits",
	  "Times a connection stopped reading to wait for memory.", true, 1 },
	{ "buffer_stalled", "seglog_buffer_stalled",
	  "Connections closed for frame_timeout: stalled mid-frame while others waited for memory.",
	  true, 1 },
	{ "shipped_seq", "seglog_shipped_seq", "The last seq the shipper shipped (its cursor).",
	  false, 1 },
	{ "ship_lag", "seglog_ship_lag_records", "Durable records not shipped yet.", false, 1 },
	{ "ship_lag_bytes", "seglog_ship_lag_bytes",
	  "Bytes of the segments holding records not shipped yet (an estimate).", false, 1 },
	{ "unshipped_removed", "seglog_unshipped_removed_records",
	  "Records retention removed before they were shipped.", true, 1 },
};

static const char *const metrics_states[] = { "running", "backpressure", "storage-error",
					      "draining" };

static void
metrics_parse(const char *body, size_t len, struct metrics_status *st)
{
	const char *p = body, *end = body + len;

	st->n = 0;
	while (p < end && st->n < METRICS_KEYS_MAX) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		const char *sp = memchr(p, ' ', (size_t)(eol - p));

		if (sp && sp > p)
			st->kv[st->n++] = (struct metrics_kv){ p, sp + 1, (size_t)(sp - p),
							       (size_t)(eol - sp - 1) };
		p = eol + 1;
	}
}

static const struct metrics_kv *
metrics_get(const struct metrics_status *st, const char *key)
{
	size_t n = strlen(key);

	for (size_t i = 0; i < st->n; i++)
		if (st->kv[i].klen == n && memcmp(st->kv[i].key, key, n) == 0)
			return &st->kv[i];
	return NULL;
}

/* A status value as an unsigned integer: 1 and *ret, 0 if it is not one. */
static int
metrics_u64(const struct metrics_kv *kv, uint64_t *ret)
{
	if (!kv || kv->vlen > 20 || parse_u64_mem(kv->val, kv->vlen, ret) < 0)
		return 0;
	return 1;
}

/* A label value: backslash, double quote and newline escaped (both formats). */
static void
metrics_label(FILE *f, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' || s[i] == '"')
			fputc('\\', f);
		if (s[i] == '\n')
			fputs("\\n", f);
		else
			fputc(s[i], f);
	}
}

/* "# HELP" and "# TYPE" of a family.  Prometheus 0.0.4 names a counter
 * family by its sample name (FAMILY_total) and has no info or stateset
 * type (gauges instead); OpenMetrics names the family without _total. */
static void
metrics_head(FILE *f, enum metrics_format fmt, const char *family, const char *type,
	     const char *help)
{
	bool om = fmt == METRICS_OPENMETRICS;
	const char *suffix = !om && strcmp(type, "counter") == 0 ? "_total"
			     : !om && strcmp(type, "info") == 0  ? "_info"
								 : "";

	if (!om && (strcmp(type, "info") == 0 || strcmp(type, "stateset") == 0))
		type = "gauge";
	fprintf(f, "# HELP %s%s %s\n# TYPE %s%s %s\n", family, suffix, help, family, suffix, type);
}

/* µs as seconds, exactly (no binary rounding): "0.000002", "2147.483648". */
static void
metrics_seconds(FILE *f, uint64_t us)
{
	fprintf(f, "%" PRIu64 ".%06" PRIu64, us / 1000000, us % 1000000);
}

static void
metrics_histogram(FILE *f, enum metrics_format fmt, const struct metrics_status *st)
{
	const struct metrics_kv *b = metrics_get(st, "commit_latency_buckets_us");
	uint64_t counts[METRICS_BUCKETS], sum_us, total = 0;
	const char *p, *end;
	size_t n = 0;

	if (!b || !metrics_u64(metrics_get(st, "commit_latency_sum_us"), &sum_us))
		return;
	for (p = b->val, end = b->val + b->vlen; p < end && n < METRICS_BUCKETS;) {
		struct metrics_kv one = { .val = p };
		const char *sp = memchr(p, ' ', (size_t)(end - p));
		one.vlen = (size_t)((sp ? sp : end) - p);
		if (!metrics_u64(&one, &counts[n]))
			return;
		n++;
		p = sp ? sp + 1 : end;
	}
	if (n != METRICS_BUCKETS || p < end)
		return;
	metrics_head(f, fmt, "seglog_commit_latency_seconds", "histogram",
		     "Commit latency, from the write's submission to its completion "
		     "(with the fdatasync in durability = fsync).");
	/* bucket i holds [2^i, 2^(i+1)) µs: le 2^(i+1) µs counts it; the last
	 * one is open-ended, so only +Inf counts it */
	for (size_t i = 0; i + 1 < METRICS_BUCKETS; i++) {
		total += counts[i];
		fputs("seglog_commit_latency_seconds_bucket{le=\"", f);
		metrics_seconds(f, (uint64_t)1 << (i + 1));
		fprintf(f, "\"} %" PRIu64 "\n", total);
	}
	total += counts[METRICS_BUCKETS - 1];
	fprintf(f, "seglog_commit_latency_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n", total);
	fputs("seglog_commit_latency_seconds_sum ", f);
	metrics_seconds(f, sum_us);
	fprintf(f, "\nseglog_commit_latency_seconds_count %" PRIu64 "\n", total);
}

int
metrics_write(const char *body, size_t len, enum metrics_format fmt, FILE *f)
{
	_cleanup_free_ struct metrics_status *st = malloc(sizeof(*st));
	const struct metrics_kv *version, *durability, *state;
	bool om = fmt == METRICS_OPENMETRICS;

	if (!st)
		return -ENOMEM;
	metrics_parse(body, len, st);
	version = metrics_get(st, "version");
	durability = metrics_get(st, "durability");
	if (version) {
		metrics_head(f, fmt, "seglog_daemon", "info",
			     "The daemon's version and durability mode.");
		fputs("seglog_daemon_info{version=\"", f);
		metrics_label(f, version->val, version->vlen);
		if (durability) {
			fputs("\",durability=\"", f);
			metrics_label(f, durability->val, durability->vlen);
		}
		fputs("\"} 1\n", f);
	}
	state = metrics_get(st, "state");
	if (state) {
		metrics_head(f, fmt, "seglog_state", "stateset",
			     "The daemon's state: 1 for the one it is in.");
		for (size_t i = 0; i < ELEMENTSOF(metrics_states); i++) {
			const char *s = metrics_states[i];
			bool on = strlen(s) == state->vlen && memcmp(s, state->val, state->vlen) == 0;
			fprintf(f, "seglog_state{%s=\"%s\"} %d\n", om ? "seglog_state" : "state", s,
				on);
		}
	}
	for (size_t i = 0; i < ELEMENTSOF(metrics_plain); i++) {
		const struct metrics_plain *m = &metrics_plain[i];
		uint64_t v;

		if (!metrics_u64(metrics_get(st, m->key), &v))
			continue;
		metrics_head(f, fmt, m->family, m->counter ? "counter" : "gauge", m->help);
		fprintf(f, "%s%s %" PRIu64 "\n", m->family, m->counter ? "_total" : "",
			v * m->scale);
	}
	metrics_histogram(f, fmt, st);
	if (om)
		fputs("# EOF\n", f);
	return fflush(f) == 0 && !ferror(f) ? 0 : -EIO;
}
