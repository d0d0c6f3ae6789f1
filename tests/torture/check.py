#!/usr/bin/env python3
"""Checks a torture run (tests/torture/torture.sh).

usage: check.py DATADIR ACKLOG...
Each ACKLOG belongs to one client id (its file name: acks-<id>) and holds
"recno seq" lines for every ACK the client received.  Records on disk carry
the message "<id>-<recno> ...".  Checked:
  - seqs on disk strictly increase by one from the oldest retained record
    to the newest (gapless outside retention), none twice;
  - every message is on disk at most once (no duplicates);
  - for every client, the retained records form one contiguous run of
    recnos reaching at least the last acknowledged recno (no loss), and
    every ACK (recno, seq) whose seq is still retained points at exactly
    that client's record (no seq reuse, content intact).
A final line of current without its LF (torn by a kill, not yet recovered)
is ignored.  Prints totals and "N passed, N failed".
"""
import os, re, sys

d = sys.argv[1]
names = sorted(f for f in (os.listdir(d) if os.path.isdir(d) else [])
               if re.fullmatch(r"\d{20}\.log", f))
if os.path.exists(os.path.join(d, "current")):
    names.append("current")
by_seq = {}
seen_msg = {}
dups = 0
prev = None
gaps = 0
records = 0
for n in names:
    with open(os.path.join(d, n), "rb") as f:
        for line in f:
            if line.startswith(b"#"):
                continue
            if not line.endswith(b"\n") and n == "current":
                continue  # a torn tail the next start will quarantine
            parts = line.split(b" ", 9)
            seq = int(parts[1])
            msg = parts[9].rsplit(b" ", 1)[0].split(b" ", 1)[0]
            if prev is not None and seq != prev + 1:
                gaps += 1
                print("gap or disorder: seq %d after %d in %s" % (seq, prev, n))
            prev = seq
            records += 1
            by_seq[seq] = msg
            if msg in seen_msg:
                dups += 1
                print("duplicate message %r (seq %d and %d)" % (msg, seen_msg[msg], seq))
            seen_msg[msg] = seq
min_seq = min(by_seq) if by_seq else 1

losses = 0
mismatches = 0
acked_total = 0
verified = 0  # acknowledged records found on disk with their content
for log in sys.argv[2:]:
    cid = os.path.basename(log)[len("acks-"):]
    acks = []
    with open(log) as f:
        for line in f:
            p = line.split()
            if len(p) == 2 and p[0].isdigit():
                acks.append((int(p[0]), int(p[1])))
    last = acks[-1][0] if acks else 0
    acked_total += last
    if acks and acks[-1][1] < min_seq:
        continue  # everything this client had acknowledged fell to retention
    present = sorted(int(m.split(b"-")[-1]) for m in seen_msg
                     if m.rsplit(b"-", 1)[0] == cid.encode())
    if last and (not present or present[-1] < last):
        losses += 1
        print("LOSS: client %s acknowledged up to %d, newest on disk %s" %
              (cid, last, present[-1] if present else None))
    if present and present != list(range(present[0], present[-1] + 1)):
        holes = sorted(set(range(present[0], present[-1] + 1)) - set(present))
        losses += 1
        print("LOSS: client %s misses records %s" % (cid, holes[:10]))
    verified += len([r for r in present if r <= last])
    for recno, seq in acks:
        if seq >= min_seq and by_seq.get(seq) != ("%s-%d" % (cid, recno)).encode():
            mismatches += 1
            print("MISMATCH: ack (%d, %d) of %s, disk has %r" % (recno, seq, cid, by_seq.get(seq)))
failed = gaps + dups + losses + mismatches
print("records on disk %d (seq %d..%d), acknowledged %d, verified %d, losses %d, duplicates %d, "
      "gaps %d, ack mismatches %d" % (records, min_seq, prev or 0, acked_total, verified, losses,
                                      dups, gaps, mismatches))
print("%d passed, %d failed" % (0 if failed else 1, 1 if failed else 0))
sys.exit(1 if failed else 0)
