/* seglog status -o openmetrics | prometheus: the daemon's STATUS text
 * ("key value" lines, docs/protocol.md) as an exposition a scraper
 * reads: OpenMetrics 1.0 text (counters as FAMILY_total, the daemon's
 * state as a stateset, `# EOF` at the end), or the Prometheus text format
 * 0.0.4 that node_exporter's textfile collector reads.  The
 * commit-latency histogram comes with its real buckets (powers of two of
 * microseconds, as the daemon keeps them).  Pure: it formats into a
 * FILE, whatever that is; keys it does not know (a newer daemon) are left
 * out, and a metric whose key is missing (an older one) too. */
#pragma once

#include <stddef.h>
#include <stdio.h>

enum metrics_format {
	METRICS_OPENMETRICS,
	METRICS_PROMETHEUS,
};

/* Writes the exposition of the STATUS body (len bytes) to f; returns 0,
 * or -EIO if writing to f failed. */
int metrics_write(const char *body, size_t len, enum metrics_format fmt, FILE *f);
