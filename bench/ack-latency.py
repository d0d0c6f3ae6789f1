#!/usr/bin/env python3
"""One native client that sends a record and waits for its ack before the
next: prints "p50_us P p99_us Q n N" of the round trips (µs).

  ack-latency.py SOCKET N [SIZE]

Uses the frame helpers of tests/proto_client.py (docs/protocol.md).  The
round trip includes Python's own overhead (a few µs a record)."""
import os, statistics, struct, sys, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import proto_client as pc  # noqa: E402


def main(path, n, size=100):
    s = pc.connect(path)
    rd = pc.Reader()
    pc.do_hello(s, rd)
    lat = []
    for i in range(1, n + 1):
        msg = ("lat %d " % i).encode().ljust(size, b"x")
        t0 = time.perf_counter_ns()
        s.sendall(pc.record(msg, b"bench"))
        acked = 0
        while acked < i:
            data = s.recv(65536)
            if not data:
                raise SystemExit("daemon closed the connection")
            for t, b in rd.feed(data):
                if t == pc.ACK:
                    acked = struct.unpack("<QQ", b)[0]
                elif t == pc.ERROR:
                    raise SystemExit("error frame for record %d: %r" % (i, b))
        lat.append((time.perf_counter_ns() - t0) / 1000)
    lat.sort()
    print("p50_us %.1f p99_us %.1f n %d" % (statistics.median(lat), lat[int(len(lat) * 0.99) - 1], n))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), *(int(a) for a in sys.argv[3:]))
