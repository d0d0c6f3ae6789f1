#!/usr/bin/env python3
"""A NOTIFY_SOCKET listener (sd_notify(3)) that runs seglogd and checks the
notifications it sends, in order:

  READY=1 (and the native socket accepts at that moment), STATUS=...,
  WATCHDOG=1 at about twice the rate of WATCHDOG_USEC, RELOADING=1 then
  READY=1 on SIGHUP, STOPPING=1 on SIGTERM, exit status 0.

usage: notify_listener.py WORKDIR SEGLOGD [seglogd args...]
Prints "N passed, N failed"; exits 1 on any failure.
"""
import os, signal, socket, subprocess, sys, time

work, seglogd, args = sys.argv[1], sys.argv[2], sys.argv[3:]
path = os.path.join(work, "notify.sock")
sock_path = os.path.join(work, "sock")
ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
ns.bind(path)
ns.settimeout(0.2)
env = dict(os.environ, NOTIFY_SOCKET=path, WATCHDOG_USEC="400000")
env.pop("WATCHDOG_PID", None)
log = open(os.path.join(work, "seglogd.log"), "w")
p = subprocess.Popen([seglogd, "--socket", sock_path] + args, env=env, stderr=log)

events = []  # (time, message)
passed = failed = 0


def check(what, cond):
    global passed, failed
    if cond:
        passed += 1
        print("ok - " + what)
    else:
        failed += 1
        print("FAIL - " + what)


def collect(seconds, until=None):
    end = time.time() + seconds
    while time.time() < end:
        try:
            data = ns.recv(4096).decode()
        except socket.timeout:
            continue
        for line in data.split("\n"):
            if line:
                events.append((time.time(), line))
                if line == "READY=1" and not any(e[1] == "accepted-at-ready" for e in events):
                    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                    try:
                        c.connect(sock_path)
                        events.append((time.time(), "accepted-at-ready"))
                    except OSError as e:
                        events.append((time.time(), "refused-at-ready %s" % e))
                    c.close()
                if until and line == until:
                    return True
    return False


check("READY=1 arrives", collect(10, "READY=1"))
check("the native socket accepts when READY=1 is sent",
      any(e[1] == "accepted-at-ready" for e in events))
collect(2.0)
check("STATUS= sent", any(e[1].startswith("STATUS=") for e in events))
wd = [t for t, m in events if m == "WATCHDOG=1"]
# 400 ms interval, pings every 200 ms: about 10 in 2 s
check("WATCHDOG=1 at half the interval (%d pings in ~2 s)" % len(wd), 6 <= len(wd) <= 14)
mark = len(events)
p.send_signal(signal.SIGHUP)
collect(3, "READY=1")
after = [m for _, m in events[mark:] if m in ("RELOADING=1", "READY=1")]
check("SIGHUP: RELOADING=1 then READY=1", after[:2] == ["RELOADING=1", "READY=1"])
mark = len(events)
p.send_signal(signal.SIGTERM)
collect(5, "STOPPING=1")
check("SIGTERM: STOPPING=1", any(m == "STOPPING=1" for _, m in events[mark:]))
try:
    rc = p.wait(timeout=15)
except subprocess.TimeoutExpired:
    p.kill()
    rc = -1
check("exit status 0 after SIGTERM (got %s)" % rc, rc == 0)
order = [m for _, m in events if m in ("READY=1", "RELOADING=1", "STOPPING=1")]
check("overall order READY, RELOADING, READY, STOPPING (%s)" % order,
      order == ["READY=1", "RELOADING=1", "READY=1", "STOPPING=1"])
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
