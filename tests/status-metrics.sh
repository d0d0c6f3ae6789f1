#!/bin/bash
# seglog status -o openmetrics and -o prometheus from a running daemon,
# linted by promtool check metrics (the Prometheus format) and read back by
# the prometheus_client parsers (Debian's
# python3-prometheus-client: the strict OpenMetrics 1.0 parser, and the
# Prometheus text format one that node_exporter's textfile collector
# follows): both parse, the counters and gauges are the status's own
# figures, the histogram's buckets are cumulative and its count is the
# number of commits, the state is a stateset with exactly one state set.
set -u
. "${top_srcdir:-.}/tests/lib.sh"

py=/usr/bin/python3 # Debian's, which has the package (not a pyenv one)
$py -c 'import prometheus_client.openmetrics.parser' 2>/dev/null ||
	skip "no python3-prometheus-client for $py (apt-get install python3-prometheus-client)"
# promtool: on PATH, else where scripts/deps puts it (Debian's, without the server)
promtool=$(command -v promtool || echo /usr/local/lib/seglog-tests/promtool)
[ -x "$promtool" ] || skip "no promtool (scripts/deps fetches it)"
w=$(test_tmpdir)
start_daemon "$w" || fail "seglogd did not start"
seq 1 2000 | "$SEGLOG" -s "$w/sock" send -t m > /dev/null || fail "send"
"$SEGLOG" -s "$w/sock" status -o json > "$w/status.json" || fail "status -o json"
"$SEGLOG" -s "$w/sock" status -o openmetrics > "$w/om.txt"
check_eq "-o openmetrics: exit 0" "$?" 0
"$SEGLOG" -s "$w/sock" status -o prometheus > "$w/prom.txt"
check_eq "-o prometheus: exit 0" "$?" 0
"$SEGLOG" -s "$w/sock" status -o yaml > /dev/null 2>&1
check_eq "-o yaml: usage error" "$?" 2
stop_daemon

$py - "$w" > "$w/check.out" 2>&1 <<'PY'
import json, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families as om_parse
from prometheus_client.parser import text_string_to_metric_families as prom_parse
w = sys.argv[1]
st = json.load(open(w + "/status.json"))
def families(parse, path):
    return {f.name: f for f in parse(open(path).read())}
def value(fams, family, sample=None):
    for s in fams[family].samples:
        if sample is None or s.name == sample:
            return s.value
    raise KeyError(sample)
for label, parse, path in (("openmetrics", om_parse, "/om.txt"), ("prometheus", prom_parse, "/prom.txt")):
    try:
        f = families(parse, w + path)
    except Exception as e:
        print("FAIL %s: does not parse: %s" % (label, e))
        continue
    print("ok %s: parses (%d families)" % (label, len(f)))
    checks = [
        (value(f, "seglog_records"), st["records"], "records"),
        (value(f, "seglog_fdatasyncs"), st["fsyncs"], "fdatasyncs"),
        (value(f, "seglog_durable_seq"), st["seq"], "durable seq"),
    ]
    rss = value(f, "seglog_resident_memory_bytes")  # (it moves between two status calls)
    checks.append((rss % 1024 == 0 and 0.5 < rss / (st["rss_kb"] * 1024) < 2, True,
                   "resident memory in bytes, near rss_kb * 1024"))
    h = f["seglog_commit_latency_seconds"]
    buckets = [s for s in h.samples if s.name.endswith("_bucket")]
    counts = [s.value for s in buckets]
    checks.append((counts == sorted(counts), True, "histogram buckets cumulative"))
    checks.append((buckets[-1].labels["le"] in ("+Inf", "inf"), True, "last bucket +Inf"))
    checks.append((value(f, "seglog_commit_latency_seconds", "seglog_commit_latency_seconds_count"),
                   st["commits"], "histogram count = commits"))
    checks.append((len(buckets), 32, "32 buckets"))
    states = [s for s in f["seglog_state"].samples]
    checks.append((sum(s.value for s in states), 1, "exactly one state set"))
    checks.append((f["seglog_records"].type, "counter", "records is a counter"))
    if label == "openmetrics":
        checks.append((f["seglog_state"].type, "stateset", "state is a stateset"))
        checks.append((f["seglog_daemon"].type, "info", "daemon is an info"))
    for got, want, what in checks:
        print("%s %s: %s (%s, want %s)" % ("ok" if got == want else "FAIL", label, what, got, want))
PY
"$promtool" check metrics < "$w/prom.txt" > "$w/promtool.out" 2>&1
check_eq "promtool check metrics: -o prometheus is clean (no lint problem)" "$?" 0
sed 's/^/# /' "$w/promtool.out"
sed 's/^/# /' "$w/check.out"
check_eq "both expositions parse and say what the status says" "$(grep -c '^FAIL' "$w/check.out")" 0
check "... (the checks ran: 24 lines)" test "$(grep -c '^ok' "$w/check.out")" -ge 24
summary
