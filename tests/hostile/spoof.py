#!/usr/bin/env python3
"""Clients that lie about who they are, or send terminal escapes, for
tests/security.sh.  Each prints one JSON line.

  spoof.py native SOCKET UID CLAIMED_PID MARK
      as UID (root drops to it before connecting, so SO_PEERCRED sees it):
      one RECORD claiming pid CLAIMED_PID and the time 2001-09-09T01:46:40Z,
      message "MARK"; waits for its ACK.
  spoof.py syslog DGRAM_SOCKET UID CLAIMED_PID MARK
      as UID: an RFC 3164 datagram "sshd[CLAIMED_PID]: MARK-3164" and an
      RFC 5424 one with PROCID CLAIMED_PID, "MARK-5424".
  spoof.py stream STREAM_SOCKET UID CLAIMED_PID MARK
      as UID: the same RFC 3164 message over the syslog stream socket
      (newline framing).
  spoof.py nasty SOCKET DGRAM_SOCKET
      records full of terminal escapes and control bytes (native and
      syslog); prints the exact message bytes sent (hex), by marker.

UID -1 keeps the uid the script was started with: tests/security.sh passes
-1 and starts it under setpriv(1) as nobody, so the switch is the system's,
not this script's.  Each spoofing mode prints the pid/uid/gid it ran as."""
import json
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import nproto as P  # noqa: E402

CLAIMED_TIME_US = 1000000000 * 1000000  # 2001-09-09T01:46:40Z


def drop(uid):
    if uid >= 0:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)


def wait_ack(s, rd, recno, timeout=10):
    s.settimeout(timeout)
    while True:
        data = s.recv(4096)
        if not data:
            return None
        for t, b in rd.feed(data):
            if t == P.ACK and P.parse_ack(b)[0] >= recno:
                return P.parse_ack(b)
            if t == P.ERROR:
                return ("error",) + P.parse_error(b)


def native(path, uid, cpid, mark):
    drop(uid)
    s = P.connect(path)
    rd = P.Reader()
    s.sendall(P.hello() + P.record(mark.encode(), b"spoofer", cpid=cpid, ctime=CLAIMED_TIME_US))
    ack = wait_ack(s, rd, 1)
    return {"pid": os.getpid(), "uid": os.getuid(), "gid": os.getgid(), "ack": ack}


def syslog_dgram(path, uid, cpid, mark):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.connect(path)
    drop(uid)
    s.send(b"<38>Jan  1 00:00:00 host sshd[%d]: %s-3164" % (cpid, mark.encode()))
    s.send(b"<38>1 2001-09-09T01:46:40Z host sshd %d ID47 - %s-5424" % (cpid, mark.encode()))
    return {"pid": os.getpid(), "uid": os.getuid(), "gid": os.getgid()}


def syslog_stream(path, uid, cpid, mark):
    drop(uid)
    s = P.connect(path)
    s.sendall(b"<38>Jan  1 00:00:00 host sshd[%d]: %s-stream\n" % (cpid, mark.encode()))
    s.shutdown(socket.SHUT_WR)
    s.settimeout(5)
    try:
        s.recv(1)
    except OSError:
        pass
    return {"pid": os.getpid(), "uid": os.getuid(), "gid": os.getgid()}


# marker -> (tag, severity, message); every message starts with its marker
NASTY = {
    "nasty-sgr": (b"ev\x1bil", 3,
                  b"nasty-sgr \x1b[31mred\x1b[1mbold\x1b[5mblink\x1b[0m bel\x07 cr\r bs\x08 "
                  b"tab\t nul\x00 del\x7f csi8\xc2\x9b2J nel\xc2\x85 bidi\xe2\x80\xae end"),
    "nasty-osc": (b"app", 6, b"nasty-osc \x1b]0;pwned\x07 \x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\ "
                  b"\x1b[2J\x1b[H\x1bc\x1b[?1049h"),
    "nasty-bytes": (b"app", 6, b"nasty-bytes \xff\xfe raw-c1 \x9b6n \xc0\xaf \xed\xa0\x80 end"),
    "nasty-lf": (b"app", 6, b"nasty-lf first line\n2001-09-09T01:46:40.000000Z 1 auth.crit 1 0 0 "
                 b"sshd - - FORGED root login 0123456789abcdef\nthird"),
}
NASTY_SYSLOG = b"<11>Jan  1 00:00:00 host evil[1]: nasty-syslog \x1b[5mblink\x1b[0m \x1b]0;t\x07 \x9b raw\x08"


def nasty(path, dgram):
    s = P.connect(path)
    rd = P.Reader()
    s.sendall(P.hello() + b"".join(P.record(m, tag, sev=sev) for tag, sev, m in NASTY.values()))
    ack = wait_ack(s, rd, len(NASTY))
    d = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    d.sendto(NASTY_SYSLOG, dgram)
    out = {k: v[2].hex() for k, v in NASTY.items()}
    out["nasty-syslog"] = NASTY_SYSLOG.split(b": ", 1)[1].hex()
    out["tags"] = {k: v[0].hex() for k, v in NASTY.items()}
    out["ack"] = ack
    return out


def main(argv):
    mode = argv[1]
    if mode == "native":
        r = native(argv[2], int(argv[3]), int(argv[4]), argv[5])
    elif mode == "syslog":
        r = syslog_dgram(argv[2], int(argv[3]), int(argv[4]), argv[5])
    elif mode == "stream":
        r = syslog_stream(argv[2], int(argv[3]), int(argv[4]), argv[5])
    elif mode == "nasty":
        r = nasty(argv[2], argv[3])
    else:
        raise SystemExit("unknown mode " + mode)
    print(json.dumps(r))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
