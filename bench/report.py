#!/usr/bin/env python3
"""Writes bench/run-all's results into docs/bench.md (issue #14).

  report.py OUTDIR DOC PNG

OUTDIR holds what run-all's scripts left there: peers.tsv, peers-verify.tsv,
latency.tsv ("case<TAB>metric<TAB>value", one line per run), meta.txt (the
machine and the peers' versions) and NAME.txt (the text table of each other
script).  Writes the Markdown between DOC's <!-- run-all:begin --> and
<!-- run-all:end --> lines (benchlib.py section) and the plot PNG with
gnuplot: throughput and CPU per record of each stream case.
"""
import os, statistics, subprocess, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

S6 = "s6-log (relay, no fsync)"
RS_ON = "rsyslog imptcp, sync=on"
RS_DG = "dgram: rsyslog imuxsock, sync=off"
SG_DG = "dgram: seglogd, fsync"
SG_FSYNC = "seglogd syslog stream, fsync"
SG_WRITE = "seglogd syslog stream, write"
NAT_FSYNC = "seglogd native+acks, fsync"
BASE_FSYNC = "seglogd baseline syslog stream, fsync"
BASE_NAT = "seglogd baseline native+acks, fsync"
FIO = "fio 4k append+fdatasync"
ONE = "seglogd 1 client -w 1, fsync"
ONE_PIN = "seglogd 1 client -w 1, fsync, one CPU"


def load(path):
    """{case: {metric: [values]}} in the order the cases first appear."""
    d = {}
    if not os.path.exists(path):
        return d
    for line in open(path):
        c, m, v = line.rstrip("\n").split("\t")
        d.setdefault(c, {}).setdefault(m, []).append(float(v))
    return d


def med(d, c, m):
    v = d.get(c, {}).get(m)
    return statistics.median(v) if v else None


def spread(d, c, m):
    """(max - min) / median of one metric over the runs, in percent."""
    v = d.get(c, {}).get(m)
    if not v or len(v) < 2 or not statistics.median(v):
        return "-"
    return "%.0f%%" % (100 * (max(v) - min(v)) / statistics.median(v))


def every_run(d, metrics):
    """A <details> block with each run's value of each metric, for the noise."""
    rows = [[c, m, " / ".join(benchlib.fmt(x) for x in d[c][m])]
            for c in d for m in metrics if m in d[c]]
    return "\n".join(["<details><summary>every run, round 1 / 2 / 3</summary>", "",
                      table(["case", "metric", "runs"], rows), "", "</details>"])


def paired(d, c, base, m, op):
    """The median over rounds of op(c's value, base's value) in the same
    round: the cases of a round ran minutes apart at most, the rounds
    further, so pairing them cancels the drift of the machine's load.
    Falls back to op of the medians when the run counts differ."""
    a, b = d.get(c, {}).get(m), d.get(base, {}).get(m)
    if not a or not b:
        return None
    if len(a) != len(b):
        return op(statistics.median(a), statistics.median(b))
    return statistics.median(op(x, y) for x, y in zip(a, b))


def ratio(d, c, base, m="rec/s"):
    return paired(d, c, base, m, lambda x, y: x / y if y else float("nan"))


def diff(d, c, base, m="p50_us"):
    return paired(d, c, base, m, lambda x, y: x - y)


def fx(v, unit=""):
    return "-" if v is None else benchlib.fmt(v) + unit


def fr(v):
    return "-" if v is None else "%.2f×" % v


def verification(path):
    """{case: "3/3 runs: 0 lost, 0 duplicated, 0 corrupt"} or the failures."""
    runs = {}
    if os.path.exists(path):
        for line in open(path):
            c, v = line.rstrip("\n").split("\t", 1)
            runs.setdefault(c, []).append(v)
    out = {}
    for c, vs in runs.items():
        ok = [v for v in vs if v.endswith(": 0 lost, 0 duplicated, 0 corrupt")]
        if len(ok) == len(vs):
            out[c] = "%d/%d runs: 0 lost, 0 dup, 0 corrupt" % (len(ok), len(vs))
        else:
            bad = "; ".join(v.split(": ", 1)[-1] for v in vs if v not in ok)
            out[c] = "**%d/%d runs FAILED**: %s" % (len(vs) - len(ok), len(vs), bad)
    return out


