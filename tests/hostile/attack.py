#!/usr/bin/env python3
"""Hostile clients for tests/overload.sh.  Each mode attacks the daemon
once and prints one JSON line describing what the daemon did to it.

  attack.py SOCKET halfframe STALLERS NOHELLO SECONDS
      STALLERS clients say HELLO, then send the first half of a 64 KiB
      RECORD frame and stall; NOHELLO clients send half a HELLO and stall.
      After SECONDS the stallers send the rest of their frame and expect
      its ACK (the daemon kept the partial frame), the others expect
      ERROR(0, malformed) and the end of the connection (hello_timeout).
  attack.py SOCKET slowreader CLIENTS SECONDS [DRAIN_SECONDS [TRICKLE]]
      clients that send records (one per write) and never read their acks
      (or only TRICKLE bytes every 10 ms), until the daemon drops them
      (their writes fail) or SECONDS pass; then they read what the daemon
      had sent them, for up to 2 x DRAIN_SECONDS (default 1) each.
  attack.py SOCKET unread KIND BATCH TRICKLE SECONDS
      slowreader with one client that sends BATCH records (KIND records) or
      STATUS_REQ frames (KIND status: large replies) per write, and reads
      only TRICKLE bytes every 10 ms (0: nothing) until it is dropped.
  attack.py SOCKET garbage BYTES
      a client says HELLO and sends pseudo-random garbage until the daemon
      closes on it, reconnecting until BYTES of garbage were sent in all.
  attack.py SOCKET oversize BYTES
      one client sends BYTES as RECORD frames of the largest legal length
      (16 MiB) with garbage bodies, then one ordinary record.  The daemon
      must refuse each with ERROR(n, too-large), discard it without
      buffering it, and acknowledge the ordinary record.
  attack.py DGRAM_SOCKET syslogflood SECONDS [UID]
      blocking RFC 3164 datagrams "flood <n>" (tag "flood") for SECONDS, as
      UID (root drops to it after connecting: its own rate-limit bucket).
  attack.py SOCKET churn COUNT
      COUNT connect/close cycles (every 10th says HELLO first).
  attack.py SOCKET hold CLIENTS [UID]
      as UID (root drops to it first), opens CLIENTS connections that each say HELLO and then nothing (the
      lockout of issue 10), waits until the daemon answered every one
      (HELLO_OK, or ERROR(0) and the end of the connection), prints one JSON
      line with the counts, and holds the accepted ones open until its
      standard input ends.
  attack.py SOCKET emfile CLIENTS DAEMON_PID
      for a daemon with a small RLIMIT_NOFILE: opens CLIENTS connections,
      measures the daemon's CPU while the ones it cannot accept wait, then
      closes the accepted ones and checks the waiting ones are served."""
import errno
import json
import os
import random
import select
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import nproto as P  # noqa: E402


def drain_frames(s, timeout, info=None, rd=None):
    """Reads until EOF or timeout; returns (frames, eof, seconds waited).
    info, a dict, gets "reset" (the stream ended with ECONNRESET rather than
    an orderly end) and "leftover" (bytes of an incomplete frame at the end:
    a torn stream).  rd: the reader to go on with (a fresh one by default)."""
    rd = rd or P.Reader()
    frames = []
    s.setblocking(True)
    s.settimeout(timeout)
    t0 = time.monotonic()
    eof = reset = False
    try:
        while True:
            data = s.recv(65536)
            if not data:
                eof = True
                break
            frames += rd.feed(data)
    except ConnectionResetError:
        eof = reset = True  # closed by the daemon with our bytes unread (unix(7))
    except socket.timeout:
        pass
    if info is not None:
        info["reset"] = reset
        info["leftover"] = len(rd.buf)
    return frames, eof, time.monotonic() - t0


def wait_hello_ok(s, rd, timeout=10):
    s.settimeout(timeout)
    while True:
        data = s.recv(4096)
        if not data:
            return False
        for t, b in rd.feed(data):
            if t == P.HELLO_OK:
                return True
            return False


