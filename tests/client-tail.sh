#!/bin/bash
# seglog tail / seglog cat against real directories:
#  1. a generated directory with known content (python3, the documented
#     line format, XXH3 from libxxhash): every filter alone and combined,
#     tail -n, -o json (parsed by python's json, non-UTF-8 as byte arrays),
#     short output escaping, raw, --cursor-file resume, damaged lines;
#  2. tail -f while engine-writer appends 200,000 records with 64 KiB
#     segments (500+ rotations): every record once, in order;
#  3. tail -f across a daemon restart and SIGUSR1 rotations;
#  4. tail -f | head -n 5 exits; SIGINT exits 0;
#  and never a write to the data directory.
set -u
. "${top_srcdir:-.}/tests/lib.sh"
export TZ=UTC
unset NO_COLOR

writer=${top_builddir:-.}/tests/engine-writer
w=$(test_tmpdir)
python3 -c 'import ctypes; ctypes.CDLL("libxxhash.so.0").XXH3_64bits' 2>/dev/null ||
	skip "python3 with libxxhash.so.0 needed to generate a directory"

# --- 1. known content ---------------------------------------------------------
# gen.py DIR: 600 records in 2 sealed segments + current.  Record i: one a
# minute ending now, tag alpha/beta/gamma, severity i%8, pid 1000+i%5,
# uid 0/1000; a few messages with control bytes, invalid UTF-8 and quotes.
# gen.py --expect DIR ARGS...: the seqs seglog should select (a model).
cat > "$w/gen.py" <<'EOF'
import ctypes, json, os, sys, time
x = ctypes.CDLL("libxxhash.so.0").XXH3_64bits
x.restype, x.argtypes = ctypes.c_uint64, [ctypes.c_char_p, ctypes.c_size_t]
SEV = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"]
N, PER = 600, 200