def table(head, rows):
    lines = ["| " + " | ".join(head) + " |", "|---" + "|---:" * (len(head) - 1) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def stream_table(p, ver):
    rows = []
    for c in p:
        if c.startswith("dgram:"):
            continue
        rows.append([c, fx(med(p, c, "rec/s")), spread(p, c, "rec/s"), fx(med(p, c, "MB/s")),
                     fx(med(p, c, "cpu_us/rec")), fx(med(p, c, "relay_us/rec")),
                     fx(med(p, c, "rss_MiB")), ver.get(c, "-"),
                     fr(ratio(p, c, S6)),
                     fr(ratio(p, c, RS_ON))])
    return table(["case", "rec/s", "spread", "MB/s", "daemon µs/rec", "relay µs/rec", "peak RSS MiB",
                  "verified", "× s6-log", "× rsyslog sync=on"], rows)


def dgram_table(p, ver):
    rows = []
    for c in p:
        if c.startswith("dgram:"):
            rows.append([c[len("dgram: "):], fx(med(p, c, "rec/s")), spread(p, c, "rec/s"),
                         fx(med(p, c, "cpu_us/rec")),
                         fx(med(p, c, "rss_MiB")), ver.get(c, "-"),
                         fr(ratio(p, c, RS_DG))])
    return table(["case", "datagrams/s", "spread", "daemon µs/datagram", "peak RSS MiB", "verified",
                  "× rsyslog"], rows)


def latency_table(lt):
    rows = []
    for c in lt:
        rows.append([c, fx(med(lt, c, "MB/s")), fx(med(lt, c, "p50_us")), fx(med(lt, c, "p99_us")),
                     fx(med(lt, c, "write_p50_us")),
                     fx(diff(lt, c, FIO))])
    return table(["case", "MB/s", "p50 µs", "p99 µs", "write p50 µs", "p50 − fio p50 µs"], rows)


def targets(p, lt):
    """PRODUCT.md §10's targets against this run's figures: (what, figure, met)."""
    def t(what, v, ok, unit="×"):
        shown = fr(v) if unit == "×" else fx(v, unit)
        met = "-" if v is None or ok is None else ("yes" if ok(v) else "**no**")
        return [what, shown, met]

    rss = [med(p, c, "rss_MiB") for c in p if "seglogd" in c]
    return table(["target", "this run", "met"], [
        t("seglogd stream fsync ≥ 2.5× s6-log (no fsync)",
          ratio(p, SG_FSYNC, S6), lambda v: v >= 2.5),
        t("seglogd stream fsync ≥ 5× rsyslog sync=on",
          ratio(p, SG_FSYNC, RS_ON), lambda v: v >= 5),
        t("daemon CPU ≤ 0.25 µs/record, syslog stream, fsync",
          med(p, SG_FSYNC, "cpu_us/rec"), lambda v: v <= 0.25, " µs"),
        t("daemon CPU ≤ 0.25 µs/record, syslog stream, write",
          med(p, SG_WRITE, "cpu_us/rec"), lambda v: v <= 0.25, " µs"),
        t("native 8 clients fsync+acks ≥ 1.5× the baseline build (BENCH_BASELINE)",
          ratio(p, NAT_FSYNC, BASE_NAT), lambda v: v >= 1.5),
        t("syslog stream fsync against the baseline build (no target)",
          ratio(p, SG_FSYNC, BASE_FSYNC), None),
        t("native 8 clients fsync+acks faster than syslog stream fsync",
          ratio(p, NAT_FSYNC, SG_FSYNC), lambda v: v > 1),
        t("datagrams: daemon CPU ≤ 0.6 µs/datagram", med(p, SG_DG, "cpu_us/rec"),
          lambda v: v <= 0.6, " µs"),
        t("datagrams: ≥ 2× rsyslog (no sync)",
          ratio(p, SG_DG, RS_DG), lambda v: v >= 2),
        t("one client -w 1, fsync: p50 within 30 µs of fio's fdatasync p50",
          diff(lt, ONE, FIO), lambda v: v <= 30, " µs"),
        t("the same, daemon and client on one CPU (no idle-CPU wake-up)",
          diff(lt, ONE_PIN, FIO), lambda v: v <= 30, " µs"),
        t("seglogd peak RSS ≤ 32 MiB (every seglogd row)", max(rss) if rss else None,
          lambda v: v <= 32, " MiB"),
    ])


def plot(p, png, work, desc):
    """Two panels: throughput, and CPU per record (daemon + relay stacked)."""
    dat = os.path.join(work, "plot.dat")
    with open(dat, "w") as f:
        for c in p:
            if c.startswith("dgram:"):
                continue
            label = c.replace(" (relay, no fsync)", "").replace("syslog stream", "stream").replace(
                "rsyslog imptcp, ", "rsyslog ").replace("native+acks", "native").replace(",", "")
            f.write('"%s" %g %g %g\n' % (label, (med(p, c, "rec/s") or 0) / 1e3,
                                         med(p, c, "cpu_us/rec") or 0,
                                         med(p, c, "relay_us/rec") or 0))
    gp = """
set terminal pngcairo size 1000,760 font ",10"
set output '%s'
set multiplot layout 2,1 title "%s over a Unix stream socket (medians; bench/run-all)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.8
set grid ytics
set xtics rotate by -25 scale 0
set key top left
set ylabel "thousand records/s"
plot '%s' using 2:xtic(1) title "throughput" lc rgb "#3060a0"
set style histogram rowstacked
set ylabel "CPU µs per record"
plot '%s' using 3:xtic(1) title "daemon" lc rgb "#c05030", '' using 4 title "relay (s6-log, svlogd)" lc rgb "#e0a040"
unset multiplot
""" % (png, desc, dat, dat)
    gpf = os.path.join(work, "plot.gp")
    open(gpf, "w").write(gp)
    subprocess.run(["gnuplot", gpf], check=True)


def main(outdir, doc, png):
    p = load(os.path.join(outdir, "peers.tsv"))
    lt = load(os.path.join(outdir, "latency.tsv"))
    ver = verification(os.path.join(outdir, "peers-verify.tsv"))
    meta = open(os.path.join(outdir, "meta.txt")).read().rstrip("\n")
    rel = os.path.relpath(png, os.path.dirname(doc))
    k, m, size, dm = (int(x) for x in open(os.path.join(outdir, "peers-load.txt")).read().split())
    desc = "%d clients × %s × %d B" % (k, "{:,}".format(m), size)
    parts = [
        "_Written by `bench/run-all`; edit the prose outside the markers, not this section._",
        "", "```", meta, "```", "",
        "### Targets (PRODUCT.md §10)", "", targets(p, lt), "",
        "### Stream: %s, Unix stream socket, newline framing, 64 KiB writes" % desc,
        "", stream_table(p, ver), "",
        "![throughput and CPU per record of each peer](%s)" % rel, "",
        "### Datagrams: 1 client × {:,} lines, one per datagram (64 per sendmmsg)".format(dm),
        "", dgram_table(p, ver), "",
        "### The disk (fio, same filesystem) and one client waiting for each ack",
        "", latency_table(lt), "",
        "`spread` is (max − min) / median of the runs' rec/s. Every ratio and difference "
        "(× columns, targets, p50 − fio) is the median of the per-round ratios or differences, "
        "each case against the other in the same round, not a ratio of the medians.", "",
        every_run(p, ["rec/s", "cpu_us/rec", "relay_us/rec"]), "",
        every_run(lt, ["MB/s", "p50_us"]), "",
    ]
    for name in ["send", "ingest", "open-time", "verify", "read"]:
        f = os.path.join(outdir, name + ".txt")
        if os.path.exists(f):
            parts += ["### bench/%s.sh" % name, "", "```", open(f).read().rstrip("\n"), "```", ""]
    if p:
        plot(p, png, outdir, desc)
    body = os.path.join(outdir, "section.md")
    open(body, "w").write("\n".join(parts))
    benchlib.section(doc, body)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    main(*sys.argv[1:])
