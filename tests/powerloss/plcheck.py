#!/usr/bin/env python3
"""Checks a seglog data directory after a power cut (tests/powerloss/powerloss.sh).

  plcheck.py raw DATADIR TAILFILE
      Right after the cut, before seglogd recovers: writes the torn tail of
      current (the bytes after its last intact line, which recovery must move
      to quarantine/) to TAILFILE if there is one.  Prints "tail N".
  plcheck.py check DATADIR STATE [--tails TAILFILE...] [--acks ACKLOG...]
      After seglogd recovered.  Each ACKLOG is "acks-<client id>" with the
      "recno seq" of every ACK that client received (an ACK of recno r
      acknowledges records 1..r).  Checked:
        - every line of every segment parses (no damage, no unrecovered torn
          tail), seqs rise by exactly one across sealed segments and current
          (gapless; only the history before the first retained record may be
          gone), no record twice;
        - every record of a client is whole: message, tag, facility and
          severity are what plclient.payload() sent;
        - every record acknowledged in ACKLOG is on disk (the driver keeps
          retention wide enough that none can have fallen to it yet), and
          each ACK (recno, seq) names exactly that record at that seq;
        - STATE (JSON, seq -> record, every acknowledged record seen so far,
          rewritten by this check) still holds: each remembered seq at or
          above the oldest one on disk carries the same record (a seq given
          to another record is "reused", a missing one "lost");
        - every TAILFILE's bytes are the content of a file in quarantine/.
      Prints "RESULT acked=A checked=C lost=L duplicated=D reused=R
      problems=P" and exits 1 on any problem.
"""
import json, os, re, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from plclient import payload, FACILITY, SEVERITIES  # noqa: E402

UNESC = re.compile(rb"\\(\\|x[0-9a-f]{2})")
HEX16 = re.compile(rb"[0-9a-f]{16}")
problems = []


def problem(msg):
    if len(problems) < 25:
        print(msg)
    problems.append(msg)


def unescape(b):
    return UNESC.sub(lambda m: b"\\" if m.group(1) == b"\\" else bytes([int(m.group(1)[1:], 16)]), b)


def parse(line, version):
    """(seq, facsev, tag, msg) of a record line (without its LF) of the
    given format version, or None.  Version 2 has HOST MSGID SD between
    CTIME and MSG; the writers here send none, so they must be "-"."""
    nmsg = 12 if version == 2 else 9
    if len(line) < 18 or line[-17:-16] != b" " or not HEX16.fullmatch(line[-16:]) or b"\0" in line:
        return None
    parts = line[:-17].split(b" ", nmsg)
    if len(parts) != nmsg + 1 or not parts[1].isdigit() or parts[9:nmsg] != [b"-"] * (nmsg - 9):
        return None
    return int(parts[1]), parts[2], unescape(parts[6]), unescape(parts[nmsg])


def header_seq(line):
    p = line.split(b" ")
    return int(p[2]) if len(p) >= 3 and p[0] == b"#seglog" and p[2].isdigit() else None


def header_version(line):
    p = line.split(b" ")
    return int(p[1]) if len(p) >= 2 and p[0] == b"#seglog" and p[1].isdigit() else None


def segments(d):
    names = sorted(f for f in os.listdir(d) if re.fullmatch(r"\d{20}\.log", f)) if os.path.isdir(d) else []
    return names + (["current"] if os.path.exists(os.path.join(d, "current")) else [])


def raw(d, tailfile):
    """The torn tail of current: everything after its last intact line."""
    path = os.path.join(d, "current")
    data = open(path, "rb").read() if os.path.exists(path) else b""
    end = data.find(b"\n") + 1
    seq = header_seq(data[:end]) if end else None
    version = header_version(data[:end]) if end else None
    while seq is not None:
        nl = data.find(b"\n", end)
        r = parse(data[end:nl], version) if nl >= 0 else None
        if r is None or r[0] != seq:
            break
        end, seq = nl + 1, seq + 1
    tail = data[end:] if end else b""
    if tail:
        with open(tailfile, "wb") as f:
            f.write(tail)
    print("tail %d" % len(tail))
    return 0