def ts(us):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(us // 10**6)).encode() + b".%06dZ" % (us % 10**6)

def esc(b, space):
    out, i = bytearray(), 0
    while i < len(b):
        c = b[i]
        if c == 0x5c:
            out += b"\\\\"; i += 1; continue
        if 0x20 <= c < 0x7f and not (space and c == 0x20):
            out.append(c); i += 1; continue
        if c >= 0xc2:
            for k in (2, 3, 4):
                try:
                    ch = b[i:i + k].decode("utf-8")
                except UnicodeDecodeError:
                    continue
                if len(ch) == 1 and not 0x80 <= ord(ch) <= 0x9f:
                    out += b[i:i + k]; i += k; break
            else:
                out += b"\\x%02x" % c; i += 1
            continue
        out += b"\\x%02x" % c; i += 1
    return bytes(out)

def line(body):
    return body + b" %016x\n" % x(body, len(body))

def record(i, t0):
    tag = [b"alpha", b"beta", b"gamma"][i % 3]
    msg = {7: b"\x1b[31mred\x1b]0;title\x07 \xc2\x9b2J\nnext", 8: b"bad \xff\xfe utf8",
           9: "h\u00e9llo w\u00f6rld".encode(), 10: b'say "hi" \\o/'}.get(i, b"message %d" % i)
    rec = dict(seq=i, time=t0 + i * 60 * 10**6, tag=tag, sev=i % 8, pid=1000 + i % 5,
               uid=0 if i % 2 else 1000, gid=100, msg=msg)
    body = b"%s %d user.%s %d %d %d %s - - %s" % (ts(rec["time"]), i, SEV[rec["sev"]].encode(),
            rec["pid"], rec["uid"], rec["gid"], esc(tag, True), esc(msg, False))
    return rec, line(body)

def records(t0):
    return [record(i, t0) for i in range(1, N + 1)]

def gen(d):
    os.makedirs(d)
    t0 = int(time.time() * 10**6) - N * 60 * 10**6
    open(os.path.join(d, "t0"), "w").write("%d\n" % t0)  # for --expect only
    dirid = os.urandom(16).hex().encode()
    open(os.path.join(d, "dir-id"), "wb").write(dirid + b"\n")
    recs = records(t0)
    for s in range(0, N, PER):
        first = s + 1
        name = "current" if s + PER >= N else "%020d.log" % first
        with open(os.path.join(d, name), "wb") as f:
            f.write(line(b"#seglog 1 %d %s %s" % (first, ts(recs[s][0]["time"]), dirid)))
            for r, l in recs[s:s + PER]:
                f.write(l)

def expect(d, args):
    t0 = int(open(os.path.join(d, "t0")).read())
    recs = [r for r, _ in records(t0)]
    now = int(time.time() * 10**6)
    out, n, tags = recs, None, []
    i = 0
    while i < len(args):
        a, v = args[i], args[i + 1] if i + 1 < len(args) else None
        i += 2
        if a == "-n": n = int(v)
        elif a == "-t": tags.append(v.encode())
        elif a == "-p": out = [r for r in out if r["sev"] <= int(v)]
        elif a == "--uid": out = [r for r in out if r["uid"] == int(v)]
        elif a == "--pid": out = [r for r in out if r["pid"] == int(v)]
        elif a == "--after-seq": out = [r for r in out if r["seq"] > int(v)]
        elif a == "--since-rec": out = [r for r in out if r["time"] >= recs[int(v) - 1]["time"]]
        elif a == "--until-rec": out = [r for r in out if r["time"] <= recs[int(v) - 1]["time"]]
        elif a == "--since-min": out = [r for r in out if r["time"] >= now - int(v) * 60 * 10**6]
        else: raise SystemExit("bad arg " + a)
    if tags:
        out = [r for r in out if r["tag"] in tags]
    if n is not None:
        out = out[-n:] if n else []
    print(" ".join(str(r["seq"]) for r in out))

def rectime(d, i):
    t0 = int(open(os.path.join(d, "t0")).read())
    print(ts(t0 + i * 60 * 10**6).decode())

if sys.argv[1] == "--expect": expect(sys.argv[2], sys.argv[3:])
elif sys.argv[1] == "--time": rectime(sys.argv[2], int(sys.argv[3]))
else: gen(sys.argv[1])
EOF
# seqs of JSON output lines
cat > "$w/seqs.py" <<'EOF'
import json, sys
print(" ".join(str(json.loads(l)["seq"]) for l in sys.stdin))
EOF

d=$w/data
python3 "$w/gen.py" "$d" || fail "cannot generate a directory"
touch "$w/stamp"
sleep 0.01

# sel DESCRIPTION "SEGLOG ARGS" "MODEL ARGS": seglog's selection equals the model's
sel() {
	local got want
	got=$("$SEGLOG" -d "$d" $2 -o json | python3 "$w/seqs.py")
	want=$(python3 "$w/gen.py" --expect "$d" $3)
	if [ "$got" = "$want" ]; then ok "$1"; else not_ok "$1: got '${got:0:80}…' ($(echo $got | wc -w)), expected '${want:0:80}…' ($(echo $want | wc -w))"; fi
}
t300=$(python3 "$w/gen.py" --time "$d" 300)
t450=$(python3 "$w/gen.py" --time "$d" 450)
t100=$(python3 "$w/gen.py" --time "$d" 100)

sel "cat: every record" "cat" ""
sel "tail: the last 10" "tail" "-n 10"
sel "tail -n 25" "tail -n 25" "-n 25"
sel "tail -n 0" "tail -n 0" "-n 0"
sel "tail -n 1000 (more than there are)" "tail -n 1000" "-n 1000"
sel "cat -n 3" "cat -n 3" "-n 3"
sel "-t alpha" "cat -t alpha" "-t alpha"
sel "-t alpha -t gamma" "cat -t alpha -t gamma" "-t alpha -t gamma"
sel "-t nosuchtag" "cat -t nosuchtag" "-t nosuchtag"
sel "-p err" "cat -p err" "-p 3"
sel "-p 4" "cat -p 4" "-p 4"
sel "-p emerg" "cat -p emerg" "-p 0"
sel "--uid 1000" "cat --uid 1000" "--uid 1000"
sel "--uid root" "cat --uid root" "--uid 0"
sel "--pid 1003" "cat --pid 1003" "--pid 1003"
sel "--after-seq 450" "cat --after-seq 450" "--after-seq 450"
sel "--after-seq 600" "cat --after-seq 600" "--after-seq 600"
sel "--since RFC 3339" "cat --since $t300" "--since-rec 300"
sel "--until" "cat --until $t100" "--until-rec 100"
sel "--since + --until" "cat --since $t300 --until $t450" "--since-rec 300 --until-rec 450"
sel "--since -30min (relative)" "cat --since -30min" "--since-min 30"
sel "--since @epoch" "cat --since @$(date -d "$t300" +%s)" "--since-rec 300"
sel "tail -t beta (last 10 of a tag)" "tail -t beta" "-t beta -n 10"
sel "tail -n 7 -p crit --uid 1000" "tail -n 7 -p crit --uid 1000" "-p 2 --uid 1000 -n 7"
sel "all combined" "cat -t beta -t gamma -p warning --uid 0 --pid 1001 --since $t100 --until $t450 --after-seq 150" \
	"-t beta -t gamma -p 4 --uid 0 --pid 1001 --since-rec 100 --until-rec 450 --after-seq 150"
sel "tail combined with -n" "tail -n 4 -t alpha --since $t100 --until $t450" "-t alpha --since-rec 100 --until-rec 450 -n 4"
# the "local time" form needs a space; sel splits on spaces, so run it here
got=$("$SEGLOG" -d "$d" cat --since "${t300:0:10} ${t300:11:8}" -o json | python3 "$w/seqs.py" | wc -w)
check_eq "--since 'YYYY-MM-DD HH:MM:SS'" "$got" 301
"$SEGLOG" -d "$d" cat --since "yesterday-ish" > /dev/null 2>&1
check_eq "a bad --since is a usage error" "$?" 2
"$SEGLOG" -d "$d" cat -p nosuch > /dev/null 2>&1
check_eq "a bad -p is a usage error" "$?" 2

# -o json: valid JSON per line, the PRODUCT §3 fields, byte arrays
"$SEGLOG" -d "$d" cat -o json > "$w/all.json"
check "-o json: exit 0" test $? = 0
check "-o json parses with python3 json, fields and values as written" python3 - "$w/all.json" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1], "rb")]
assert len(recs) == 600, len(recs)
want = ["seq", "time", "pid", "uid", "gid", "facility", "severity", "tag", "message"]
for r in recs:
    assert list(r) == want, list(r)
    assert r["facility"] == "user" and r["time"].endswith("Z") and len(r["time"]) == 27
