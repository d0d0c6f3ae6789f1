#!/usr/bin/env python3
"""Checks a data directory of the crash torture (tests/torture/torture.sh).

usage: check.py DATADIR [--all] [--format FMT] [--from SEQ] [--save STATE]
                [--recovered STATE --log LOG [--redo N] [--unlogged-cuts K]]
                [ACKLOG...]

Each ACKLOG belongs to one client (its file name: acks-<id>) and holds the
"recno seq" of every ACK it received; an ACK of recno r acknowledges records
1..r.  Checked, over the whole directory:
  - seqs strictly increase by one from the oldest retained record to the
    newest (gapless outside retention), no message id twice;
  - every acknowledged record is on disk as the whole record the client
    sent: message, tag, facility and severity (payload.py recomputes them
    from the client id and the record number), in recno order;
  - every ACK (recno, seq) whose seq is retained names exactly that record
    (a seq reused for another record fails, whatever is now at that seq);
  - an acknowledged record that is missing counts as removed by retention
    only if it precedes the client's first retained record and no ACK
    before that one carries a retained seq; with --all none may be missing (the torture sizes
    retention so that it cannot have reached them), so each one is a loss.
A final line of current without its LF (torn by a kill, not yet recovered)
is not a record.  --save STATE writes what recovery must preserve: every
complete line (seq and CRC-32), the torn bytes after the last LF, the
quarantine files.  --recovered STATE then checks a directory recovered
since STATE was saved (LOG: the daemon's log lines written since): every
complete line kept byte for byte, nothing new, the newest seq the same; a
torn tail cut only if one existed: every "Cut a torn tail of N bytes" line
has N = the torn length, each new file in quarantine/ holds exactly the torn
bytes, and there are as many files as such lines (REDO more at most: starts
killed between the quarantine write and its log line write it again; with
--unlogged-cuts K, K of them got past the truncate too, so the cut line may
be missing while the quarantine file is there).
Prints "RESULT acked=M checked=N retention=R problems=P" and exits 1 on any
problem.  checked counts acknowledged records found whole.  --from SEQ
skips the sealed segments that end before SEQ (the torture passes the
first seq of the iteration whose acks it checks, so that a check reads one
or two iterations' data, not the whole retention).
"""
import json, os, re, sys, zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from payload import payload, FACILITY, SEV_NAMES  # noqa: E402

problems = []


def problem(msg):
    if len(problems) < 20:
        print(msg)
    problems.append(msg)


UNESC = re.compile(rb"\\(\\|x[0-9a-f]{2})")


def unescape(b):
    return UNESC.sub(lambda m: b"\\" if m.group(1) == b"\\" else bytes([int(m.group(1)[1:], 16)]), b)


def scan(d, from_seq):
    """Every line of the directory in file order, but for sealed segments
    that end before from_seq: {seq: line}, {id: seq}, the torn bytes at the
    end of current, the oldest retained seq."""
    names = sorted(f for f in os.listdir(d) if re.fullmatch(r"\d{20}\.log", f))
    oldest = int(names[0][:20]) if names else None
    names = [n for k, n in enumerate(names)
             if k + 1 == len(names) or int(names[k + 1][:20]) > from_seq]
    if os.path.exists(os.path.join(d, "current")):
        names.append("current")
    lines, ids, torn, prev = {}, {}, b"", None
    for n in names:
        with open(os.path.join(d, n), "rb") as f:
            data = f.read()
        # the header names the format version: version 2 has HOST MSGID SD
        # between CTIME and MSG (docs/format.md)
        nmsg = 12 if data.startswith(b"#seglog 2 ") else 9
        body, sep, rest = data.rpartition(b"\n")
        if n == "current":
            torn = rest if sep else data
        elif rest or not sep:
            problem("sealed segment %s does not end with a LF" % n)
        for line in body.split(b"\n") if sep else []:
            if line.startswith(b"#"):
                continue
            parts = line.split(b" ", nmsg)
            if len(parts) != nmsg + 1 or not parts[1].isdigit():
                problem("malformed line in %s: %r" % (n, line[:80]))
                continue
            seq = int(parts[1])
            if prev is not None and seq != prev + 1:
                problem("gap or disorder: seq %d after %d in %s" % (seq, prev, n))
            prev = seq
            lines[seq] = Line(line)
            lines[seq].nmsg = nmsg
            ident = parts[nmsg].split(b" ", 1)[0]
            if ident in ids:
                problem("duplicate record %r (seq %d and %d)" % (ident, ids[ident], seq))
            ids[ident] = seq
    if oldest is None:
        oldest = min(lines, default=1)
    return lines, ids, torn, oldest


