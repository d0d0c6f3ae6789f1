#!/usr/bin/env python3
"""The power-loss driver's client: plclient.py SOCKET ID N ACKLOG

Pipelines records 1..N of client ID over the native protocol (framing from
tests/proto_client.py), every byte derived from (ID, recno) by payload(), and
writes "recno seq" to ACKLOG for every ACK, flushed at once, so the log is
complete up to the last ACK whatever happens to the daemon.  Ends when all N
are acknowledged, the daemon is gone, or nothing moved for 20 s."""
import os, select, socket, struct, sys, zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import proto_client as pc  # noqa: E402

FILLER = b"abcdefghijklmnopqrstuvwxyz0123456789 ABCDEFGHIJ\\\t"
FACILITY = 1
SEVERITIES = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"]


def payload(cid, recno):
    """(tag, severity, message) of record recno of client cid: the message
    starts with "<cid>-<recno> ", then 30..229 filler bytes with a space, a
    backslash, a TAB and now and then a two-byte UTF-8 character, so that the
    check also covers the escaping of docs/format.md."""
    h = zlib.crc32(("%s:%d" % (cid, recno)).encode())
    n = 30 + h % 200
    start = (h >> 8) % len(FILLER)
    body = (FILLER[start:] + FILLER * (n // len(FILLER) + 1))[:n]
    if h & 0x10000:
        body = body[:n // 2] + "\u00e9".encode() + body[n // 2:]
    return b"pl%d" % ((h >> 17) % 3), (h >> 20) % 8, ("%s-%d " % (cid, recno)).encode() + body


def main(path, ident, n, log):
    try:
        s = pc.connect(path)
        rd = pc.Reader()
        pc.do_hello(s, rd)
    except (OSError, SystemExit) as e:
        print("sent 0 acked 0 (%s)" % e)
        return 1
    s.setblocking(False)
    out = bytearray()
    i = acked = 0
    with open(log, "w", buffering=1) as logf:
        while acked < n:
            while i < n and len(out) < (1 << 18):
                i += 1
                tag, sev, msg = payload(ident, i)
                out += pc.record(msg, tag, FACILITY, sev)
            r, w, _ = select.select([s], [s] if out else [], [], 20)
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
