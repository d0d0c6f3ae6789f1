#!/bin/bash
# Readers deliver only durable records (PRODUCT.md §2.9, docs/format.md
# §8): while a writer holds DIR/lock, nothing above DIR/watermark; with no
# writer, every valid record but those of `current` that recovery cuts.
#  1. a simulated writer (python: flock(LOCK_EX) on DIR/lock, DIR/watermark
#     rewritten in place in the documented format): cat and tail -n stop at
#     the watermark; a watermark of another directory, none, or garbage
#     means nothing; tail -f prints a record once the watermark passes it,
#     and everything valid once the writer is gone;
#  2. no writer: a torn tail and a record after it are reported, not shown;
#  3. the real seglogd: a record written into current but not yet durable
#     (the daemon stopped with SIGSTOP, the line appended by hand) is not
#     shown while it holds the lock, and is shown exactly once by a running
#     tail -f after the daemon is killed and recovery kept it.
set -u
. "${top_srcdir:-.}/tests/lib.sh"

writer=${top_builddir:-.}/tests/engine-writer
w=$(test_tmpdir)
python3 -c 'import ctypes; ctypes.CDLL("libxxhash.so.0").XXH3_64bits' 2>/dev/null ||
	skip "python3 with libxxhash.so.0 needed to write record lines"

# holder.py DIR: holds DIR/lock like seglogd and obeys one command a line
# on stdin, answering "ok": "wm SEQ" (watermark of DIR/dir-id), "wmid HEX
# SEQ" (of another id), "garbage", "rm", "quit" (releases the lock).
cat > "$w/holder.py" <<'EOF'
import fcntl, os, sys
d = sys.argv[1]
lock = os.open(os.path.join(d, "lock"), os.O_RDWR | os.O_CREAT, 0o640)
fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
dirid = open(os.path.join(d, "dir-id")).read().strip()
wm = os.path.join(d, "watermark")
def put(b):
    fd = os.open(wm, os.O_WRONLY | os.O_CREAT, 0o640)
    os.pwrite(fd, b, 0)
    os.ftruncate(fd, len(b))
    os.close(fd)
print("ok", flush=True)
for line in sys.stdin:
    c = line.split()
    if c[0] == "wm":
        put(b"seglog-watermark 1 %s %020d\n" % (dirid.encode(), int(c[1])))
    elif c[0] == "wmid":
        put(b"seglog-watermark 1 %s %020d\n" % (c[1].encode(), int(c[2])))
    elif c[0] == "garbage":
        put(b"seglog-watermark 1 zz\n")
    elif c[0] == "rm":
        os.unlink(wm)
    elif c[0] == "quit":
        break
    print("ok", flush=True)