class Line(bytes):
    """A record line and where its MSG field starts (nmsg: 9 in format
    version 1, 12 in version 2)."""
    nmsg = 9


def fields(line):
    """(facility.severity, tag, message) of a line, unescaped; the message
    is None if a version 2 line carries a HOST, MSGID or SD, which no
    client of these tests sends."""
    parts = line.split(b" ", line.nmsg)
    msg = unescape(parts[line.nmsg].rsplit(b" ", 1)[0])
    if parts[9:line.nmsg] != [b"-"] * (line.nmsg - 9):
        msg = None
    return parts[2], unescape(parts[6]), msg


def torture_ok(line, cid, recno, _fmt):
    """The line is exactly what client.py cid sent as record recno."""
    tag, sev, msg = payload(cid, recno)
    facsev = ("user.%s" % SEV_NAMES[sev]).encode() if FACILITY == 1 else None
    return fields(line) == (facsev, tag, msg)


def proto_learn(line, cid, recno):
    """(tag, size) if the line is a proto_client.py record of cid, else None."""
    facsev, tag, msg = fields(line)
    prefix = ("%s-%d " % (cid, recno)).encode()
    if facsev != b"user.info" or not msg.startswith(prefix) or msg[len(prefix):].strip(b"x"):
        return None
    return tag, (len(msg) if len(msg) > len(prefix) else 0)


def proto_ok(line, cid, recno, fmt):
    """The line is exactly what proto_client.py send --id cid sent as recno."""
    tag, size = fmt
    prefix = ("%s-%d " % (cid, recno)).encode()
    return fields(line) == (b"user.info", tag, prefix + b"x" * max(0, size - len(prefix)))


def client_format(lines, cid, recno, seq, want):
    """(checker, its parameters) for client cid, from its first retained
    record recno at seq; None if it matches no format allowed by want."""
    if want in ("torture", "auto") and torture_ok(lines[seq], cid, recno, None):
        return torture_ok, None
    if want in ("proto", "auto"):
        fmt = proto_learn(lines[seq], cid, recno)
        if fmt is not None:
            return proto_ok, fmt
    return None


def check_acks(lines, ids, logs, require_all, min_seq, want_format):
    acked = checked = retention = 0
    for log in logs:
        cid = os.path.basename(log)[len("acks-"):]
        acks = []
        with open(log) as f:
            for line in f:
                p = line.split()
                if len(p) == 2 and p[0].isdigit():
                    acks.append((int(p[0]), int(p[1])))
        last = max((a[0] for a in acks), default=0)
        acked += last
        # records of one client are written in recno order, so those before
        # its first retained one have lower seqs: retention took them (their
        # ACKs' seqs, if retained, are checked below)
        mine = [r for r in range(1, last + 1) if ("%s-%d" % (cid, r)).encode() in ids]
        first = mine[0] if mine else last + 1
        excusable = not require_all and all(a[1] < min_seq for a in acks if a[0] < first)
        prev_seq = 0
        fmt = None
        if mine:
            seq0 = ids[("%s-%d" % (cid, mine[0])).encode()]
            fmt = client_format(lines, cid, mine[0], seq0, want_format)
            if fmt is None:
                problem("CONTENT: the first retained record of %s (%d) is no %s record: %r" %
                        (cid, mine[0], want_format, lines[seq0][:120]))
                fmt = (lambda *_: False, None)
        for r in range(1, last + 1):
            seq = ids.get(("%s-%d" % (cid, r)).encode())
            if seq is None:
                if excusable and r < first:
                    retention += 1
                else:
                    problem("LOSS: record %d of %s (acknowledged) is not on disk" % (r, cid))
                continue
            if seq <= prev_seq:
                problem("ORDER: record %d of %s at seq %d, before %d" % (r, cid, seq, prev_seq))
            prev_seq = seq
            if fmt[0](lines[seq], cid, r, fmt[1]):
                checked += 1
            else:
                problem("CONTENT: record %d of %s at seq %d: %r" % (r, cid, seq, lines[seq][:120]))
        for r, seq in acks:
            if seq >= min_seq and ids.get(("%s-%d" % (cid, r)).encode()) != seq:
                problem("ACK MISMATCH: ack (%d, %d) of %s, disk has %r at that seq" %
                        (r, seq, cid, lines.get(seq, b"nothing")[:80]))
    return acked, checked, retention


