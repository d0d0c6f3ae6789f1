#!/usr/bin/env python3
"""Clients that stall in the middle of a large frame (tests/frame-timeout.sh).

  frame_timeout.py alone NATIVE_SOCK PAUSE
      one native client sends half of a 60,000-byte record, pauses PAUSE
      seconds (nobody waits for memory meanwhile), sends the rest: prints
      "acked" if the record is acknowledged, else what happened.
  frame_timeout.py contend NATIVE_SOCK STREAM_SOCK
      two native and two syslog stream clients each send half of a large
      frame and stall, holding the pool (two full read buffers); then a
      native client sends one whole 60,000-byte record and a stream client
      one 30,000-byte line.  Prints one JSON line: how long the complete
      record took to be acknowledged ("ack_s", null if never within 20 s),
      what each stalled native client received ("stalled": ERROR code and
      text, or "open"), and whether each stalled stream connection was
      closed by the daemon ("stream_closed").
"""
import json, os, select, socket, struct, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proto_client import ACK, ERROR, Reader, connect, do_hello, record, status_text  # noqa: E402

BIG = 60000


def native(path):
    s = connect(path)
    rd = Reader()
    do_hello(s, rd)
    return s, rd


def status(path):
    text = status_text(path)
    if text is None:
        raise SystemExit("no STATUS from %s" % path)
    return dict(line.split(" ", 1) for line in text.splitlines())


def wait_status(path, key, at_least, what):
    end = time.time() + 20
    while int(status(path)[key]) < at_least:
        if time.time() > end:
            raise SystemExit("%s never reached %d: %s" % (key, at_least, what))
        time.sleep(0.02)


def wait_frame(s, rd, timeout):
    """The first ACK or ERROR within timeout: ("ack", recno) / ("error",
    code, text) / ("eof",) / None."""
    end = time.time() + timeout
    while time.time() < end:
        r, _, _ = select.select([s], [], [], max(0.0, end - time.time()))
        if not r:
            break
        try:
            data = s.recv(65536)
        except ConnectionResetError:
            data = b""
        if not data:
            return ("eof",)
        for t, b in rd.feed(data):
            if t == ACK:
                return ("ack", struct.unpack_from("<Q", b)[0])
            if t == ERROR:
                recno, code = struct.unpack_from("<QH", b)
                return ("error", code, b[10:].decode(errors="replace"))
    return None


def closed_within(s, timeout):
    s.setblocking(True)
    s.settimeout(timeout)
    try:
        while True:
            data = s.recv(65536)
            if not data:
                return True
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True


def alone(path, pause):
    s, rd = native(path)
    f = record(b"a" * BIG, b"ftalone")
    s.sendall(f[: len(f) // 2])
    time.sleep(pause)
    s.sendall(f[len(f) // 2:])
    got = wait_frame(s, rd, 10)
    print("acked" if got and got[0] == "ack" else "got %r" % (got,))


def contend(npath, spath):
    stalled = []
    for i in range(2):
        s, rd = native(npath)
        f = record(b"s" * BIG, b"ftstall")
        s.sendall(f[: len(f) // 2])
        stalled.append((s, rd))
        wait_status(npath, "buffer_bytes", (i + 1) * (128 - 2) * 1024, "native staller %d" % i)
    # the natives hold the pool, the streams wait for it, in this order, and
    # only then do the complete record and line come (they queue behind)
    waits0 = int(status(npath)["buffer_waits"])
    streams = []
    for i in range(2):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(spath)
        s.sendall(b"<14>Dec  4 12:00:00 ftstream: " + b"t" * 30000)
        streams.append(s)
        wait_status(npath, "buffer_waits", waits0 + i + 1, "stream staller %d waits" % i)
    w, wrd = native(npath)
    t0 = time.time()
    w.sendall(record(b"w" * BIG, b"ftwait"))
    sw = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sw.connect(spath)
    sw.sendall(b"<14>Dec  4 12:00:00 ftwaitline: " + b"u" * 30000 + b"\n")
    got = wait_frame(w, wrd, 20)
    ack_s = round(time.time() - t0, 2) if got and got[0] == "ack" else None
    out = []
    for s, rd in stalled:
        g = wait_frame(s, rd, 5)
        out.append("open" if g is None else list(g))
    closed = [closed_within(s, 5) for s in streams]
    sw.close()
    print(json.dumps({"ack_s": ack_s, "waiter": got and list(got), "stalled": out,
                      "stream_closed": closed}))


if __name__ == "__main__":
    if sys.argv[1] == "alone":
        alone(sys.argv[2], float(sys.argv[3]))
    else:
        contend(sys.argv[2], sys.argv[3])