EOF
# line.py SEQ [MSG]: a valid record line of seq SEQ (the documented format,
# version 2: no HOST, MSGID or SD)
cat > "$w/line.py" <<'EOF'
import ctypes, sys, time
x = ctypes.CDLL("libxxhash.so.0").XXH3_64bits
x.restype, x.argtypes = ctypes.c_uint64, [ctypes.c_char_p, ctypes.c_size_t]
us = int(time.time() * 10**6)
t = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(us // 10**6)).encode() + b".%06dZ" % (us % 10**6)
msg = sys.argv[2].encode() if len(sys.argv) > 2 else b"by hand"
body = b"%s %d user.info 1 0 0 hand - - - - - %s" % (t, int(sys.argv[1]), msg)
sys.stdout.buffer.write(body + b" %016x\n" % x(body, len(body)))
EOF
cat > "$w/seqs.py" <<'EOF'
import json, sys
print(" ".join(str(json.loads(l)["seq"]) for l in sys.stdin))
EOF

# cmd LINE: one command to the holder, waiting for its "ok"
cmd() {
	echo "$1" >&"${H[1]}"
	local reply
	read -r -t 10 -u "${H[0]}" reply
	[ "$reply" = ok ] || fail "holder: '$1' got '$reply'"
}
seqs() { "$SEGLOG" -d "$d" "$@" -o json 2> "$w/err" | python3 "$w/seqs.py"; }
# wait_lines FILE N: polls until FILE has at least N lines
wait_lines() {
	local i
	for i in $(seq 1 400); do
		[ "$(wc -l < "$1")" -ge "$2" ] && return 0
		sleep 0.025
	done
	return 1
}

# --- 1. a simulated writer ---------------------------------------------------------
d=$w/sim
if ! "$writer" write "$d" 100 write 4096 > /dev/null 2> "$w/writer.err"; then
	[ $? = 77 ] && skip "io_uring unavailable"
	fail "engine-writer: $(cat "$w/writer.err")"
fi
trace "$(ls "$d" | grep -c '\.log$') sealed segments + current"
coproc H { exec python3 "$w/holder.py" "$d"; }
read -r -t 10 -u "${H[0]}" reply
[ "$reply" = ok ] || fail "the holder did not take the lock"
check "the holder counts as a writer (verify says the lock is held)" \
	sh -c "printf 'x' >> '$d/current'; '$SEGLOG' -d '$d' verify | grep -q 'is being written'; r=\$?; truncate -s -1 '$d/current'; exit \$r"

cmd "wm 50"
check_eq "writer, watermark 50: cat prints 1..50" "$(seqs cat)" "$(seq -s ' ' 1 50)"
check_eq "  ... without a warning" "$(cat "$w/err")" ""
check_eq "writer, watermark 50: tail -n 3 prints 48..50" "$(seqs tail -n 3)" "48 49 50"
check_eq "writer, watermark 50: cat --after-seq 60 prints nothing" "$(seqs cat --after-seq 60)" ""
check_eq "writer, watermark 50: cat --after-seq 45 prints 46..50" "$(seqs cat --after-seq 45)" "46 47 48 49 50"
cmd "wmid 00000000000000000000000000000001 100"
check_eq "a watermark of another directory: nothing" "$(seqs cat)" ""
cmd "garbage"
check_eq "a watermark that does not parse: nothing" "$(seqs cat)" ""
cmd "rm"
check_eq "no watermark while a writer holds the lock: nothing" "$(seqs cat)" ""
check_eq "  ... and tail -n 10 prints nothing either" "$(seqs tail -n 10)" ""

# tail -f: started with nothing durable, it prints each record once the
# watermark passes it.  All 100 are in the file from the start: if the
# reader ignored the watermark, its first output would hold them all.
"$SEGLOG" -d "$d" tail -f -n all -o json > "$w/f.json" 2> "$w/f.err" &
tpid=$!
cmd "wm 30"
wait_lines "$w/f.json" 30 || not_ok "tail -f printed nothing after the watermark moved to 30"
check_eq "tail -f, watermark 30: 1..30 and no more" "$(python3 "$w/seqs.py" < "$w/f.json")" \
	"$(seq -s ' ' 1 30)"
cmd "wm 70"
wait_lines "$w/f.json" 70 || not_ok "tail -f did not follow the watermark to 70"
check_eq "tail -f, watermark 70: 1..70 and no more" "$(python3 "$w/seqs.py" < "$w/f.json")" \
	"$(seq -s ' ' 1 70)"
echo quit >&"${H[1]}"
wait "$H_PID" # the lock is released
wait_lines "$w/f.json" 100 || not_ok "tail -f did not print the rest once the writer was gone"
kill -TERM $tpid
wait $tpid
check_eq "tail -f: exit 0" "$?" 0
check_eq "the writer gone: tail -f printed 1..100, each once" \
	"$(python3 "$w/seqs.py" < "$w/f.json")" "$(seq -s ' ' 1 100)"
check_eq "  ... and warned of nothing" "$(cat "$w/f.err")" ""
check_eq "no writer: cat prints 1..100" "$(seqs cat)" "$(seq -s ' ' 1 100)"

# --- 2. no writer: what a torn tail prints ---------------------------------------------
cp -a "$d" "$w/torn"
printf '2026-11-24T09:02:35.123456Z 101 user.in' >> "$w/torn/current"
"$SEGLOG" -d "$w/torn" cat -o json > "$w/t.json" 2> "$w/t.err"
check_eq "an incomplete last line, no writer: cat exits 1" "$?" 1
check_eq "  ... prints 1..100" "$(python3 "$w/seqs.py" < "$w/t.json")" "$(seq -s ' ' 1 100)"
check "  ... and says it is a torn tail that recovery cuts" \
	grep -q "current:[0-9]*: damaged line skipped: incomplete last line (a torn tail; recovery cuts it)" "$w/t.err"
size=$(stat -c %s "$d/current")
printf 'garbage that does not check\n' >> "$d/current"
python3 "$w/line.py" 101 >> "$d/current"
printf '2026-11-24T09:02:35.123456Z 102 user.in' >> "$d/current"
"$SEGLOG" -d "$d" cat -o json > "$w/t.json" 2> "$w/t.err"
check_eq "torn tail, no writer: cat exits 1" "$?" 1
check_eq "  ... prints 1..100" "$(python3 "$w/seqs.py" < "$w/t.json")" "$(seq -s ' ' 1 100)"
check "  ... names the damaged line" grep -q "current:$size: damaged line skipped" "$w/t.err"
check "  ... says why the valid record after it is not shown" \
	grep -q "current:$((size + 28)): damaged line skipped: a record after a torn tail.*recovery cuts it" "$w/t.err"
check_eq "torn tail: tail -n 2 prints 99 100" "$(seqs tail -n 2)" "99 100"
mkdir "$w/sd"
start_daemon "$w/sd" --dir "$d" || fail "seglogd did not start on the torn directory"
$PROTO_CLIENT "$w/sd/sock" send 3 --id after > /dev/null || not_ok "send after recovery"
stop_daemon
check_eq "after recovery: 1..103, the cut record's seq given to a new one" "$(seqs cat)" \
	"$(seq -s ' ' 1 103)"
check "  ... the record 101 written by hand is in quarantine/" grep -q ' 101 user.info 1 0 0 hand ' "$d"/quarantine/*

# --- 3. the real daemon --------------------------------------------------------------------
dw=$w/real
mkdir -p "$dw"
start_daemon "$dw" || fail "seglogd did not start"
$PROTO_CLIENT "$dw/sock" send 20 --id a > /dev/null || not_ok "send 20"
"$SEGLOG" -d "$dw/data" tail -f -n all -o json > "$w/r.json" 2> "$w/r.err" &
tpid=$!
wait_lines "$w/r.json" 20 || not_ok "tail -f did not print the 20 acknowledged records"
kill -STOP "$DAEMON_PID"
python3 "$w/line.py" 21 "written, not yet durable" >> "$dw/data/current"
d=$dw/data
check_eq "daemon holding the lock, record 21 in current but not durable: cat prints 1..20" \
	"$(seqs cat)" "$(seq -s ' ' 1 20)"
check_eq "  ... tail -n 1 prints 20" "$(seqs tail -n 1)" 20
check_eq "  ... verify counts 21 records (it checks bytes, not durability)" \
	"$("$SEGLOG" -d "$d" verify | grep -o '[0-9]* records')" "21 records"
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2> /dev/null
wait_lines "$w/r.json" 21 || not_ok "tail -f did not print 21 once the writer was gone"
start_daemon "$dw" || fail "seglogd did not restart"
$PROTO_CLIENT "$dw/sock" send 5 --id b > /dev/null || not_ok "send 5"
wait_lines "$w/r.json" 26 || not_ok "tail -f did not print the new records"
kill -TERM $tpid
wait $tpid
stop_daemon
check_eq "tail -f across SIGSTOP, SIGKILL and recovery: 1..26 once each" \
	"$(python3 "$w/seqs.py" < "$w/r.json")" "$(seq -s ' ' 1 26)"
check_eq "  ... the hand-written record 21 kept by recovery" \
	"$(sed -n 21p "$w/r.json" | grep -c 'written, not yet durable')" 1
check_eq "  ... no warnings" "$(cat "$w/r.err")" ""

summary