r = recs[6]
assert r["message"] == "\x1b[31mred\x1b]0;title\x07 \u009b2J\nnext", r
assert recs[7]["message"] == list(b"bad \xff\xfe utf8"), recs[7]
assert recs[8]["message"] == "h\u00e9llo w\u00f6rld"
assert recs[9]["message"] == 'say "hi" \\o/'
assert (recs[41]["seq"], recs[41]["tag"], recs[41]["severity"], recs[41]["pid"], recs[41]["uid"],
        recs[41]["gid"]) == (42, "alpha", "crit", 1002, 1000, 100), recs[41]
EOF
check "-o json is also accepted by python3 -m json.tool" python3 -m json.tool --json-lines "$w/all.json" /dev/null

# short output: local time, tag[pid]: message; control bytes escaped
line7=$("$SEGLOG" -d "$d" cat --after-seq 6 --until "$(python3 "$w/gen.py" --time "$d" 7)")
check "short: tag[pid]: message" grep -q 'beta\[1002\]: \\x1b\[31mred' <<< "$line7"
check "short: ESC, BEL, C1 and newline escaped" grep -qF '\x1b[31mred\x1b]0;title\x07 \xc2\x9b2J\nnext' <<< "$line7"
check "short: no raw control byte in the whole output" \
	sh -c "! '$SEGLOG' -d '$d' cat | tr -d '\n' | LC_ALL=C grep -q '[[:cntrl:]]'"
check "short: local time and this host's name, like journalctl" \
	sh -c "'$SEGLOG' -d '$d' tail -n 1 | grep -qE '^[A-Z][a-z]{2} [0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} $(hostname) alpha\\[1000\\]: message 600$'"
check "short: not a terminal, so no colours" sh -c "! '$SEGLOG' -d '$d' cat -p err | grep -q $'\x1b\\['"
check "raw: message bytes only (a newline in 7 is raw too)" \
	sh -c "'$SEGLOG' -d '$d' cat -o raw | sed -n 10p | grep -qx 'héllo wörld'"
check_eq "raw: bytes as they are when not on a terminal" \
	"$("$SEGLOG" -d "$d" cat -o raw --after-seq 7 -n 1 --until "$(python3 "$w/gen.py" --time "$d" 8)" | od -An -tx1 | tr -d ' \n')" \
	"62616420fffe20757466380a"
if command -v script > /dev/null; then
	script -qec "'$SEGLOG' -d '$d' cat -p err -n 1 --no-pager" /dev/null > "$w/tty.out" 2>&1
	check "on a terminal: colour by severity" grep -q $'\x1b\\[1;31m' "$w/tty.out"
	script -qec "'$SEGLOG' -d '$d' cat -p err -n 1 --no-color --no-pager" /dev/null > "$w/tty.out" 2>&1
	check "--no-color" sh -c "! grep -q $'\x1b' '$w/tty.out'"
	script -qec "'$SEGLOG' -d '$d' cat -o raw --after-seq 6 --until $(python3 "$w/gen.py" --time "$d" 7) --no-pager" /dev/null > "$w/tty.out" 2>&1
	check "raw on a terminal: escaped" grep -qF '\x1b[31mred' "$w/tty.out"
