#!/usr/bin/env python3
"""Samples a process's VmRSS every 50 ms until it exits (or SIGTERM).

  rss.py PID OUT      OUT gets "<ns since the epoch> <VmRSS KiB> <VmHWM KiB>" lines"""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import nproto as P  # noqa: E402

signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
pid = int(sys.argv[1])
with open(sys.argv[2], "w", buffering=1) as f:
    while True:
        rss, hwm = P.read_vm(pid)
        if not rss:
            break
        f.write("%d %d %d\n" % (time.time_ns(), rss, hwm))
        time.sleep(0.05)
