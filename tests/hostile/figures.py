#!/usr/bin/env python3
"""Turns the prober's samples and the phase windows into figures.

  figures.py SAMPLES PHASES RSS

PHASES has lines "<name> <rep> <start ns> <end ns>"; phases named "idle"
are the baseline.  Prints a table (p50/p99/max ack latency and peak RSS of
each window), then machine-readable lines:
  IDLE_P99 <median of the idle windows' p99, us>
  RATIO <name> <median over reps of p99/idle p99> <p99 of each rep, us...>
  PEAK_RSS <name> <highest VmRSS sampled in its windows, KiB>"""
import statistics
import sys


def pct(v, p):
    if not v:
        return 0
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * p / 100))]


def main():
    samples = [tuple(map(int, l.split())) for l in open(sys.argv[1]) if l.strip()]
    phases = [l.split() for l in open(sys.argv[2]) if l.strip()]
    rss = [tuple(map(int, l.split())) for l in open(sys.argv[3]) if l.strip()]
    rows = []
    for name, rep, a, b in phases:
        a, b = int(a), int(b)
        lat = [l for t, l in samples if a <= t < b]
        mem = [r for t, r, h in rss if a <= t < b + 100_000_000]
        rows.append((name, int(rep), len(lat), pct(lat, 50), pct(lat, 99), max(lat or [0]),
                     max(mem or [0])))
    print("# %-12s %3s %7s %8s %8s %8s %9s" % ("phase", "rep", "acks", "p50 us", "p99 us",
                                              "max us", "rss KiB"))
    for r in rows:
        print("# %-12s %3d %7d %8d %8d %8d %9d" % r)
    idle = [r[4] for r in rows if r[0] == "idle" and r[2] > 0]
    base = statistics.median(idle) if idle else 0
    print("IDLE_P99 %d" % base)
    names = []
    for r in rows:
        if r[0] not in names:
            names.append(r[0])
    for n in names:
        reps = [r for r in rows if r[0] == n]
        print("PEAK_RSS %s %d" % (n, max(r[6] for r in reps)))
        if n == "idle":
            continue
        # a window without a single ack means the prober was starved
        ratios = [(r[4] / base if base else 0) if r[2] > 0 else float("inf") for r in reps]
        med = statistics.median(ratios) if ratios else float("inf")
        print("RATIO %s %.2f %s" % (n, med, " ".join(str(r[4]) for r in reps)))


if __name__ == "__main__":
    main()