def halfframe(path, stallers, nohello, seconds):
    msg = b"h" * 60000
    full = P.record(msg, b"half")
    half = len(full) // 2
    res = {"stallers": stallers, "nohello": nohello, "frame_bytes": len(full)}
    ss = []
    for k in range(stallers):
        s = P.connect(path)
        rd = P.Reader()
        s.sendall(P.hello())
        if not wait_hello_ok(s, rd):
            res["hello_failed"] = res.get("hello_failed", 0) + 1
            s.close()
            continue
        s.sendall(full[:half])
        ss.append((s, rd, k))
    nh = []
    t0 = time.monotonic()
    for k in range(nohello):
        s = P.connect(path)
        s.sendall(P.hello()[:8])
        nh.append(s)
    # hold; watch the half-HELLO clients being closed
    closed_at = {}
    replied = set()  # stallers that got something before finishing
    deadline = t0 + seconds
    while time.monotonic() < deadline:
        rl = [s for s in nh if s not in closed_at] + [s for s, _, _ in ss if s not in replied]
        # poll(2), not select(2): 1,000 stallers pass FD_SETSIZE
        po = select.poll()
        byfd = {s.fileno(): s for s in rl}
        for fd in byfd:
            po.register(fd, select.POLLIN)
        for s in [byfd[fd] for fd, _ in po.poll(50)]:
            if s in nh:
                frames, eof, _ = drain_frames(s, 0.5)
                closed_at[s] = (time.monotonic() - t0, frames, eof)
            else:
                replied.add(s)
    res["stallers_replied_before_finishing"] = len(replied)
    nh_err = sum(1 for v in closed_at.values()
                 if v[2] and any(t == P.ERROR and P.parse_error(b)[:2] == (0, 1) for t, b in v[1]))
    res["nohello_closed_with_malformed"] = nh_err
    res["nohello_close_s_min"] = round(min([v[0] for v in closed_at.values()] or [0]), 3)
    res["nohello_close_s_max"] = round(max([v[0] for v in closed_at.values()] or [0]), 3)
    # the stallers finish their frame: the daemon kept their half
    for s, rd, k in ss:
        s.sendall(full[half:])
    acked = 0
    for s, rd, k in ss:
        s.settimeout(10)
        try:
            done = False
            while not done:
                data = s.recv(4096)
                if not data:
                    break
                for t, b in rd.feed(data):
                    if t == P.ACK and P.parse_ack(b)[0] == 1:
                        acked += 1
                        done = True
        except socket.timeout:
            pass
        s.close()
    for s in nh:
        s.close()
    res["stallers_acked_after_finishing"] = acked
    return res


def slowreader(path, clients, seconds, drain_s=1.0, trickle=0, batch=1, kind="records"):
    socks = []
    for k in range(clients):
        s = P.connect(path)
        rd = P.Reader()
        s.sendall(P.hello())
        if not wait_hello_ok(s, rd):
            continue
        s.setblocking(False)
        # small receive buffer: unread acks pile up in the daemon sooner
        socks.append({"k": k, "s": s, "sent": 0, "dropped_s": None, "eagain": 0, "rest": b"",
                      "rd": P.Reader(), "frames": []})
    t0 = time.monotonic()
    next_read = t0
    pid = os.getpid()
    while time.monotonic() - t0 < seconds and any(c["dropped_s"] is None for c in socks):
        now = time.monotonic()
        for c in socks:
            if c["dropped_s"] is not None:
                continue
            try:
                if trickle and now >= next_read:
                    c["frames"] += c["rd"].feed(c["s"].recv(trickle))
            except BlockingIOError:
                pass
            except ConnectionResetError:
                c["dropped_s"] = time.monotonic() - t0
                continue
            try:
                if c["rest"]:
                    c["rest"] = c["rest"][c["s"].send(c["rest"]):]
                    continue
                if kind == "status":
                    rec = bytes(P.frame(P.STATUS_REQ)) * batch
                else:
                    rec = b"".join(P.record(b"slow-%d-%d-%d" % (pid, c["k"], c["sent"] + i + 1),
                                            b"slow") for i in range(batch))
                    c["sent"] += batch
                k = c["s"].send(rec)
                c["rest"] = rec[k:]
            except BlockingIOError:
                c["eagain"] += 1
            except (BrokenPipeError, ConnectionResetError):
                c["dropped_s"] = time.monotonic() - t0
        if now >= next_read:
            next_read = now + 0.01
        time.sleep(0.0005)
    out = {"pid": pid, "clients": len(socks), "per_client": []}
    for c in socks:
        info = {}
        frames, eof, _ = drain_frames(c["s"], 2 * drain_s, info, c["rd"])
        frames = c["frames"] + frames
        acks = [P.parse_ack(b) for t, b in frames if t == P.ACK]
        errs = [P.parse_error(b) for t, b in frames if t == P.ERROR]
        out["per_client"].append({
            "sent": c["sent"], "eagain": c["eagain"],
            "dropped_s": None if c["dropped_s"] is None else round(c["dropped_s"], 3),
            "acks_read_afterwards": len(acks),
            "max_acked_recno": max([a[0] for a in acks] or [0]),
            "errors": [(r, code) for r, code, _ in errs],
            "last_frame": (hex(frames[-1][0]) if frames else None),
            "eof": eof,
            "reset": info["reset"],
            "torn_bytes": info["leftover"],
            "unknown_frames": sum(1 for t, b in frames
                                  if t not in (P.ACK, P.ERROR, P.STATUS)),
            "status_frames": sum(1 for t, b in frames if t == P.STATUS),
        })
        c["s"].close()
    out["dropped"] = sum(1 for c in socks if c["dropped_s"] is not None)
    out["got_slow_reader_error"] = sum(
        1 for pc in out["per_client"] if any(e == (0, 8) for e in pc["errors"]))
    return out


