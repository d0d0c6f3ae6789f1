#!/usr/bin/env python3
"""The power-loss layer's self-test (run by selftest.sh): the layer must be
able to fail.  Each case prepares durable files straight in the backing
directory, mounts plfs, runs writer.py's steps through the mount, cuts the
power and looks at what is left.  For every model it applies to, a case says
which outcomes are allowed and whether data must be lost: under strict in
every run, under torn and reordered in at least one of the seeds (their
choice is random; the same seed and the same operations give the same
outcome).  A writer that syncs properly loses nothing under any model/seed.

usage: selftest.py PLFS WORKDIR"""
import os, signal, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from writer import pattern  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SEEDS = range(1, 9)
MODELS = ("strict", "torn", "reordered")
passed = failed = 0


def ok(cond, what):
    global passed, failed
    if cond:
        passed += 1
        print("ok - " + what)
    else:
        failed += 1
        print("FAIL - " + what)


def run(plfs, w, model, seed, setup, steps, extra=()):
    """Mounts, runs the steps, cuts; returns (backing dir, writer output,
    plfs stats as a dict)."""
    b, m = os.path.join(w, "b"), os.path.join(w, "m")
    subprocess.run(["rm", "-rf", b, b + ".plfs-shadow"], check=True)
    os.makedirs(b)
    os.makedirs(m, exist_ok=True)
    for name, data in setup.items():
        os.makedirs(os.path.dirname(os.path.join(b, name)), exist_ok=True)
        with open(os.path.join(b, name), "wb") as f:
            f.write(data)
    stats = os.path.join(w, "stats")
    with open(os.path.join(w, "plfs.log"), "a") as log:
        p = subprocess.Popen([plfs, "--model", model, "--seed", str(seed), "--stats", stats,
                              *extra, b, m], stderr=log)
        for _ in range(200):
            if os.path.ismount(m) or p.poll() is not None:
                break
            time.sleep(0.02)
        if not os.path.ismount(m):
            raise SystemExit("plfs did not mount (see %s/plfs.log)" % w)
        out = subprocess.run([sys.executable, os.path.join(HERE, "writer.py"), m, *steps],
                             stdout=subprocess.PIPE, text=True).stdout.strip()
        if p.poll() is None:
            p.send_signal(signal.SIGUSR1)
        rc = p.wait(timeout=60)
    if rc != 0:
        raise SystemExit("plfs exited %d" % rc)
    st = {}
    for line in open(stats):
        k, _, v = line.rstrip("\n").partition(" ")
        st[k if k != "op" else "op " + v.split()[0]] = v if k != "op" else v.split()[1:]
    return b, out, st


def read(b, name):
    p = os.path.join(b, name)
    return open(p, "rb").read() if os.path.isfile(p) else None


def names(b):
    return sorted(os.listdir(b))


def case(plfs, w, title, setup, steps, models, judge, must_lose, extra=()):
    """judge(model, backing, writer output) -> (allowed, lost, detail)."""
    for model in models:
        seeds = [1] if model == "strict" else SEEDS
        bad, losses = [], 0
        for seed in seeds:
            b, out, st = run(plfs, w, model, seed, setup, steps, extra)
            allowed, lost, detail = judge(model, b, out, st)
            losses += lost
            if not allowed:
                bad.append("seed %d: %s" % (seed, detail))
        ok(not bad, "%s [%s]: every outcome allowed %s" % (title, model, "; ".join(bad[:3])))
        if must_lose:
            want = len(seeds) if model == "strict" else 1
            ok(losses >= want, "%s [%s]: the layer lost data in %d of %d runs (want >= %d)" %
               (title, model, losses, len(seeds), want))
        else:
            ok(losses == 0, "%s [%s]: nothing lost in %d runs" % (title, model, len(seeds)))


