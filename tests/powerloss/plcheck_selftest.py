#!/usr/bin/env python3
"""plcheck.py's self-test: the checker must be able to fail.  Builds data
directories as seglogd writes them (format version 2, records from
plclient.payload(); the checksums are not plcheck's business, `seglog
verify` checks them), runs `plcheck.py check` on them and looks at what it
says.  No FUSE, no daemon.

usage: plcheck_selftest.py WORKDIR"""
import json, os, shutil, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from plclient import payload, SEVERITIES  # noqa: E402

passed = failed = 0


def ok(cond, what, out=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok - " + what)
    else:
        failed += 1
        print("FAIL - " + what)
        for line in out.splitlines()[:8]:
            print("#   " + line)


def esc(b):
    out = bytearray()
    for c in b:
        if c == 0x5C:
            out += b"\\\\"
        elif c < 0x20 or c == 0x7F:
            out += b"\\x%02x" % c
        else:
            out.append(c)
    return bytes(out)


def line(seq, cid, recno):
    tag, sev, msg = payload(cid, recno)
    return b"2026-01-01T00:00:00.000000Z %d user.%s 1 0 0 %s - - - - - %s %s\n" % (
        seq, SEVERITIES[sev].encode(), tag, esc(msg), b"0" * 16)


def header(first):
    return b"#seglog 2 %d 1 %s - %s\n" % (first, b"ab" * 16, b"0" * 16)


class Dir:
    """A data directory: segments of `per` records; records is a list of
    (cid, recno) in seq order from seq 1."""

    def __init__(self, work, name, records, per=10):
        self.d = os.path.join(work, name, "data")
        self.state = os.path.join(work, name, "state.json")
        self.log = os.path.join(work, name, "seglogd.log")
        self.acks = os.path.join(work, name, "acks")
        for p in (self.d, self.acks):
            os.makedirs(p, exist_ok=True)
        open(self.log, "w").close()
        self.records = records
        self.per = per
        segs = [records[i:i + per] for i in range(0, len(records), per)]
        for k, seg in enumerate(segs):
            first = k * per + 1
            name = "current" if k == len(segs) - 1 else "%020d.log" % first
            with open(os.path.join(self.d, name), "wb") as f:
                f.write(header(first))
                for j, (cid, recno) in enumerate(seg):
                    f.write(line(first + j, cid, recno))

    def ack(self, cid, upto):
        """An ACK log of client cid: recno and the seq the disk gave it."""
        path = os.path.join(self.acks, "acks-" + cid)
        with open(path, "w") as f:
            for seq, (c, r) in enumerate(self.records, 1):
                if c == cid and r <= upto:
                    f.write("%d %d\n" % (r, seq))
        return path

    def check(self, *acks):
        p = subprocess.run([sys.executable, os.path.join(HERE, "plcheck.py"), "check", self.d,
                            self.state, "--log", self.log, "--acks", *acks],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        return p.returncode, p.stdout

    def remove(self, first):
        os.unlink(os.path.join(self.d, "%020d.log" % first))

    def log_retention(self, first):
        with open(self.log, "a") as f:
            f.write("<6>Retention (max_segments) removed %s/%020d.log (1234 bytes)\n" % (self.d, first))


def one_client(n, cid="c1"):
    return [(cid, r) for r in range(1, n + 1)]


def main(work):
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)

    # 1. a clean directory passes, and its acks are counted
    d = Dir(work, "clean", one_client(45))
    rc, out = d.check(d.ack("c1", 45))
    ok(rc == 0 and "acked=45 checked=45" in out, "a whole directory passes, 45 acks checked", out)

    # 2. retention logged: the oldest segments may go
    d.remove(1)
    d.remove(11)
    d.log_retention(1)
    d.log_retention(11)
    rc, out = d.check()
    ok(rc == 0, "two oldest segments gone, both logged as retention: passes", out)

    # 3. a missing prefix that retention did not log is a loss
    d = Dir(work, "prefix", one_client(45))
    d.check(d.ack("c1", 45))
    d.remove(1)
    d.remove(11)
    rc, out = d.check()
    ok(rc == 1 and "LOSS" in out and "lost=20" in out,
       "two oldest segments gone without a retention log line: 20 acknowledged records lost", out)

    # 4. ...but one, older than all on disk, is a cut between unlink and log
    d = Dir(work, "inflight", one_client(45))
    d.check(d.ack("c1", 45))
    d.remove(1)
    rc, out = d.check()
    ok(rc == 0 and "without its retention log line" in out,
       "the oldest segment gone unlogged (a cut after its unlink): allowed once, noted", out)
    d.remove(11)
    rc, out = d.check()
    ok(rc == 0, "the next one, in a later check: allowed again (another cut)", out)

    # 5. a segment in the middle gone: never retention
    d = Dir(work, "middle", one_client(45))
    d.check(d.ack("c1", 45))
    d.remove(11)
    rc, out = d.check()
    ok(rc == 1 and "LOSS" in out, "a middle segment gone: a loss (and a gap)", out)

    # 6. an ACK whose seq is not where the disk has the record
    d = Dir(work, "wrongseq", one_client(20))
    path = d.ack("c1", 20)
    with open(path, "a") as f:
        f.write("20 19\n")
    rc, out = d.check(path)
    ok(rc == 1 and "WRONG SEQ" in out, "an ACK naming another seq than the disk's: reported", out)

    # 7. an ACK whose seq is beyond the disk (the record lost, its seq too)
    d = Dir(work, "beyond", one_client(20))
    path = d.ack("c1", 20)
    with open(path, "a") as f:
        f.write("21 21\n")
    rc, out = d.check(path)
    ok(rc == 1 and "lost=1" in out, "an ACK of a record that is not on disk: lost", out)

    # 8. one client's records out of order
    recs = one_client(20)
    recs[4], recs[5] = recs[5], recs[4]
    d = Dir(work, "order", recs)
    rc, out = d.check()
    ok(rc == 1 and "ORDER" in out, "a client's records committed out of order: reported", out)

    # 9. a remembered seq given to another record
    d = Dir(work, "reuse", one_client(20))
    d.check(d.ack("c1", 20))
    d2 = Dir(work, "reuse", one_client(15) + [("c2", r) for r in range(1, 6)])
    rc, out = d2.check()
    ok(rc == 1 and "REUSED" in out and "reused=5" in out,
       "seqs 16..20 now hold other records: 5 reused", out)

    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
