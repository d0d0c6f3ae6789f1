#!/bin/bash
# seglog rotate, sync, reload and vacuum through the real binaries
# (protocol version 2, CONTROL / CONTROL_DONE), including the refusals:
#   rotate: nothing to seal; seals what was received, returns once sealed;
#   sync: returns with the watermark at or past every record sent before;
#   reload: applies a change; a broken file fails, names file:line, keeps
#     the running configuration (the daemon still answers);
#   vacuum: --files, --size, --time; no limit is a usage error; with [ship]
#     configured, what the cursor has not passed is kept unless --force; a
#     cursor of another directory is refused;
#   usage errors (2), no daemon (69), a version 1 client's CONTROL
#   (malformed), an unknown verb (refused, the connection stays).
set -u
. "${top_srcdir:-.}/tests/lib.sh"

w=$(test_tmpdir)
conf=$w/conf
printf '[storage]\nsegment_size = 64K\nmax_segments = 0\n' > "$conf"
start_daemon "$w" -c "$conf" || fail "seglogd did not start"
S=("$SEGLOG" -s "$w/sock")
d=$w/data
wm() { v=$(cut -d' ' -f4 "$d/watermark"); echo $((10#$v)); }
sealed() { ls "$d" | grep -cE '^[0-9]{20}\.log$'; }

# rotate
out=$("${S[@]}" rotate 2>&1)
check_eq "rotate with an empty current: exit 0" "$?" 0
check "... says there is nothing to seal" grep -q 'nothing to seal' <<<"$out"
check_eq "... and seals nothing" "$(sealed)" 0
seq 1 500 | "${S[@]}" send -t cv || fail "send"
out=$("${S[@]}" rotate 2>&1)
check_eq "rotate after 500 records: exit 0" "$?" 0
check "... through seq 500" grep -q 'up to seq 500 is in a sealed segment' <<<"$out"
check "... the segment is sealed when it returns" test -f "$d/00000000000000000001.log"
check_eq "... current starts at 501" "$(head -n 1 "$d/current" | cut -d' ' -f3)" 501

# sync: records sent without waiting, then sync
seq 1 3000 | "${S[@]}" send --no-wait -t cv || fail "send --no-wait"
out=$("${S[@]}" sync 2>&1)
check_eq "sync: exit 0" "$?" 0
target=$(sed -n 's/.*up to seq \([0-9]*\).*/\1/p' <<<"$out")
check "sync covers every record sent before it (seq $target >= 3500)" test "${target:-0}" -ge 3500
check "... and the watermark says so when it returns ($(wm))" test "$(wm)" -ge "${target:-1}"

# sync after a switch from write to fsync: it must make the fdatasync
# (a hostile test saw "durable (fdatasync)" with no fdatasync at all)
printf '[storage]\nsegment_size = 64K\nmax_segments = 0\ndurability = write\n' > "$conf"
"${S[@]}" reload > /dev/null || not_ok "reload to write"
seq 1 100 | "${S[@]}" send -t cv > /dev/null || fail "send in write mode"
printf '[storage]\nsegment_size = 64K\nmax_segments = 0\n' > "$conf"
"${S[@]}" reload > /dev/null || not_ok "reload to fsync"
f0=$("${S[@]}" status | sed -n 's/^fsyncs: *//p')
out=$("${S[@]}" sync 2>&1)
f1=$("${S[@]}" status | sed -n 's/^fsyncs: *//p')
check "sync after write -> fsync: says fdatasync" grep -q 'durable (fdatasync)' <<<"$out"
check "... and made one ($f0 -> $f1 fdatasyncs)" test "$f1" -gt "$f0"

# reload
printf '[storage]\nsegment_size = 64K\nmax_segments = 0\n[server]\nlog_level = debug\n' > "$conf"
out=$("${S[@]}" reload 2>&1)
check_eq "reload: exit 0" "$?" 0
check "... seglogd logged it" grep -q 'Configuration reloaded' "$w/seglogd.log"
printf '[storage]\nsegment_size = banana\n' > "$conf"
out=$("${S[@]}" reload 2>&1)
check_eq "reload of a broken file: exit 1" "$?" 1
check "... the message names the file, line and key" grep -q "$conf:2.*segment_size" <<<"$out"
check "... the running configuration is kept (status answers)" "${S[@]}" status
# a file valid on its own, but not with the running client_buffer (256K:
# it changes only at a restart): the pool would hold no read buffer, and a
# large record would wait for ever (a hostile test's find)
printf '[server]\nmax_record = 100\nclient_buffer = 1K\nmemory_budget = 1M\n[storage]\nbatch_max = 4K\nmemory_limit = 1046528\n' > "$conf"
out=$("${S[@]}" reload 2>&1)
check_eq "reload that breaks memory_budget with the running client_buffer: exit 1" "$?" 1
check "... the message names memory_budget and the running values" \
	grep -q 'memory_budget: must hold.*running client_buffer' <<<"$out"
head -c 60000 /dev/zero | tr '\0' b >"$w/big" && echo >>"$w/big"
send_big() { timeout 10 "${S[@]}" send -t big <"$w/big"; }
check "... a 60 KB record is still taken" send_big
check "... and status answers" timeout 10 "${S[@]}" status
printf '[storage]\nsegment_size = 64K\nmax_segments = 0\n' > "$conf"
"${S[@]}" reload > /dev/null || not_ok "reload of the fixed file"

# vacuum
seq 1 6000 | "${S[@]}" send -t cv > /dev/null || fail "send"
"${S[@]}" rotate > /dev/null
n=$(sealed)
check "several sealed segments to vacuum ($n)" test "$n" -ge 5
out=$("${S[@]}" vacuum --files 3 2>&1)
check_eq "vacuum --files 3: exit 0" "$?" 0
check_eq "... leaves 3 sealed segments" "$(sealed)" 3
check "... says what it removed" grep -q "removed $((n - 3)) sealed segment" <<<"$out"
check "... through retention (logged as vacuum)" grep -q 'Retention (vacuum) removed' "$w/seglogd.log"
out=$("${S[@]}" vacuum --time 1h 2>&1)
check "vacuum --time 1h: nothing that recent goes" grep -q 'nothing to remove' <<<"$out"
check_eq "... 3 still there" "$(sealed)" 3
"${S[@]}" vacuum > "$w/out" 2>&1
check_eq "vacuum without a limit: usage error" "$?" 2
"${S[@]}" rotate --size 1M > "$w/out" 2>&1
check_eq "rotate --size: usage error" "$?" 2
check "... naming the option, not its value" grep -q -- '--size is not an option of rotate' "$w/out"
check "... and the verb that takes it" grep -q -- 'it is one of vacuum' "$w/out"
"${S[@]}" rotate --files=3 > "$w/out" 2>&1
check_eq "rotate --files=3: usage error" "$?" 2
check "... naming the option alone" grep -q -- 'rotate: --files is not an option of rotate' "$w/out"
"${S[@]}" vacuum --size lots > "$w/out" 2>&1
check_eq "vacuum --size lots: usage error" "$?" 2

# vacuum and the shipper's cursor
cursor=$w/ship.cursor
printf '[storage]\nsegment_size = 64K\nmax_segments = 0\n[ship]\nbrokers = localhost:9\ncursor_file = %s\n' \
	"$cursor" > "$conf"
"${S[@]}" reload > /dev/null || not_ok "reload with [ship]"
out=$("${S[@]}" vacuum --size 0 2>&1)
check_eq "vacuum with a shipper that shipped nothing: exit 0" "$?" 0
check "... keeps every segment, saying why" grep -q 'kept 3 more the shipper has not shipped' <<<"$out"
check_eq "... 3 still there" "$(sealed)" 3
second=$(ls "$d" | grep -E '^[0-9]{20}\.log$' | sed -n 2p)
printf 'seglog-cursor 1 %s %d\n' "$(cat "$d/dir-id")" $((10#${second%.log})) > "$cursor"
out=$("${S[@]}" vacuum --size 0 2>&1)
check "a cursor inside the second segment: the first goes, 2 stay" grep -q 'removed 1 sealed segment.*kept 2 more' <<<"$out"
check_eq "... 2 left" "$(sealed)" 2
printf 'seglog-cursor 1 %s 99999999\n' "$(cat "$d/dir-id")" > "$cursor"
"${S[@]}" vacuum --size 0 > "$w/out" 2>&1
check_eq "a cursor past the newest record: refused (exit 1)" "$?" 1
check "... saying so" grep -q 'past the newest record' "$w/out"
printf 'seglog-cursor 1 %s 1\n' 0123456789abcdef0123456789abcdef > "$cursor"
"${S[@]}" vacuum --size 0 > "$w/out" 2>&1
check_eq "a cursor of another directory: refused (exit 1)" "$?" 1
check "... saying so" grep -q 'belongs to another data directory' "$w/out"
out=$("${S[@]}" vacuum --size 0 --force 2>&1)
check "--force removes the rest" grep -q 'removed 2 sealed segment' <<<"$out"
check_eq "... none left" "$(sealed)" 0
check "current is never removed" test -f "$d/current"

# the protocol: a version 1 client's CONTROL; an unknown verb
python3 - "$w/sock" > "$w/proto.out" <<'EOF'
import socket, struct, sys
def frames(s):
    buf = b""
    s.settimeout(5)
    while True:
        try:
            d = s.recv(65536)
        except socket.timeout:
            break
        if not d:
            break
        buf += d
    out = []
    while len(buf) >= 5:
        n = struct.unpack("<I", buf[:4])[0]
        out.append((buf[4], buf[5:4 + n]))
        buf = buf[4 + n:]
    return out
def hello(lo, hi):
    return struct.pack("<IBIHHI", 13, 1, 0x4c474553, lo, hi, 0)
control = lambda verb: struct.pack("<IBBBQQQ", 27, 4, verb, 0, 0, 0, 0)
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(hello(1, 1) + control(2))
f = frames(s)
print("v1:", [t for t, _ in f], f[-1][1][8:10].hex() if f and f[-1][0] == 0x83 else "")
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(hello(1, 2) + control(9) + struct.pack("<IB", 1, 3))
s.shutdown(socket.SHUT_WR)
f = frames(s)
print("v2:", [t for t, _ in f], "version", struct.unpack("<H", f[0][1][:2])[0],
      "status", f[1][1][1] if len(f) > 1 else None)
EOF
check_eq "a version 1 connection's CONTROL: ERROR(0, malformed)" "$(sed -n 's/^v1: //p' "$w/proto.out")" \
	"[129, 131] 0100"
check_eq "version 2: an unknown verb is refused, the connection goes on (STATUS)" \
	"$(sed -n 's/^v2: //p' "$w/proto.out")" "[129, 133, 132] version 2 status 1"

# 60 clients stopped halfway through a 60 KB record hold the memory pool
# (default budget): seglog status must still answer (a hostile test found
# it waiting for ever; a full disk does the same)
python3 - "$w/sock" "$w/stalled" <<'PY' &
import os, socket, sys, time
sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests"))
from proto_client import hello, record
big, conns = record(b"B" * 60000), []
for i in range(60):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    s.sendall(hello() + big[:len(big) // 2])
    conns.append(s)
open(sys.argv[2], "w").close()
time.sleep(60)
PY
stallers=$!
for _ in $(seq 1 200); do [ -e "$w/stalled" ] && break; sleep 0.05; done
sleep 0.5
check "60 clients stalled mid-record: seglog status answers" timeout 10 "${S[@]}" status
check "... twice (its slot came back)" timeout 10 "${S[@]}" status
kill "$stallers"
wait "$stallers" 2>/dev/null

stop_daemon
"${S[@]}" sync > "$w/out" 2>&1
check_eq "no daemon: exit 69" "$?" 69
summary
