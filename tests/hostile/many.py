#!/usr/bin/env python3
"""Many concurrent native clients from one process (selectors, not one
process each).

  many.py SOCKET N RECORDS [--extra E] [--hold S] [--pid DAEMON_PID]

Opens N connections and says HELLO on all of them; once every one holds
HELLO_OK (so N clients are connected at the same time), opens E more,
which max_clients may refuse with ERROR(0, too-many-clients).  Then every
accepted client pipelines RECORDS records "m<client>-<recno>" (tag "many")
and reads its cumulative acks until all are acknowledged; all stay
connected until every one is done (plus S seconds), then each shuts down
its sending side and reads to the end.  Prints one JSON line."""
import json
import selectors
import socket
import sys
import time

sys.path.insert(0, __import__("os").path.dirname(__file__))
import nproto as P  # noqa: E402


class Client:
    def __init__(self, k, sock):
        self.k = k
        self.s = sock
        self.rd = P.Reader()
        self.out = bytearray()
        self.hello_ok = False
        self.rejected = None  # error code if refused
        self.closed = False
        self.acked = 0
        self.last_seq = 0
        self.errors = []


def pump(sel, clients, until, deadline):
    """Runs the event loop until until() is true or the deadline passes."""
    while not until():
        if time.monotonic() > deadline:
            return False
        for key, ev in sel.select(0.2):
            c = key.data
            if ev & selectors.EVENT_WRITE and c.out:
                try:
                    n = c.s.send(c.out)
                    del c.out[:n]
                except BlockingIOError:
                    pass
                except OSError as e:
                    c.errors.append("send: %s" % e)
                    c.out.clear()
                if not c.out:
                    sel.modify(c.s, selectors.EVENT_READ, c)
            if ev & selectors.EVENT_READ:
                try:
                    data = c.s.recv(65536)
                except BlockingIOError:
                    continue
                except OSError as e:
                    c.errors.append("recv: %s" % e)
                    data = b""
                if not data:
                    c.closed = True
                    sel.unregister(c.s)
                    continue
                for t, b in c.rd.feed(data):
                    if t == P.HELLO_OK:
                        c.hello_ok = True
                    elif t == P.ACK:
                        n, seq = P.parse_ack(b)
                        if n <= c.acked:
                            c.errors.append("non-increasing ACK %d" % n)
                        c.acked, c.last_seq = n, seq
                    elif t == P.ERROR:
                        recno, code, text = P.parse_error(b)
                        if recno == 0 and not c.hello_ok:
                            c.rejected = code
                        else:
                            c.errors.append("ERROR %d %d %s" % (recno, code, text))
                    else:
                        c.errors.append("frame %#x" % t)
    return True


def queue(sel, c, data):
    if c.closed:
        return
    c.out += data
    sel.modify(c.s, selectors.EVENT_READ | selectors.EVENT_WRITE, c)


def main():
    path, n, nrec = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    opts = dict(extra=0, hold=0.0, pid=0)
    a = sys.argv[4:]
    while a:
        opts[a[0].lstrip("-")] = float(a[1]) if a[0] == "--hold" else int(a[1])
        a = a[2:]
    sel = selectors.DefaultSelector()
    t0 = time.monotonic()
    res = {"clients": n, "records_each": nrec}

    def open_clients(first, count):
        out = []
        for k in range(first, first + count):
            s = P.connect(path, blocking=True)
            s.setblocking(False)
            c = Client(k, s)
            sel.register(s, selectors.EVENT_READ, c)
            queue(sel, c, P.hello())
            out.append(c)
        return out

    main_clients = open_clients(0, n)
    ok = pump(sel, main_clients,
              lambda: all(c.hello_ok or c.rejected or c.closed for c in main_clients),
              time.monotonic() + 60)
    res["hello_ok"] = sum(c.hello_ok for c in main_clients)
    res["connect_s"] = round(time.monotonic() - t0, 3)
    if opts["pid"]:
        res["daemon_fds_all_connected"] = P.fd_count(opts["pid"])
        res["daemon_rss_kb_all_connected"] = P.read_vm(opts["pid"])[0]

    extra = open_clients(n, int(opts["extra"]))
    pump(sel, extra, lambda: all(c.hello_ok or c.rejected or c.closed for c in extra),
         time.monotonic() + 30)
    res["extra"] = len(extra)
    res["extra_accepted"] = sum(c.hello_ok for c in extra)
    res["extra_rejected_too_many"] = sum(c.rejected == 6 for c in extra)
    res["extra_other"] = len(extra) - res["extra_accepted"] - res["extra_rejected_too_many"]
    for c in extra:  # the accepted extras leave at once
        if c.hello_ok and not c.closed:
            sel.unregister(c.s)
        c.s.close()

    t1 = time.monotonic()
    live = [c for c in main_clients if c.hello_ok]
    for c in live:
        queue(sel, c, b"".join(P.record(b"m%d-%d" % (c.k, i), b"many")
                               for i in range(1, nrec + 1)))
    pump(sel, live, lambda: all(c.acked >= nrec or c.closed for c in live),
         time.monotonic() + 120)
    res["send_s"] = round(time.monotonic() - t1, 3)
    res["records_per_s"] = round(len(live) * nrec / max(res["send_s"], 1e-6))
    if opts["pid"]:
        res["daemon_rss_kb_after_acks"] = P.read_vm(opts["pid"])[0]
        res["daemon_clients_fds"] = P.fd_count(opts["pid"])
    if opts["hold"]:
        time.sleep(opts["hold"])
    res["fully_acked"] = sum(c.acked == nrec for c in main_clients)
    # what each client saw acknowledged, by the id in its messages "m<id>-<n>"
    # (overload.sh counts these on disk, not in the daemon's figures)
    res["acked_by_client"] = {"m%d" % c.k: c.acked for c in main_clients}
    res["closed_early"] = sum(c.closed for c in main_clients)
    errs = [e for c in main_clients for e in c.errors]
    res["errors"] = len(errs)
    res["first_errors"] = errs[:5]
    res["seqs"] = sorted(c.last_seq for c in live)[:1] + sorted(c.last_seq for c in live)[-1:]

    for c in live:
        if not c.closed:
            try:
                c.s.shutdown(socket.SHUT_WR)
            except OSError:
                pass
    pump(sel, live, lambda: all(c.closed for c in live), time.monotonic() + 30)
    res["closed_by_daemon_after_shutdown"] = sum(c.closed for c in live)
    res["total_s"] = round(time.monotonic() - t0, 3)
    print(json.dumps(res))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
