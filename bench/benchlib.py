#!/usr/bin/env python3
"""Helpers for the bench/ scripts (not part of `make check`).

  benchlib.py gen N FILE            N lines of exactly 100 bytes (with "\\n")
  benchlib.py run [--feed FILE] [--count-lines] [--out FILE] -- CMD...
      runs CMD (stdin from `cat FILE` through a pipe with --feed) and prints
      "wall_s W cpu_s C rchar R read_bytes B syscr N lines L rc X"
      for CMD alone: its /proc/PID/io is read before it is reaped.
  benchlib.py ready -- CMD...       starts a daemon, prints the seconds from
      exec to its " ready: " line on stderr, then stops it with SIGTERM
  benchlib.py waitstable DIR [QUIET_S] [TIMEOUT_S]
      polls the total size of DIR's files until it has not changed for
      QUIET_S (1.0); prints the epoch time of the last change
  benchlib.py waitlines PATH N [QUIET_S] [TIMEOUT_S]
      polls a file, or every file of a directory (rotation renames are
      followed by inode), counting the complete lines that hold "lg C="
      (bench/loadgen's records), until N are there or nothing was added
      for QUIET_S (5); prints "T COUNT", T the epoch time of the poll that
      saw the last of them
  benchlib.py summary FILE [--ratio METRIC:CASE]... [--title T] [--md]
      FILE holds "case<TAB>metric<TAB>value" lines (one per run); prints one
      row per case with the median of each metric, and for each --ratio a
      column METRIC / METRIC of CASE (--ratio METRIC:CASE:LABEL names it);
      --md: as a Markdown table
  benchlib.py median FILE CASE METRIC
      the median of one metric of one case ("-" if none)
  benchlib.py section DOC BODY
      replaces what lies between the lines <!-- run-all:begin --> and
      <!-- run-all:end --> of DOC with the file BODY
"""
import os, signal, statistics, subprocess, sys, time


def gen(n, path):
    pad = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor " * 2
    with open(path, "w") as f:
        for i in range(int(n)):
            s = "seglog-bench %09d %s" % (i, pad)
            f.write(s[:99] + "\n")


def run(argv):
    feed = out = None
    count = False
    while argv and argv[0] != "--":
        a = argv.pop(0)
        if a == "--feed":
            feed = argv.pop(0)
        elif a == "--out":
            out = argv.pop(0)
        elif a == "--count-lines":
            count = True
        else:
            raise SystemExit("run: unknown option " + a)
    cmd = argv[1:]
    feeder = None
    stdin = subprocess.DEVNULL
    t0 = time.perf_counter()
    if feed:
        feeder = subprocess.Popen(["cat", feed], stdout=subprocess.PIPE)
        stdin = feeder.stdout
    stdout = subprocess.PIPE if count else (open(out, "wb") if out else subprocess.DEVNULL)
    p = subprocess.Popen(cmd, stdin=stdin, stdout=stdout)
    if feeder:
        feeder.stdout.close()
    lines = 0
    if count:
        while True:
            b = p.stdout.read(1 << 20)
            if not b:
                break
            lines += b.count(b"\n")
    os.waitid(os.P_PID, p.pid, os.WEXITED | os.WNOWAIT)
    wall = time.perf_counter() - t0
    io = dict(l.split(": ") for l in open("/proc/%d/io" % p.pid).read().split("\n") if l)
    _, status, ru = os.wait4(p.pid, 0)
    if feeder:
        feeder.wait()
    print("wall_s %.6f cpu_s %.3f rchar %s read_bytes %s syscr %s lines %d rc %d" % (
        wall, ru.ru_utime + ru.ru_stime, io["rchar"], io["read_bytes"], io["syscr"],
        lines, os.waitstatus_to_exitcode(status)))


def ready(cmd):
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    for line in p.stderr:
        if b" ready: " in line:
            print("%.6f" % (time.perf_counter() - t0))
            break
    else:
        raise SystemExit("daemon exited before it was ready: %s" % cmd)
    p.send_signal(signal.SIGTERM)
    p.stderr.read()
    p.wait()


def dir_size(d):
    total = 0
    for e in os.scandir(d):
        try:
            if e.is_file(follow_symlinks=False):
                total += e.stat(follow_symlinks=False).st_size
        except FileNotFoundError:
            pass
    return total


def waitstable(d, quiet=1.0, timeout=600.0):
    start = last_t = time.time()
    last = dir_size(d)
    while True:
        time.sleep(0.005)
        now = time.time()
        s = dir_size(d)
        if s != last:
            last, last_t = s, now
        elif now - last_t >= quiet:
            break
        if now - start > timeout:
            raise SystemExit("waitstable: %s still changing after %ss" % (d, timeout))
    print("%.6f" % last_t)


class _Tail:
    """The part of one file not read yet, and its last partial line."""

    def __init__(self, path):
        self.fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        self.carry = b""

    def count(self, magic):
        n = 0
        while True:
            b = os.read(self.fd, 1 << 20)
            if not b:
                return n
            b = self.carry + b
            cut = b.rfind(b"\n") + 1
            n += b.count(magic, 0, cut)
            self.carry = b[cut:]