def garbage(path, total):
    rnd = random.Random(7)
    chunk = bytearray(rnd.getrandbits(8) for _ in range(1 << 16))
    chunk[0:5] = b"\xff\xff\xff\xff\x02"  # length field > 16 MiB: not a frame
    chunk = bytes(chunk)
    res = {"offered": total, "sent": 0, "connections": 0, "malformed": 0,
           "other_outcome": 0, "max_per_conn": 0, "max_close_ms": 0.0}
    t0 = time.monotonic()
    while res["sent"] < total:
        s = P.connect(path)
        rd = P.Reader()
        s.sendall(P.hello())
        if not wait_hello_ok(s, rd):
            res["other_outcome"] += 1
            s.close()
            continue
        res["connections"] += 1
        s.setblocking(True)
        s.settimeout(10)
        c0 = time.monotonic()
        n = 0
        try:
            while res["sent"] + n < total:
                n += s.send(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        except socket.timeout:
            res["other_outcome"] += 1  # the daemon stopped reading but kept us
        frames, eof, _ = drain_frames(s, 5)
        close_ms = (time.monotonic() - c0) * 1000
        s.close()
        res["sent"] += n
        res["max_per_conn"] = max(res["max_per_conn"], n)
        res["max_close_ms"] = max(res["max_close_ms"], round(close_ms, 1))
        if eof and any(t == P.ERROR and P.parse_error(b)[:2] == (0, 1) for t, b in frames):
            res["malformed"] += 1
        else:
            res["other_outcome"] += 1
    res["seconds"] = round(time.monotonic() - t0, 3)
    return res


def oversize(path, total):
    s = P.connect(path)
    rd = P.Reader()
    s.sendall(P.hello())
    if not wait_hello_ok(s, rd):
        return {"hello_failed": True}
    blen = P.FRAME_MAX - 1
    body = bytes([1, 6, 0, 4]) + b"huge" + bytes(random.Random(3).getrandbits(8)
                                                  for _ in range(1 << 16))
    nframes = max(1, total // P.FRAME_MAX)
    frames_in = []
    s.setblocking(False)
    t0 = time.monotonic()

    def pump_read():
        try:
            while True:
                data = s.recv(65536)
                if not data:
                    return False
                frames_in.extend(rd.feed(data))
        except BlockingIOError:
            return True

    def send_all(data):
        v = memoryview(data)
        while v:
            select.select([s], [s], [], 1)
            if not pump_read():
                raise BrokenPipeError
            try:
                k = s.send(v)
                v = v[k:]
            except BlockingIOError:
                pass

    sent = 0
    try:
        for i in range(nframes):
            send_all(P.FRAME_MAX.to_bytes(4, "little") + bytes([P.RECORD]))
            left = blen
            # body: a valid record header, then garbage, up to 16 MiB - 1
            while left:
                piece = body[:left] if left < len(body) else body
                send_all(piece)
                left -= len(piece)
            sent += 5 + blen
        send_all(P.record(b"after the oversized frames", b"huge"))
        closed = False
    except (BrokenPipeError, ConnectionResetError):
        closed = True
    secs = time.monotonic() - t0
    s.shutdown(socket.SHUT_WR)
    more, eof, _ = drain_frames(s, 10)
    frames_in += more
    errs = [P.parse_error(b)[:2] for t, b in frames_in if t == P.ERROR]
    acks = [P.parse_ack(b) for t, b in frames_in if t == P.ACK]
    return {"frames": nframes, "bytes": sent, "seconds": round(secs, 3),
            "mb_per_s": round(sent / secs / 1e6, 1), "closed_early": closed,
            "too_large": sum(1 for r, c in errs if c == 2 and 1 <= r <= nframes),
            "other_errors": [e for e in errs if e[1] != 2],
            "final_ack": list(acks[-1]) if acks else None}


def syslogflood(path, seconds, uid):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.connect(path)
    if uid >= 0:
        # SCM_CREDENTIALS carry the sender's credentials at send time
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    n = 0
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        for _ in range(100):
            n += 1
            s.send(b"<14>Jan  1 00:00:00 host flood[%d]: flood %d" % (os.getpid(), n))
    return {"sent": n, "uid": os.getuid(), "seconds": round(time.monotonic() - t0, 3)}


def churn(path, count):
    t0 = time.monotonic()
    refused = 0
    h = P.hello()
    for i in range(count):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            if i % 10 == 0:
                s.send(h)
        except OSError:
            refused += 1
        s.close()
    secs = time.monotonic() - t0
    return {"count": count, "failed": refused, "seconds": round(secs, 3),
            "per_s": round(count / secs)}


def emfile(path, clients, pid):
    socks = []
    for k in range(clients):
        s = P.connect(path)
        s.sendall(P.hello())
        socks.append((s, P.Reader()))
    time.sleep(0.5)
    # who got HELLO_OK (accepted) and who waits in the listen backlog
    served, waiting = [], []
    for s, rd in socks:
        r, _, _ = select.select([s], [], [], 0.02)
        (served if r else waiting).append((s, rd))
    hz = os.sysconf("SC_CLK_TCK")
    c0 = P.cpu_ticks(pid)
    time.sleep(2)
    cpu = (P.cpu_ticks(pid) - c0) / hz
    for s, rd in served:
        s.close()
    late_ok = 0
    t0 = time.monotonic()
    for s, rd in waiting:
        try:
            if wait_hello_ok(s, rd, timeout=5):
                late_ok += 1
        except OSError:
            pass
        s.close()
    return {"clients": clients, "served_at_once": len(served), "waiting": len(waiting),
            "daemon_cpu_s_in_2s_while_waiting": round(cpu, 3),
            "waiting_served_after_close": late_ok,
            "late_s": round(time.monotonic() - t0, 3)}


def hold(path, clients, uid):
    if uid >= 0:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    socks = []
    for _ in range(clients):
        s = P.connect(path)
        try:
            s.sendall(P.hello())
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused before the HELLO was written: its ERROR is still there
        socks.append((s, P.Reader()))
    res = {"clients": clients, "hello_ok": 0, "refused": 0, "other": 0, "errors": {}}
    held = []
    for s, rd in socks:
        s.settimeout(30)
        frames, eof = [], False
        try:
            while not frames and not eof:
                data = s.recv(4096)
                eof = not data
                frames += rd.feed(data)
        except ConnectionResetError:
            eof = True
        except socket.timeout:
            pass
        if frames and frames[0][0] == P.HELLO_OK:
            res["hello_ok"] += 1
            held.append(s)
            continue
        if frames and frames[0][0] == P.ERROR:
            recno, code, text = P.parse_error(frames[0][1])
            res["refused" if recno == 0 and code == 6 else "other"] += 1
            res["errors"][text] = res["errors"].get(text, 0) + 1
        else:
            res["other"] += 1
        s.close()
    print(json.dumps(res), flush=True)
    sys.stdin.read()
    for s in held:
        s.close()
    return None


def main(argv):
    path, mode = argv[1], argv[2]
    a = argv[3:]
    if mode == "halfframe":
        r = halfframe(path, int(a[0]), int(a[1]), float(a[2]))
    elif mode == "slowreader":
        r = slowreader(path, int(a[0]), float(a[1]), float(a[2]) if len(a) > 2 else 1.0,
                       int(a[3]) if len(a) > 3 else 0)
    elif mode == "unread":
        r = slowreader(path, 1, float(a[3]), 5.0, int(a[2]), int(a[1]), a[0])
    elif mode == "garbage":
        r = garbage(path, int(a[0]))
    elif mode == "oversize":
        r = oversize(path, int(a[0]))
    elif mode == "syslogflood":
        r = syslogflood(path, float(a[0]), int(a[1]) if len(a) > 1 else -1)
    elif mode == "churn":
        r = churn(path, int(a[0]))
    elif mode == "emfile":
        r = emfile(path, int(a[0]), int(a[1]))
    elif mode == "hold":
        return hold(path, int(a[0]), int(a[1]) if len(a) > 1 else -1) or 0
    else:
        raise SystemExit("unknown mode " + mode)
    print(json.dumps(r))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
