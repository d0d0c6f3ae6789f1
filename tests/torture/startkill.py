#!/usr/bin/env python3
"""Starts seglogd and SIGKILLs it during its start-up, for the torture.

usage: startkill.py DATADIR LOG MODE SEED -- SEGLOGD ARGS...

MODE "recovery" waits until the daemon holds the data directory open (it
has begun store_open(): lock, listing, recovery of current), then kills it
0..400 us later, busy-waiting, so that the kill lands inside recovery most
of the time; MODE "uniform" kills it 0..15 ms after the fork.  Where the
kill landed is read from what the daemon logged (LOG, appended to) before
it died, not assumed:
  before-open     the data directory was never seen open
  in-recovery     open, but no "Recovered" line yet
  before-ready    "Recovered" logged, "ready" not yet
  after-ready     "ready" logged (an idle daemon, no clients)
Prints "CLASS STATUS" (STATUS as the shell's wait reports it: 137 for
SIGKILL) and exits 0; the caller asserts the status."""
import os, random, signal, subprocess, sys, time


def holds_dir(pid, d):
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                if os.readlink("/proc/%d/fd/%s" % (pid, fd)) in d:
                    return True
            except OSError:
                pass
    except OSError:
        pass
    return False


def main(argv):
    d, log, mode, seed = argv[1], argv[2], argv[3], int(argv[4])
    cmd = argv[argv.index("--") + 1:]
    rnd = random.Random(seed)
    real = os.path.realpath(d)
    targets = (real, real + "/current", real + "/lock")
    with open(log, "ab") as lf:
        off = lf.tell()
        p = subprocess.Popen(cmd, stdout=lf, stderr=subprocess.STDOUT)
    seen = False
    t0 = time.monotonic()
    if mode == "recovery":
        while time.monotonic() - t0 < 5 and p.poll() is None:
            if holds_dir(p.pid, targets):
                seen = True
                break
        until = time.monotonic() + rnd.uniform(0, 400e-6)
        while time.monotonic() < until:
            pass
    else:
        until = t0 + rnd.uniform(0, 15e-3)
        while time.monotonic() < until:
            seen = seen or holds_dir(p.pid, targets)
    p.send_signal(signal.SIGKILL)
    rc = p.wait()
    with open(log, "rb") as f:
        f.seek(off)
        text = f.read()
    if b" ready: " in text:
        cls = "after-ready"
    elif b"Recovered " in text:
        cls = "before-ready"
    elif seen or b"Cut a torn tail" in text:
        cls = "in-recovery"
    else:
        cls = "before-open"
    print(cls, 128 - rc if rc < 0 else rc)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