def waitlines(path, want, quiet=5.0, timeout=600.0):
    """Counts loadgen's records in PATH as they arrive: reading only what was
    appended costs the machine little, and the end is seen within one poll
    (5 ms) instead of after a quiet period.  Each file is followed by inode,
    so s6-log's rename of `current` to @....s is no new file."""
    tails, count = {}, 0
    start = last_t = time.time()
    while True:
        names = [path] if not os.path.isdir(path) else \
            [os.path.join(path, e) for e in os.listdir(path)]
        for f in names:
            try:
                ino = os.stat(f).st_ino
                if ino not in tails:
                    tails[ino] = _Tail(f)
            except (FileNotFoundError, IsADirectoryError, PermissionError):
                continue
        got = sum(t.count(b"lg C=") for t in tails.values())
        now = time.time()
        if got:
            count, last_t = count + got, now
        if count >= want or now - last_t >= quiet or now - start >= timeout:
            break
        time.sleep(0.005)
    print("%.6f %d" % (last_t, count))


def fmt(v):
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    a = abs(v)
    if a >= 1e6:
        return "%.2fM" % (v / 1e6)
    if a >= 1e4:
        return "%.0fk" % (v / 1e3)
    if a >= 100 or v == int(v):
        return "%.0f" % v
    if a >= 1:
        return "%.2f" % v
    return "%.3g" % v


def summary(argv):
    path = argv.pop(0)
    ratios, title, md = [], None, False
    while argv:
        a = argv.pop(0)
        if a == "--ratio":
            r = argv.pop(0).split(":", 2)
            ratios.append(r if len(r) == 3 else r + ["%s/%s" % tuple(r)])
        elif a == "--title":
            title = argv.pop(0)
        elif a == "--md":
            md = True
    cases, metrics, vals = [], [], {}
    for line in open(path):
        c, m, v = line.rstrip("\n").split("\t")
        if c not in cases:
            cases.append(c)
        if m not in metrics:
            metrics.append(m)
        try:
            v = float(v)
        except ValueError:
            pass
        vals.setdefault((c, m), []).append(v)

    def med(c, m):
        v = vals.get((c, m))
        if not v:
            return None
        if isinstance(v[0], str):
            return v[-1]
        return statistics.median(v)

    head = ["case", "runs"] + metrics + [label for _, _, label in ratios]
    rows = []
    for c in cases:
        n = max(len(vals.get((c, m), [])) for m in metrics)
        row = [c, str(n)] + [fmt(med(c, m)) for m in metrics]
        for m, b, _ in ratios:
            x, y = med(c, m), med(b, m)
            row.append("%.2fx" % (x / y) if isinstance(x, float) and isinstance(y, float) and y
                       else "-")
        rows.append(row)
    if md:
        if title:
            print(title + "\n")
        print("| " + " | ".join(head) + " |")
        print("|---" + "|---:" * (len(head) - 1) + "|")
        for r in rows:
            print("| " + " | ".join(r) + " |")
        return
    w = [max(len(r[i]) for r in [head] + rows) for i in range(len(head))]
    if title:
        print(title)
    for r in [head] + rows:
        print("  ".join(r[i].ljust(w[i]) if i == 0 else r[i].rjust(w[i]) for i in range(len(r))))


def median(path, case, metric):
    v = []
    for line in open(path):
        c, m, x = line.rstrip("\n").split("\t")
        if c == case and m == metric:
            v.append(float(x))
    print(("%.6g" % statistics.median(v)) if v else "-")


def section(doc, body):
    begin, end = "\n<!-- run-all:begin -->\n", "\n<!-- run-all:end -->\n"
    text = open(doc).read()
    i, j = text.find(begin), text.find(end)
    if i < 0 or j < i:
        raise SystemExit("section: %s has no lines %s ... %s: add them where the "
                         "results go" % (doc, begin.strip(), end.strip()))
    new = text[:i + len(begin)] + open(body).read().rstrip("\n") + text[j:]
    tmp = doc + ".tmp"
    with open(tmp, "w") as f:
        f.write(new)
    os.rename(tmp, doc)


def main(argv):
    if not argv:
        raise SystemExit(__doc__)
    cmd = argv.pop(0)
    if cmd == "gen":
        gen(*argv)
    elif cmd == "run":
        run(argv)
    elif cmd == "ready":
        ready(argv[1:] if argv[0] == "--" else argv)
    elif cmd == "waitstable":
        waitstable(argv[0], *(float(a) for a in argv[1:]))
    elif cmd == "waitlines":
        waitlines(argv[0], int(argv[1]), *(float(a) for a in argv[2:]))
    elif cmd == "summary":
        summary(argv)
    elif cmd == "median":
        median(*argv)
    elif cmd == "section":
        section(*argv)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