def quarantine(d):
    q = os.path.join(d, "quarantine")
    return sorted(os.listdir(q)) if os.path.isdir(q) else []


def check_recovered(d, lines, torn, state, log, redo, unlogged, min_seq):
    if torn:
        problem("current still ends with %d torn bytes after recovery" % len(torn))
    old = {int(k): v for k, v in state["lines"].items()}
    for seq, crc in old.items():
        if seq >= min_seq and (seq not in lines or zlib.crc32(lines[seq]) != crc):
            problem("RECOVERY: the complete line of seq %d was %s" %
                    (seq, "changed" if seq in lines else "cut"))
    if lines and max(lines) != state["max_seq"]:
        problem("RECOVERY: newest seq %d, before recovery %d" % (max(lines), state["max_seq"]))
    old_torn = bytes.fromhex(state["torn"])
    with open(log, "rb") as f:
        cuts = [int(m) for m in re.findall(rb"Cut a torn tail of (\d+) bytes", f.read())]
    new = [q for q in quarantine(d) if q not in state["quarantine"]]
    for n in cuts:
        if n != len(old_torn):
            problem("QUARANTINE: cut %d bytes, the torn tail had %d" % (n, len(old_torn)))
    for q in new:
        with open(os.path.join(d, "quarantine", q), "rb") as f:
            if f.read() != old_torn:
                problem("QUARANTINE: %s does not hold the %d torn bytes" % (q, len(old_torn)))
    want = {1 if old_torn else 0} | ({0} if unlogged and old_torn else set())
    if len(cuts) not in want or not max(len(cuts), 1 if old_torn else 0) <= len(new) <= \
            len(cuts) + redo:
        problem("QUARANTINE: torn bytes %d, %d cut line(s), %d new file(s) (%d redo allowed)" %
                (len(old_torn), len(cuts), len(new), redo))
    return len(new)


def main(argv):
    d, logs, opts = argv[1], [], {"--all": False, "--format": "auto"}
    a = argv[2:]
    while a:
        if a[0] == "--all":
            opts["--all"] = True
            a = a[1:]
        elif a[0] in ("--save", "--recovered", "--log", "--redo", "--from", "--format",
                      "--unlogged-cuts"):
            opts[a[0]] = a[1]
            a = a[2:]
        else:
            logs.append(a[0])
            a = a[1:]
    if opts["--format"] not in ("auto", "torture", "proto"):
        print("check.py: --format must be auto, torture or proto")
        return 2
    from_seq = int(opts.get("--from", 0))
    lines, ids, torn, oldest = scan(d, from_seq)
    acked, checked, retention = check_acks(lines, ids, logs, opts["--all"],
                                           max(oldest, from_seq), opts["--format"])
    quarantined = 0
    if "--recovered" in opts:
        with open(opts["--recovered"]) as f:
            state = json.load(f)
        quarantined = check_recovered(d, lines, torn, state, opts["--log"],
                                      int(opts.get("--redo", 0)),
                                      int(opts.get("--unlogged-cuts", 0)), max(oldest, from_seq))
    if "--save" in opts:
        with open(opts["--save"], "w") as f:
            json.dump({"lines": {s: zlib.crc32(l) for s, l in lines.items()},
                       "max_seq": max(lines) if lines else 0, "torn": torn.hex(),
                       "quarantine": quarantine(d)}, f)
    print("records on disk %d (seq %d..%d), torn bytes %d, %d checked of %d acknowledged, "
          "%d removed by retention, %d problem(s)" %
          (len(lines), min(lines, default=0), max(lines, default=0), len(torn), checked, acked,
           retention, len(problems)))
    print("RESULT acked=%d checked=%d retention=%d torn=%d quarantined=%d problems=%d" %
          (acked, checked, retention, len(torn), quarantined, len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