fi

# --cursor-file: resume after the last printed seq; written atomically
c=$w/cursor
out=$("$SEGLOG" -d "$d" cat --cursor-file "$c" --until "$t100" -o json | python3 "$w/seqs.py" | wc -w)
check_eq "cursor: first run prints 1..100" "$out" 100
check_eq "cursor: file holds 100" "$(cut -d" " -f4 "$c")" 100
got=$("$SEGLOG" -d "$d" cat --cursor-file "$c" -o json | python3 "$w/seqs.py")
check_eq "cursor: second run resumes at 101" "$(echo $got | cut -d' ' -f1) $(echo $got | wc -w)" "101 500"
check_eq "cursor: file holds 600" "$(cut -d" " -f4 "$c")" 600
check_eq "cursor: third run prints nothing" "$("$SEGLOG" -d "$d" cat --cursor-file "$c" | wc -l)" 0
check_eq "cursor: tail resumes after it too" "$("$SEGLOG" -d "$d" tail --cursor-file "$c" | wc -l)" 0
check "cursor: no temporary left" sh -c "! ls -a '$w' | grep -q '^\.tmp'"
"$SEGLOG" -d "$d" cat --cursor-file "$d/cursor" > /dev/null 2>"$w/err"
check_eq "cursor: refused inside the data directory" "$?" 1
check "cursor: ... with a message" grep -q 'data directory' "$w/err"
echo garbage > "$w/badcursor"
"$SEGLOG" -d "$d" cat --cursor-file "$w/badcursor" > /dev/null 2>&1
check_eq "cursor: a file without a seq is an error" "$?" 1
echo 100 > "$w/badcursor"
"$SEGLOG" -d "$d" cat --cursor-file "$w/badcursor" > /dev/null 2> "$w/err"
check_eq "cursor: a bare seq (no directory id to check) is refused" "$?" 1
check "  ... with a message" grep -q "does not hold a seglog cursor" "$w/err"
check_eq "cursor: the file holds the directory id" "$(cut -d' ' -f1-3 "$c")" "seglog-cursor 1 $(cat "$d/dir-id")"
# a cursor of another directory (or of this path recreated): refused
other=0123456789abcdef0123456789abcdef
printf 'seglog-cursor 1 %s 100\n' $other > "$w/foreign"
"$SEGLOG" -d "$d" cat --cursor-file "$w/foreign" > "$w/out" 2> "$w/err"
check_eq "cursor of another directory: exit 1" "$?" 1
check_eq "  ... nothing printed" "$(wc -c < "$w/out")" 0
check "  ... the message names both directory ids" grep -q "$other.*$(cat "$d/dir-id")" "$w/err"
check_eq "  ... the cursor file is left as it was" "$(cat "$w/foreign")" "seglog-cursor 1 $other 100"
# ... also when the directory's id is only learnt from a segment header
cp -a "$d" "$w/noid"
rm "$w/noid/dir-id"
"$SEGLOG" -d "$w/noid" tail -f --cursor-file "$w/foreign" > "$w/out" 2> "$w/err"
check_eq "cursor of another directory, no dir-id file: tail -f exits 1" "$?" 1
check_eq "  ... nothing printed" "$(wc -c < "$w/out")" 0
check "  ... the message names both directory ids" grep -q "$other.*$(cat "$d/dir-id")" "$w/err"
printf 'seglog-cursor 1 %s 0\n' "$(cat "$d/dir-id")" > "$w/zero"
check_eq "cursor at 0: everything from the start" \
	"$("$SEGLOG" -d "$d" tail --cursor-file "$w/zero" -o json | python3 "$w/seqs.py" | wc -w)" 600

check_eq "nothing was written to the data directory" \
	"$(find "$d" -newer "$w/stamp"; ls -A "$d" | tr '\n' ' ')" \
	"00000000000000000001.log 00000000000000000201.log current dir-id t0 "

# damaged lines: a warning naming file and offset, the rest shown, exit 1
cp -a "$d" "$w/damaged"
seg=$w/damaged/00000000000000000201.log
off=$(grep -b -m1 ' 250 user' "$seg" | cut -d: -f1)
printf 'Z' | dd of="$seg" bs=1 seek=$((off + 60)) conv=notrunc 2>/dev/null
"$SEGLOG" -d "$w/damaged" cat -o json > "$w/dmg.json" 2> "$w/dmg.err"
check_eq "damaged: exit 1" "$?" 1
check "damaged: warning names file and offset" grep -q "00000000000000000201.log:$off: damaged line" "$w/dmg.err"
check_eq "damaged: the other 599 records shown" "$(python3 "$w/seqs.py" < "$w/dmg.json" | wc -w)" 599
"$SEGLOG" -d "$w/damaged" tail -n 3 > /dev/null 2>&1
check_eq "damaged: tail -n 3 does not read it (exit 0)" "$?" 0

