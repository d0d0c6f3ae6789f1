#!/usr/bin/env python3
"""The torture's client: client.py SOCKET ID N ACKLOG

Pipelines records 1..N of client ID (their bytes from payload.py) over the
native protocol (tests/proto_client.py does the framing) and writes
"recno seq" to ACKLOG for every ACK (after a first line "connected",
written once HELLO was answered), flushed at once, so that a kill of the
daemon leaves the log complete up to the last ACK received.  Ends when
everything is acknowledged or the daemon is gone; prints
"sent S acked A"."""
import os, select, socket, struct, sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import proto_client as pc  # noqa: E402
from payload import payload, FACILITY  # noqa: E402


def main(path, ident, n, log):
    rd = pc.Reader()
    try:
        s = pc.connect(path)
        pc.do_hello(s, rd)
    except (OSError, SystemExit) as e:
        # the daemon died first (a crash point can fire that early); the
        # torture decides whether that is allowed: no "connected" line
        print("not connected: %s" % e)
        print("sent 0 acked 0")
        return 3
    s.setblocking(False)
    out = bytearray()
    i = acked = 0
    with open(log, "w", buffering=1) as logf:
        logf.write("connected\n")  # the torture waits for this before its kill
        while acked < n:
            while i < n and len(out) < (1 << 18):
                i += 1
                tag, sev, msg = payload(ident, i)
                out += pc.record(msg, tag, FACILITY, sev)
            r, w, _ = select.select([s], [s] if out else [], [], 10)
            if not r and not w:
                break
            try:
                if w:
                    del out[:s.send(out)]
                data = s.recv(1 << 20) if r else None
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                break
            if data == b"":
                break
            for t, b in rd.feed(data or b""):
                if t == pc.ACK:
                    recno, seq = struct.unpack("<QQ", b)
                    acked = recno
                    logf.write("%d %d\n" % (recno, seq))
                elif t == pc.ERROR:
                    recno, code = struct.unpack_from("<QH", b)
                    logf.write("error %d %d\n" % (recno, code))
    print("sent %d acked %d" % (i, acked))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]))