def scan(d):
    """{seq: record id} and {record id: seq} of the whole directory; checks
    lines, order and content on the way.  Also the oldest seq there is (or
    the next one, when there is no record at all)."""
    by_seq, by_id, prev, first = {}, {}, None, None
    for n in segments(d):
        data = open(os.path.join(d, n), "rb").read()
        lines = data.split(b"\n")
        tail = lines.pop()
        if tail:
            problem("%s ends in %d bytes without a LF (a torn tail recovery left)" % (n, len(tail)))
        if not lines or header_seq(lines[0]) is None:
            problem("%s has no valid header" % n)
            continue
        if first is None:
            first = header_seq(lines[0])
        off = len(lines[0]) + 1
        version = header_version(lines[0])
        for line in lines[1:]:
            r = parse(line, version)
            off += len(line) + 1
            if r is None:
                problem("damaged line in %s at offset %d: %r" % (n, off - len(line) - 1, line[:60]))
                continue
            seq, facsev, tag, msg = r
            if prev is not None and seq != prev + 1:
                problem("gap or disorder: seq %d after %d in %s" % (seq, prev, n))
            prev = seq
            rid = msg.split(b" ", 1)[0].decode(errors="replace")
            if tag.startswith(b"pl") and "-" in rid:
                cid, recno = rid.rsplit("-", 1)
                want_tag, sev, want_msg = payload(cid, int(recno))
                if (tag, facsev, msg) != (want_tag, b"user." + SEVERITIES[sev].encode(), want_msg):
                    problem("record %s at seq %d is not what was sent: %r" % (rid, seq, line[:80]))
                if rid in by_id:
                    problem("DUPLICATE: record %s at seq %d and %d" % (rid, by_id[rid], seq))
                    counts["duplicated"] += 1
                by_id[rid] = seq
            by_seq[seq] = rid
    oldest = min(by_seq) if by_seq else (first if first is not None else 1)
    return by_seq, by_id, oldest


def read_acks(path):
    acks = []
    for line in open(path):
        p = line.split()
        if len(p) == 2 and p[0].isdigit():
            acks.append((int(p[0]), int(p[1])))
    return acks


counts = {"acked": 0, "checked": 0, "lost": 0, "duplicated": 0, "reused": 0}


def remembered(state, by_seq, oldest):
    """Every acknowledged record seen before keeps its seq until retention."""
    kept = {}
    for s, rid in state.items():
        seq = int(s)
        if seq < oldest:
            continue  # retention
        kept[s] = rid
        if seq not in by_seq:
            counts["lost"] += 1
            problem("LOSS: record %s (acknowledged, seen at seq %d before) is gone" % (rid, seq))
        elif by_seq[seq] != rid:
            counts["reused"] += 1
            problem("REUSED: seq %d was record %s, now %s" % (seq, rid, by_seq[seq]))
    return kept


def new_acks(logs, by_seq, by_id, state):
    for log in logs:
        cid = os.path.basename(log)[len("acks-"):]
        acks = read_acks(log)
        last = max((r for r, _ in acks), default=0)
        counts["acked"] += last
        missing = [r for r in range(1, last + 1) if "%s-%d" % (cid, r) not in by_id]
        counts["lost"] += len(missing)
        if missing:
            problem("LOSS: client %s had %d acknowledged, %d missing (first %s)" %
                    (cid, last, len(missing), missing[:5]))
        counts["checked"] += last - len(missing)
        for r in range(1, last + 1):
            rid = "%s-%d" % (cid, r)
            if rid in by_id:
                old = state.get(str(by_id[rid]))
                if old is not None and old != rid:
                    continue  # reported by remembered()
                state[str(by_id[rid])] = rid
        for r, seq in acks:
            rid = "%s-%d" % (cid, r)
            if by_seq.get(seq, rid) != rid:
                counts["reused"] += 1
                problem("REUSED: ACK gave seq %d to %s, disk has %s there" % (seq, rid, by_seq[seq]))


def tails_kept(d, tails):
    qdir = os.path.join(d, "quarantine")
    names = os.listdir(qdir) if os.path.isdir(qdir) else []
    have = {open(os.path.join(qdir, n), "rb").read() for n in names if n.endswith(".torn")}
    for t in tails:
        data = open(t, "rb").read()
        if data not in have:
            problem("TAIL LOST: the %d torn bytes of %s are in no quarantine file (%d files)" %
                    (len(data), os.path.basename(t), len(have)))


def check(d, statefile, tails, logs):
    state = json.load(open(statefile)) if os.path.exists(statefile) else {}
    by_seq, by_id, oldest = scan(d)
    state = remembered(state, by_seq, oldest)
    new_acks(logs, by_seq, by_id, state)
    tails_kept(d, tails)
    with open(statefile + ".new", "w") as f:
        json.dump(state, f)
    os.rename(statefile + ".new", statefile)
    print("RESULT acked=%d checked=%d lost=%d duplicated=%d reused=%d problems=%d" %
          (counts["acked"], counts["checked"], counts["lost"], counts["duplicated"],
           counts["reused"], len(problems)))
    return 1 if problems else 0


def main(argv):
    if argv[1] == "raw":
        return raw(argv[2], argv[3])
    d, statefile, rest = argv[2], argv[3], argv[4:]
    lists, key = {"--tails": [], "--acks": []}, None
    for a in rest:
        if a in lists:
            key = a
        else:
            lists[key].append(a)
    return check(d, statefile, lists["--tails"], lists["--acks"])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
