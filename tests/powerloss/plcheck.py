#!/usr/bin/env python3
"""Checks a seglog data directory after a power cut (tests/powerloss/powerloss.sh).

  plcheck.py raw DATADIR TAILFILE
      Right after the cut, before seglogd recovers: writes the torn tail of
      current (the bytes after its last intact line, which recovery must move
      to quarantine/) to TAILFILE if there is one.  Prints "tail N".
  plcheck.py check DATADIR STATE [--log SEGLOGD_LOG] [--tails TAILFILE...]
                 [--acks ACKLOG...]
      After seglogd recovered.  Each ACKLOG is "acks-<client id>" with the
      "recno seq" of every ACK that client received (an ACK of recno r
      acknowledges records 1..r).  SEGLOGD_LOG is the daemon's log over the
      whole run: its "Retention (...) removed DIR/NAME" lines are the only
      way a remembered record may leave the disk.  Checked:
        - every line of every segment parses (no damage, no unrecovered torn
          tail), seqs rise by exactly one across sealed segments and current
          (gapless; only the history before the first retained record may be
          gone), no record twice;
        - every record of a client is whole: message, tag, facility and
          severity are what plclient.payload() sent;
        - every record acknowledged in ACKLOG is on disk (the driver keeps
          retention wide enough that none can have fallen to it yet), each
          ACK (recno, seq) names exactly that record at that seq, and each
          client's records (acknowledged or not) have seqs that rise with
          their recno (one connection's records are committed in order);
        - STATE (JSON: every acknowledged record seen so far, with its seq
          and the segment that held it; rewritten by this check) still
          holds: each remembered seq carries the same record (a seq given
          to another record is "reused"), and a remembered record is gone
          only with its whole segment, removed by retention: logged in
          SEGLOGD_LOG, or (a cut between the unlink and its log line) the
          one newest segment gone since the last check, older than every
          segment on disk; any other absence is "lost" (a missing prefix
          of the history does not pass as retention);
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
    by_seq, by_id, seg_of, prev, first = {}, {}, {}, None, None
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
        seg_first = header_seq(lines[0])
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
            seg_of[seq] = seg_first
    oldest = min(by_seq) if by_seq else (first if first is not None else 1)
    return by_seq, by_id, seg_of, oldest


def on_disk_firsts(d):
    """First seqs of the segments on disk (sealed: by name; current: by header)."""
    firsts = set()
    for n in segments(d):
        if n == "current":
            with open(os.path.join(d, n), "rb") as f:
                seq = header_seq(f.readline().rstrip(b"\n"))
            if seq is not None:
                firsts.add(seq)
        else:
            firsts.add(int(n[:20]))
    return firsts


RETENTION = re.compile(r"Retention \([^)]*\) removed \S*/(\d{20})\.log ")


def retention_logged(logfile):
    """First seqs of the segments the daemon logged as removed by retention."""
    if not logfile or not os.path.exists(logfile):
        return set()
    return {int(m.group(1)) for m in map(RETENTION.search, open(logfile, errors="replace")) if m}


def read_acks(path):
    acks = []
    for line in open(path):
        p = line.split()
        if len(p) == 2 and p[0].isdigit():
            acks.append((int(p[0]), int(p[1])))
    return acks


counts = {"acked": 0, "checked": 0, "lost": 0, "duplicated": 0, "reused": 0}


def remembered(state, by_seq, firsts, logged):
    """Every acknowledged record seen before keeps its seq, and leaves the
    disk only with its whole segment, removed by retention."""
    records, unlogged = state["records"], set(state["unlogged"])
    kept, gone = {}, {}
    oldest_seg = min(firsts) if firsts else None
    for s, (rid, seg) in records.items():
        seq = int(s)
        if seq in by_seq:
            kept[s] = [rid, seg]
            if by_seq[seq] != rid:
                counts["reused"] += 1
                problem("REUSED: seq %d was record %s, now %s" % (seq, rid, by_seq[seq]))
        elif seg in logged or seg in unlogged:
            continue  # retention
        else:
            gone.setdefault(seg, []).append((seq, rid))
    # a cut between an unlink and its log line: at most the one newest
    # segment gone since the last check, and older than all on disk
    # (retention removes from the oldest end, each removal durable first)
    if len(gone) == 1:
        seg = next(iter(gone))
        if seg not in firsts and (oldest_seg is None or seg < oldest_seg):
            unlogged.add(seg)
            print("note: segment %d gone without its retention log line (a cut after the unlink)" % seg)
            gone = {}
    for seg, lost in sorted(gone.items()):
        for seq, rid in lost:
            counts["lost"] += 1
            problem("LOSS: record %s (acknowledged, seen at seq %d in segment %d before) is gone%s" %
                    (rid, seq, seg, " with its segment, which retention did not remove"
                     if seg not in firsts else ""))
    return {"records": kept, "unlogged": sorted(unlogged)}


def new_acks(logs, by_seq, by_id, seg_of, state):
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
        records = state["records"]
        for r in range(1, last + 1):
            rid = "%s-%d" % (cid, r)
            if rid in by_id:
                old = records.get(str(by_id[rid]))
                if old is not None and old[0] != rid:
                    continue  # reported by remembered()
                records[str(by_id[rid])] = [rid, seg_of[by_id[rid]]]
        for r, seq in acks:
            rid = "%s-%d" % (cid, r)
            if rid in by_id and by_id[rid] != seq:
                counts["reused"] += 1
                problem("WRONG SEQ: the ACK gave %s seq %d, the disk has it at seq %d%s" %
                        (rid, seq, by_id[rid], " (and %s at %d)" % (by_seq[seq], seq)
                         if seq in by_seq else ""))


def in_order(by_id):
    """One connection's records are committed in the order sent: each
    client's seqs rise with its recnos (every client on disk, acked or not)."""
    mine = {}
    for rid, seq in by_id.items():
        cid, recno = rid.rsplit("-", 1)
        mine.setdefault(cid, []).append((int(recno), seq))
    for cid, recs in sorted(mine.items()):
        recs.sort()
        for (ra, qa), (rb, qb) in zip(recs, recs[1:]):
            if qb <= qa:
                problem("ORDER: client %s's record %d has seq %d, after record %d at seq %d" %
                        (cid, rb, qb, ra, qa))
                break


def tails_kept(d, tails):
    qdir = os.path.join(d, "quarantine")
    names = os.listdir(qdir) if os.path.isdir(qdir) else []
    have = {open(os.path.join(qdir, n), "rb").read() for n in names if n.endswith(".torn")}
    for t in tails:
        data = open(t, "rb").read()
        if data not in have:
            problem("TAIL LOST: the %d torn bytes of %s are in no quarantine file (%d files)" %
                    (len(data), os.path.basename(t), len(have)))


def check(d, statefile, tails, logs, logfile):
    state = json.load(open(statefile)) if os.path.exists(statefile) else {}
    state.setdefault("records", {})
    state.setdefault("unlogged", [])
    by_seq, by_id, seg_of, _ = scan(d)
    state = remembered(state, by_seq, on_disk_firsts(d), retention_logged(logfile))
    new_acks(logs, by_seq, by_id, seg_of, state)
    in_order(by_id)
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
    lists, key = {"--tails": [], "--acks": [], "--log": []}, None
    for a in rest:
        if a in lists:
            key = a
        else:
            lists[key].append(a)
    return check(d, statefile, lists["--tails"], lists["--acks"],
                 lists["--log"][0] if lists["--log"] else None)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
