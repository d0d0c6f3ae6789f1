#!/usr/bin/env python3
"""A native-protocol test client (docs/protocol.md), independent of the C
code so the daemon is checked against the documented bytes.

  proto_client.py SOCKET send N [--size B] [--tag T] [--id K] [--log FILE]
      pipelines N records ("<id>-<i> ..." padded to B bytes), reads the
      cumulative acks as they come, and prints one JSON summary line:
      {"sent", "acked_recno", "last_seq", "acks", "errors", "closed_by_peer"}
      --log FILE writes "recno seq" for every ACK and "error recno code" lines.
  proto_client.py SOCKET raw HEXBYTES      send raw bytes after HELLO (or not);
                                           HEXBYTES "-" reads them from stdin
  proto_client.py SOCKET status            print the STATUS body
"""
import json, os, select, socket, struct, sys, time

HELLO, RECORD, STATUS_REQ = 0x01, 0x02, 0x03
HELLO_OK, ACK, ERROR, STATUS = 0x81, 0x82, 0x83, 0x84
MAGIC = 0x4C474553


def frame(t, body=b""):
    return struct.pack("<IB", len(body) + 1, t) + body


def hello():
    return frame(HELLO, struct.pack("<IHHI", MAGIC, 1, 1, 0))


def record(msg, tag=b"test", fac=1, sev=6, ctime=None, cpid=None):
    flags = (1 if ctime is not None else 0) | (2 if cpid is not None else 0)
    body = struct.pack("<BBBB", fac, sev, flags, len(tag))
    if ctime is not None:
        body += struct.pack("<Q", ctime)
    if cpid is not None:
        body += struct.pack("<I", cpid)
    return frame(RECORD, body + tag + msg)


class Reader:
    """Splits a byte stream into (type, body) frames."""

    def __init__(self):
        self.buf = bytearray()

    def feed(self, data):
        self.buf += data
        out = []
        while len(self.buf) >= 5:
            n, t = struct.unpack_from("<IB", self.buf)
            if len(self.buf) < 4 + n:
                break
            out.append((t, bytes(self.buf[5:4 + n])))
            del self.buf[:4 + n]
        return out


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s


def do_hello(s, rd):
    s.sendall(hello())
    while True:
        data = s.recv(65536)
        if not data:
            raise SystemExit("daemon closed the connection after HELLO")
        for t, b in rd.feed(data):
            if t == HELLO_OK:
                ver, dur, _r, max_record, max_tag, next_seq = struct.unpack("<HBBIIQ", b)
                return max_record
            if t == ERROR:
                raise SystemExit("ERROR after HELLO: %r" % (b,))


def send(path, n, size, tag, ident, log):
    s = connect(path)
    rd = Reader()
    do_hello(s, rd)
    s.setblocking(False)
    logf = open(log, "w") if log else None
    out = bytearray()
    i = 0
    sent = 0
    acked = 0
    last_seq = 0
    acks = 0
    errors = []
    closed = False
    shut = False
    deadline = time.time() + 120
    while time.time() < deadline:
        while i < n and len(out) < (1 << 20):
            i += 1
            msg = ("%s-%d " % (ident, i)).encode()
            msg += b"x" * max(0, size - len(msg))
            out += record(msg, tag.encode())
        if i == n and not out and not shut:
            s.shutdown(socket.SHUT_WR)
            shut = True
        if acked >= n or closed:
            break
        r, w, _ = select.select([s], [s] if out else [], [], 5)
        if w:
            try:
                k = s.send(out)
                del out[:k]
                sent = i - 0
            except BlockingIOError:
                pass
            except (BrokenPipeError, ConnectionResetError):
                closed = True
        if r:
            try:
                data = s.recv(1 << 20)
            except ConnectionResetError:
                data = b""
            if not data:
                closed = True
            for t, b in rd.feed(data):
                if t == ACK:
                    recno, seq = struct.unpack("<QQ", b)
                    if recno <= acked:
                        errors.append("non-increasing ack %d after %d" % (recno, acked))
                    acked, last_seq = recno, seq
                    acks += 1
                    if logf:
                        logf.write("%d %d\n" % (recno, seq))
                elif t == ERROR:
                    recno, code = struct.unpack_from("<QH", b)
                    errors.append("error recno %d code %d %s" % (recno, code, b[10:].decode(errors="replace")))
                    if logf:
                        logf.write("error %d %d\n" % (recno, code))
    if logf:
        logf.close()
    print(json.dumps({"sent": i, "acked_recno": acked, "last_seq": last_seq, "acks": acks,
                      "errors": errors, "closed_by_peer": closed}))
    return 0 if acked == n and not errors else 1


def status_text(path):
    """The STATUS body, or None if the daemon closed first."""
    s = connect(path)
    rd = Reader()
    do_hello(s, rd)
    s.sendall(frame(STATUS_REQ))
    with s:
        while True:
            data = s.recv(65536)
            if not data:
                return None
            for t, b in rd.feed(data):
                if t == STATUS:
                    return b.decode()


def status(path):
    text = status_text(path)
    if text is None:
        return 1
    sys.stdout.write(text)
    return 0


def raw(path, hexbytes, with_hello):
    s = connect(path)
    rd = Reader()
    if with_hello:
        do_hello(s, rd)
    s.sendall(bytes.fromhex(hexbytes))
    s.settimeout(10)
    frames = []
    try:
        while True:
            data = s.recv(65536)
            if not data:
                break
            frames += rd.feed(data)
    except socket.timeout:
        frames.append(("timeout", b""))
    for t, b in frames:
        if t == ERROR:
            recno, code = struct.unpack_from("<QH", b)
            print("ERROR %d %d %s" % (recno, code, b[10:].decode(errors="replace")))
        elif t == ACK:
            print("ACK %d %d" % struct.unpack("<QQ", b))
        else:
            print("FRAME %s" % (t,))
    print("CLOSED")
    return 0


def main(argv):
    path, cmd = argv[1], argv[2]
    if cmd == "send":
        n = int(argv[3])
        opts = dict(size=100, tag="test", id="c", log=None)
        a = argv[4:]
        while a:
            k, v = a[0].lstrip("-"), a[1]
            opts[k] = int(v) if k == "size" else v
            a = a[2:]
        return send(path, n, opts["size"], opts["tag"], opts["id"], opts["log"])
    if cmd == "status":
        return status(path)
    if cmd == "raw":
        hexbytes = sys.stdin.read().strip() if argv[3] == "-" else argv[3]
        return raw(path, hexbytes, len(argv) < 5 or argv[4] != "nohello")
    raise SystemExit("unknown command " + cmd)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