# --- 2. tail -f across 500+ rotations while a writer appends -------------------
f=$w/follow
mkdir -m 0750 "$f"
"$SEGLOG" -d "$f" tail -f -n all -o raw > "$w/follow.out" 2> "$w/follow.err" &
tpid=$!
sleep 0.3
if ! "$writer" write "$f" 200000 write 65536 > /dev/null 2> "$w/writer.err"; then
	[ $? = 77 ] && { kill $tpid; skip "io_uring unavailable"; }
	fail "engine-writer failed: $(cat "$w/writer.err")"
fi
for i in $(seq 1 100); do
	[ "$(wc -l < "$w/follow.out")" -ge 200000 ] && break
	sleep 0.1
done
kill -INT $tpid
wait $tpid
check_eq "tail -f: exit 0 on SIGINT" "$?" 0
rot=$(ls "$f" | grep -c '\.log$')
check "tail -f: the writer rotated 100+ times ($rot)" test "$rot" -ge 100
check_eq "tail -f: 200000 records, each once, in order" \
	"$(awk '$2 != NR { print "first wrong at line " NR ": " $0; exit } END { if (NR != 200000) print NR " lines" }' "$w/follow.out")" ""
check_eq "tail -f: no warnings" "$(cat "$w/follow.err")" ""

# tail -f | head -n 5 ends although no record arrives any more
start=$(date +%s)
timeout 20 "$SEGLOG" -d "$f" tail -f | head -n 5 > "$w/head.out"
rc=${PIPESTATUS[0]}
check_eq "tail -f | head -n 5: tail exits 0 (not killed by timeout)" "$rc" 0
check_eq "tail -f | head -n 5: five lines" "$(wc -l < "$w/head.out")" 5
check "tail -f | head -n 5: promptly" test $(($(date +%s) - start)) -le 5

# --- 3. tail -f across a daemon restart and SIGUSR1 ------------------------------
dw=$w/daemon
mkdir "$dw"
printf '[storage]\nsegment_size = 64K\ndurability = write\n' > "$dw/conf"
start_daemon "$dw" -c "$dw/conf" || fail "seglogd did not start"
"$SEGLOG" -d "$dw/data" tail -f -n all -o json --cursor-file "$w/fcursor" > "$w/d.json" 2> "$w/d.err" &
tpid=$!
$PROTO_CLIENT "$dw/sock" send 20000 --size 100 --id a > "$w/p1" || not_ok "send 1: $(cat "$w/p1")"
kill -USR1 $DAEMON_PID
stop_daemon
check_eq "daemon stopped cleanly" "$?" 0
sleep 0.3
start_daemon "$dw" -c "$dw/conf" || fail "seglogd did not restart"
$PROTO_CLIENT "$dw/sock" send 20000 --size 100 --id b > "$w/p2" || not_ok "send 2: $(cat "$w/p2")"
kill -USR1 $DAEMON_PID
$PROTO_CLIENT "$dw/sock" send 100 --size 100 --id c > "$w/p3" || not_ok "send 3: $(cat "$w/p3")"
for i in $(seq 1 100); do
	[ "$(wc -l < "$w/d.json")" -ge 40100 ] && break
	sleep 0.1
done
for i in $(seq 1 50); do
	[ "$(cut -d" " -f4 "$w/fcursor" 2>/dev/null)" = 40100 ] && break
	sleep 0.1
done
check_eq "tail -f --cursor-file: cursor written while following" "$(cut -d" " -f4 "$w/fcursor" 2>/dev/null)" 40100
kill -TERM $tpid
wait $tpid
check_eq "tail -f: exit 0 on SIGTERM" "$?" 0
check_eq "tail -f across a restart and rotations: 40100 records once, in order" \
	"$(python3 "$w/seqs.py" < "$w/d.json" | tr ' ' '\n' | awk '$1 != NR { print "wrong at " NR ": " $1; exit } END { if (NR != 40100) print NR " records" }')" ""
$PROTO_CLIENT "$dw/sock" send 5 --id d > /dev/null
check_eq "cursor resume after -f: only the new ones" \
	"$("$SEGLOG" -d "$dw/data" cat --cursor-file "$w/fcursor" -o json | python3 "$w/seqs.py")" \
	"40101 40102 40103 40104 40105"
stop_daemon

summary
