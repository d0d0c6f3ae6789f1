#!/usr/bin/env python3
"""The well-behaved client of the overload test: sends one record, waits for
its ACK, and logs the latency, again and again until SIGTERM.

  prober.py SOCKET SAMPLES_FILE [--tag T] [--interval-ms MS]

At most one record every MS milliseconds (default 0: back to back).
SAMPLES_FILE gets one line per record: "<send time, ns since the epoch>
<ack latency, us>".  On SIGTERM prints one JSON line: records sent, acked,
errors (ERROR frames or anything unexpected), whether the daemon closed
the connection, and the last seq acknowledged."""
import json
import signal
import socket
import sys
import time

sys.path.insert(0, __import__("os").path.dirname(__file__))
import nproto as P  # noqa: E402

stop = False


def on_term(signum, frame):
    global stop
    stop = True


def main():
    path, out = sys.argv[1], sys.argv[2]
    opts = {"tag": "probe", "interval-ms": "0"}
    a = sys.argv[3:]
    while a:
        opts[a[0].lstrip("-")] = a[1]
        a = a[2:]
    tag = opts["tag"].encode()
    interval = float(opts["interval-ms"]) / 1000
    signal.signal(signal.SIGTERM, on_term)
    s = P.connect(path)
    rd = P.Reader()
    s.sendall(P.hello())
    res = {"sent": 0, "acked": 0, "errors": [], "closed": False, "last_seq": 0}
    got_hello = False
    while not got_hello:
        data = s.recv(4096)
        if not data:
            res["closed"] = True
            print(json.dumps(res))
            return 1
        for t, b in rd.feed(data):
            if t == P.HELLO_OK:
                got_hello = True
            else:
                res["errors"].append("before HELLO_OK: frame %#x" % t)
    s.settimeout(0.5)
    f = open(out, "w", buffering=1 << 16)
    recno = 0
    next_t = time.monotonic()
    while not stop:
        pause = next_t - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        next_t = time.monotonic() + interval
        recno += 1
        msg = b"probe-%d" % recno
        t0 = time.time_ns()
        p0 = time.perf_counter_ns()
        try:
            s.sendall(P.record(msg, tag))
        except OSError as e:
            res["closed"] = True
            res["errors"].append("send: %s" % e)
            break
        res["sent"] = recno
        acked = False
        deadline = None
        while not acked:
            if stop:
                # the record in flight still gets its ack (5 s at most)
                deadline = deadline or time.monotonic() + 5
                if time.monotonic() > deadline:
                    res["errors"].append("no ACK for record %d within 5 s" % recno)
                    break
            try:
                data = s.recv(4096)
            except socket.timeout:
                continue
            except InterruptedError:
                continue
            except OSError as e:
                data = b""
                res["errors"].append("recv: %s" % e)
            if not data:
                res["closed"] = True
                break
            for t, b in rd.feed(data):
                if t == P.ACK:
                    n, seq = P.parse_ack(b)
                    if n == recno:
                        acked = True
                        res["acked"] = n
                        res["last_seq"] = seq
                    elif n > recno or n < res["acked"]:
                        res["errors"].append("ACK %d while waiting for %d" % (n, recno))
                elif t == P.ERROR:
                    res["errors"].append("ERROR recno %d code %d %s" % P.parse_error(b))
                else:
                    res["errors"].append("unexpected frame %#x" % t)
        if res["closed"]:
            break
        if acked:
            f.write("%d %d\n" % (t0, (time.perf_counter_ns() - p0) // 1000))
    f.close()
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