def prefix_or_blocks(model, c, base, full):
    """Is file content c what the model may leave of full, when base was
    durable?  strict: base; torn: a prefix of full, at least base, cut at a
    512-byte boundary (or whole); reordered: base, then each 512-byte block
    either full's or zeros."""
    if c is None or c[:len(base)] != base or len(c) > len(full):
        return False
    if model == "strict":
        return c == base
    if len(c) % 512 and len(c) != len(full):
        return False
    if model == "torn":
        return c == full[:len(c)]
    return all(c[i:i + 512] in (full[i:i + 512], bytes(len(c[i:i + 512])))
               for i in range(len(base), len(c), 512))


def main(plfs, w):
    base, full = pattern(0, 4096), pattern(0, 24096)
    A, B = b"A" * 1000, pattern(0, 8192)

    def append_judge(sync):
        def judge(model, b, out, st):
            c = read(b, "f")
            good = c == full if sync else prefix_or_blocks(model, c, base, full)
            return good, c != full, "f has %s bytes" % (None if c is None else len(c))
        return judge
    case(plfs, w, "append, no fdatasync", {"f": base}, ["write:f:20000"], MODELS,
         append_judge(False), True)
    case(plfs, w, "append + fdatasync", {"f": base}, ["write:f:20000", "fdatasync:f"], MODELS,
         append_judge(True), False)

    def rename_judge(model, b, out, st):
        n = names(b)
        good = read(b, "old") == A and all(read(b, x) == B for x in ("tmp", "new") if x in n)
        good = good and n in (["old"], ["old", "tmp"], ["new", "old"])
        if model == "strict":
            good = good and n == ["old"]
        return good, "new" not in n, "entries %s" % n
    rename_steps = ["write:tmp:8192", "fdatasync:tmp", "rename:tmp:new"]
    case(plfs, w, "create + fdatasync + rename, no directory fsync", {"old": A}, rename_steps,
         MODELS, rename_judge, True)
    case(plfs, w, "create + fdatasync + rename + directory fsync", {"old": A},
         rename_steps + ["fsyncdir:."], MODELS,
         lambda m, b, o, s: (names(b) == ["new", "old"] and read(b, "new") == B, names(b) != ["new", "old"],
                             "entries %s" % names(b)), False)

    def replace_judge(model, b, out, st):
        n, old = names(b), read(b, "old")
        good = old in (A, B) and (model != "strict" or (n == ["old"] and old == A))
        good = good and (n == ["old"] or (n == ["old", "tmp"] and old == A and read(b, "tmp") == B))
        return good, old != B, "entries %s, old %s" % (n, "A" if old == A else "B" if old == B else old)
    case(plfs, w, "atomic replace, no directory fsync (old content must come back)", {"old": A},
         ["write:tmp:8192", "fdatasync:tmp", "rename:tmp:old"], MODELS, replace_judge, True)
    case(plfs, w, "atomic replace + directory fsync", {"old": A},
         ["write:tmp:8192", "fdatasync:tmp", "rename:tmp:old", "fsyncdir:."], MODELS,
         lambda m, b, o, s: (names(b) == ["old"] and read(b, "old") == B, read(b, "old") != B,
                             "entries %s" % names(b)), False)

    def creates_judge(model, b, out, st):
        n = names(b)
        allowed = {"strict": [[]], "torn": [[], ["a"], ["a", "b"], ["a", "b", "c"]]}.get(model)
        good = (n in allowed if allowed else set(n) <= {"a", "b", "c"}) and \
            all(prefix_or_blocks(model, read(b, x), b"", pattern(0, 10)) for x in n)
        return good, n != ["a", "b", "c"], "entries %s" % n
    case(plfs, w, "three creates, no directory fsync (torn keeps a prefix in issue order)", {},
         ["write:a:10", "write:b:10", "write:c:10"], MODELS, creates_judge, True)

    f5 = pattern(0, 5000)
    mk_steps = ["mkdir:d", "write:d/f:5000", "fdatasync:d/f", "fsyncdir:d"]

    def mkdir_judge(model, b, out, st):
        n, c = names(b), read(b, "d/f")
        good = n == [] or (n == ["d"] and c == f5)
        if model == "strict":
            good = good and n == []
        return good, c != f5, "entries %s" % n
    case(plfs, w, "mkdir + file synced + fsyncdir(new dir), parent not synced", {}, mk_steps,
         MODELS, mkdir_judge, True)
    case(plfs, w, "mkdir + file synced + fsyncdir(new dir) + fsyncdir(parent)", {},
         mk_steps + ["fsyncdir:."], MODELS,
         lambda m, b, o, s: (read(b, "d/f") == f5, read(b, "d/f") != f5, "entries %s" % names(b)), False)
    case(plfs, w, "create + write + fsync of the file only (POSIX: the name is not durable)", {},
         ["write:n:4096", "fsync:n"], ["strict"],
         lambda m, b, o, s: (names(b) == [], "n" not in names(b), "entries %s" % names(b)), True)

    g = pattern(0, 3000)
    case(plfs, w, "unlink, no directory fsync (the file comes back whole)", {"g": g}, ["unlink:g"],
         MODELS, lambda m, b, o, s: (names(b) in ([], ["g"]) and (read(b, "g") in (None, g)) and
                                     (m != "strict" or read(b, "g") == g), "g" in names(b),
                                     "entries %s" % names(b)), True)
    case(plfs, w, "unlink + directory fsync", {"g": g}, ["unlink:g", "fsyncdir:."], MODELS,
         lambda m, b, o, s: (names(b) == [], names(b) != [], "entries %s" % names(b)), False)

    h = pattern(0, 10000)
    case(plfs, w, "truncate, no fsync", {"h": h}, ["truncate:h:100"], MODELS,
         lambda m, b, o, s: (read(b, "h") in (h, h[:100]) and (m != "strict" or read(b, "h") == h),
                             read(b, "h") != h[:100], "h has %d bytes" % len(read(b, "h") or b"")), True)
    case(plfs, w, "truncate + fsync", {"h": h}, ["truncate:h:100", "fsync:h"], MODELS,
         lambda m, b, o, s: (read(b, "h") == h[:100], read(b, "h") != h[:100], "h"), False)

    f6 = pattern(0, 6000)
    case(plfs, w, "cut at the fdatasync (it never happens)", {"f": b""},
         ["write:f:6000", "fdatasync:f"], ["strict"],
         lambda m, b, o, s: (read(b, "f") == b"" and o == "fdatasync:f EIO", read(b, "f") != f6,
                             "writer said %r, f has %d bytes" % (o, len(read(b, "f") or b""))),
         True, ["--cut-at", "fdatasync:1"])
    case(plfs, w, "cut right after the fdatasync (done, but its caller sees EIO)", {"f": b""},
         ["write:f:6000", "fdatasync:f"], MODELS,
         lambda m, b, o, s: (read(b, "f") == f6 and o == "fdatasync:f EIO", read(b, "f") != f6,
                             "writer said %r" % o), False, ["--cut-after", "fdatasync:1"])
    case(plfs, w, "link, no directory fsync", {"f": base}, ["link:f:f2"], ["strict"],
         lambda m, b, o, s: (names(b) == ["f"], "f2" not in names(b), "entries %s" % names(b)), True)
    case(plfs, w, "link + symlink + directory fsync", {"f": base},
         ["link:f:f2", "symlink:f:s", "fsyncdir:."], MODELS,
         lambda m, b, o, s: (names(b) == ["f", "f2", "s"] and read(b, "f2") == base and
                             os.readlink(os.path.join(b, "s")) == "f" and
                             os.stat(os.path.join(b, "f")).st_nlink == 2, False,
                             "entries %s" % names(b)), False)

    # the counters say which operations reached the layer, and from where
    b, out, st = run(plfs, w, "strict", 1, {}, ["write:x:100", "fdatasync:x", "rename:x:y",
                                                "fsyncdir:.", "unlink:y", "fsync:."])
    ok(st["op write"] == ["1", "0"] and st["op fdatasync"] == ["1", "0"] and
       st["op rename"] == ["1", "0"] and st["op unlink"] == ["1", "0"] and
       st["op fsyncdir"] == ["2", "0"] and st["op create"] == ["1", "0"],
       "each system call reached the layer as itself, from an ordinary thread: %s" %
       {k: v for k, v in st.items() if k.startswith("op ") and v != ["0", "0"]})
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
