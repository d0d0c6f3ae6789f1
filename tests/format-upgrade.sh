#!/bin/bash
# Format version 2 over a version 1 directory (issue 15): a directory
# written before the upgrade stays readable as it is, and the daemon never
# appends a version 2 line to a version 1 file.  Its first start seals a
# version 1 current that holds records (as it is, byte for byte) and
# replaces one that holds none; new records go into a version 2 segment.
# cat, tail --since, verify and a cursor read across the two versions.
set -u
. "${top_srcdir:-.}/tests/lib.sh"
command -v logger >/dev/null || skip "logger (bsdutils) not installed"

w=$(test_tmpdir)

# v1.py DIR SEALED_RECORDS CURRENT_RECORDS [torn]: a version 1 directory
# written as docs/format.md describes it (tag "old", messages "old-N")
cat > "$w/v1.py" <<'EOF'
import ctypes, os, sys, time
x = ctypes.CDLL("libxxhash.so.0").XXH3_64bits
x.restype, x.argtypes = ctypes.c_uint64, [ctypes.c_char_p, ctypes.c_size_t]
d, sealed, cur = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
torn = len(sys.argv) > 4
t0 = int(time.time() * 10**6) - 3600 * 10**6
def ts(us):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(us // 10**6)).encode() + b".%06dZ" % (us % 10**6)
def line(body):
    return body + b" %016x\n" % x(body, len(body))
os.makedirs(d)
dirid = os.urandom(16).hex().encode()
open(os.path.join(d, "dir-id"), "wb").write(dirid + b"\n")
def seg(name, first, n):
    with open(os.path.join(d, name), "wb") as f:
        f.write(line(b"#seglog 1 %d %s %s" % (first, ts(t0 + first), dirid)))
        for s in range(first, first + n):
            f.write(line(b"%s %d user.info 1 0 0 old - - old-%d" % (ts(t0 + s * 1000), s, s)))
        if torn:
            f.write(b"%s %d user.info 1 0 0 old - - half a li" % (ts(t0), first + n))
if torn and sealed and not cur:
    # a damaged directory: 1.log, then a segment named (and headed) 12
    # whose one record is seq 11
    torn = False
    seg("%020d.log" % 1, 1, sealed)
    with open(os.path.join(d, "%020d.log" % (sealed + 2)), "wb") as f:
        f.write(line(b"#seglog 1 %d %s %s" % (sealed + 2, ts(t0), dirid)))
        f.write(line(b"%s %d user.info 1 0 0 old - - old-%d" % (ts(t0 + 5), sealed + 1, sealed + 1)))
    sys.exit(0)
if sealed:
    seg("%020d.log" % 1, 1, sealed)
    os.chmod(os.path.join(d, "%020d.log" % 1), 0o440)
seg("current", sealed + 1, cur)
EOF
seqs() { "$SEGLOG" -d "$1" "${@:2}" -o json | jq -r .seq | tr '\n' ' ' | sed 's/ $//'; }
first_line() { head -n 1 "$1" | cut -d' ' -f1-3; }

# --- a version 1 directory with records in current ---------------------------------------
python3 "$w/v1.py" "$w/data" 50 10 || fail "could not write the version 1 directory"
d=$w/data
old_sealed=$(sha256sum < "$d/00000000000000000001.log")
old_current=$(sha256sum < "$d/current")
check_eq "version 1, no daemon: cat prints 1..60" "$(seqs "$d" cat)" "$(seq -s ' ' 1 60)"
check "version 1: verify is clean" "$SEGLOG" -d "$d" verify

start_daemon "$w" --syslog-dgram "$w/dgram" || fail "seglogd did not start on a version 1 directory"
check "the start says it seals the version 1 current" \
	grep -q "current is in format version 1: sealing it as it is" "$w/seglogd.log"
check_eq "  ... sealed as 00000000000000000051.log, byte for byte" \
	"$(sha256sum < "$d/00000000000000000051.log" 2>/dev/null)" "$old_current"
check_eq "  ... the older segment untouched" "$(sha256sum < "$d/00000000000000000001.log")" \
	"$old_sealed"
check_eq "  ... the new current is version 2, first seq 61" "$(first_line "$d/current")" \
	"#seglog 2 61"
check_eq "  ... nothing quarantined" "$(ls "$d/quarantine" 2>/dev/null | wc -l)" 0
$PROTO_CLIENT "$w/sock" send 5 --id new > /dev/null || not_ok "send 5 native records"
# logger's RFC 5424 HOSTNAME is this host's name
host=$(hostname)
logger -u "$w/dgram" -d --rfc5424 -t app -p local4.notice --msgid M1 \
	--sd-id 'origin@32473' --sd-param 'k="v w"' "after upgrade $$"
# in the file is not yet durable: readers deliver up to the watermark, which
# the daemon moves after the datagram's commit (no ack to wait for)
for i in $(seq 1 100); do
	grep -q "after upgrade $$" "$d/current" &&
		[ "$(awk '{print $4 + 0}' "$d/watermark" 2>/dev/null)" -ge 66 ] && break
	sleep 0.05
done
check "the new records are version 2 lines (hostname, msgid and SD kept, SP escaped)" \
	grep -qF " $host M1 [timeQuality\\x20tzKnown=\"1\"" "$d/current"
check "  ... each SD-ELEMENT as received" \
	grep -qF '[origin@32473\x20k="v\x20w"] after upgrade '"$$ " "$d/current"
check_eq "cat reads both versions: 1..66 in order" "$(seqs "$d" cat)" "$(seq -s ' ' 1 66)"
check_eq "  ... the old records keep their messages" \
	"$("$SEGLOG" -d "$d" cat -o json | jq -r 'select(.seq == 60) | .message')" old-60
check_eq "  ... the syslog record shows its fields in -o json" \
	"$("$SEGLOG" -d "$d" cat -o json | jq -c 'select(.seq == 66) | [.hostname, .msgid, .sd["origin@32473"], (.sd | keys)]')" \
	'["'"$host"'","M1",{"k":"v w"},["origin@32473","timeQuality"]]'
check_eq "tail -n 8 crosses from version 2 back into version 1" "$(seqs "$d" tail -n 8)" \
	"$(seq -s ' ' 59 66)"
check_eq "--after-seq 58 crosses the version boundary" "$(seqs "$d" cat --after-seq 58)" \
	"$(seq -s ' ' 59 66)"
check "verify is clean over both versions" "$SEGLOG" -d "$d" verify
"$SEGLOG" -d "$d" cat --cursor-file "$w/cursor" > /dev/null
check_eq "a cursor saved across the versions" "$(cut -d' ' -f4 "$w/cursor")" 66

kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2> /dev/null
start_daemon "$w" || fail "seglogd did not restart after kill -9"
check_eq "a restart does not seal again" \
	"$(grep -c 'current is in format version' "$w/seglogd.log")" 1
out=$($PROTO_CLIENT "$w/sock" send 3 --id again)
check_eq "  ... seqs go on after 66" "$(echo "$out" | jq -r .last_seq)" 69
stop_daemon
check_eq "  ... exit 0" "$?" 0
check_eq "the cursor resumes at 67" "$(seqs "$d" cat --cursor-file "$w/cursor")" "67 68 69"

# --- a version 1 current holding only its header ------------------------------------------
w2=$w/empty
mkdir -p "$w2"
python3 "$w/v1.py" "$w2/data" 20 0 || fail "could not write the version 1 directory"
start_daemon "$w2" || fail "seglogd did not start on a header-only version 1 current"
check "a header-only version 1 current is replaced" \
	grep -q "current (format version 1) holds no record: replacing it" "$w2/seglogd.log"
check_eq "  ... by a version 2 current with the same first seq" \
	"$(first_line "$w2/data/current")" "#seglog 2 21"
check_eq "  ... nothing sealed, nothing quarantined" \
	"$(ls "$w2/data" | grep -cE '^[0-9]{20}\.log$') $(ls "$w2/data/quarantine" 2>/dev/null | wc -l)" \
	"1 0"
out=$($PROTO_CLIENT "$w2/sock" send 2 --id e)
check_eq "  ... seqs go on after 20" "$(echo "$out" | jq -r .last_seq)" 22
stop_daemon
check_eq "  ... cat prints 1..22" "$(seqs "$w2/data" cat)" "$(seq -s ' ' 1 22)"

# --- version 2 meta lines (the room left for seal lines) ----------------------------------
# a valid "#TYPE BODY CSUM" line between records: readers skip it and say
# so once per file, verify counts it clean, recovery keeps it
python3 - "$w2/data/current" <<'EOF2'
import ctypes, sys
x = ctypes.CDLL("libxxhash.so.0").XXH3_64bits
x.restype, x.argtypes = ctypes.c_uint64, [ctypes.c_char_p, ctypes.c_size_t]
for body in (b"#seal future thing", b"#seal another"):
    open(sys.argv[1], "ab").write(body + b" %016x\n" % x(body, len(body)))
EOF2
"$SEGLOG" -d "$w2/data" cat -o json > "$w/meta.json" 2> "$w/meta.err"
check_eq "meta lines: cat exits 0" "$?" 0
check_eq "  ... and prints every record" "$(jq -r .seq < "$w/meta.json" | tr '\n' ' ')" \
	"$(seq -s ' ' 1 22) "
check_eq "  ... warning once for the file, naming it" \
	"$(grep -c "current:[0-9]*: meta line skipped" "$w/meta.err") $(wc -l < "$w/meta.err")" "1 1"
check "  ... verify is clean" "$SEGLOG" -d "$w2/data" verify
start_daemon "$w2" || fail "seglogd did not start after a meta line"
out=$($PROTO_CLIENT "$w2/sock" send 1 --id m)
check_eq "  ... recovery keeps it, seqs go on" "$(echo "$out" | jq -r .last_seq)" 23
stop_daemon
check_eq "  ... the meta lines are still there" "$(grep -c '^#seal ' "$w2/data/current")" 2
check_eq "  ... nothing quarantined" "$(ls "$w2/data/quarantine" 2>/dev/null | wc -l)" 0

# --- a segment whose record lies below its own name ---------------------------------------
# (a hostile test: cat and tail -n found the same segment again after
# reading it, for ever, at 100% CPU)
python3 "$w/v1.py" "$w/below" 10 0 torn || fail "could not write the damaged directory"
timeout 10 "$SEGLOG" -d "$w/below" cat > "$w/below.out" 2> "$w/below.err"
check_eq "a segment holding a seq below its name: cat ends (exit 0, not a hang)" "$?" 0
check_eq "  ... every record once (the misplaced one too)" \
	"$(grep -o 'old-[0-9]*' "$w/below.out" | tr '\n' ' ')" "$(seq -f 'old-%g' -s ' ' 1 11) "
timeout 10 "$SEGLOG" -d "$w/below" tail -n 3 > /dev/null 2>&1
check_eq "  ... tail -n 3 ends too" "$?" 0
check "  ... verify reports the misplaced record" \
	bash -c "'$SEGLOG' -d '$w/below' verify | grep -q '00000000000000000012.log:.*seq 11 out of order'"

# --- a header-only version 1 current on a full disk, records queued meanwhile -------------
# (a hostile test found the replaced current numbered after the queued
# records: 12.log holding seq 11, current's header 13 holding 12)
if [ "$(id -u)" = 0 ]; then
	w4=$w/full
	mkdir -p "$w4/fs"
	mount -t tmpfs -o size=1m tmpfs "$w4/fs" || fail "cannot mount a tmpfs"
	python3 "$w/v1.py" "$w4/fs/data" 10 0 || fail "could not write the version 1 directory"
	echo 1 > "$w4/fs/data/lock"
	dd if=/dev/zero of="$w4/fs/fill" bs=4k 2>/dev/null
	dd if=/dev/zero of="$w4/fs/fill2" bs=1 2>/dev/null
	"$SEGLOGD" --dir "$w4/fs/data" --socket "$w4/sock" > "$w4/seglogd.log" 2>&1 &
	DAEMON_PID=$!
	wait_ready "$w4/seglogd.log" 0 || not_ok "seglogd did not start on a full disk"
	"$SEGLOG" -s "$w4/sock" send --no-wait -t new "while full" || not_ok "send while full"
	sleep 0.5
	rm -f "$w4/fs/fill" "$w4/fs/fill2"
	"$SEGLOG" -s "$w4/sock" send -t new "after free" > /dev/null || not_ok "send after free"
	stop_daemon
	check_eq "full disk: the replaced current starts at 11, both queued records in it" \
		"$(first_line "$w4/fs/data/current") $(ls "$w4/fs/data" | grep -cE '^[0-9]{20}\.log$')" \
		"#seglog 2 11 1"
	check_eq "  ... cat prints 1..12" "$(timeout 10 "$SEGLOG" -d "$w4/fs/data" cat -o json |
		jq -r .seq | tr '\n' ' ')" "$(seq -s ' ' 1 12) "
	check "  ... verify is clean" "$SEGLOG" -d "$w4/fs/data" verify
	check_eq "  ... the replacement is announced once" \
		"$(grep -c 'holds no record: replacing it' "$w4/seglogd.log")" 1
	umount "$w4/fs"
else
	trace "not root: the full-disk upgrade case needs a tmpfs mount (not checked)"
fi

# --- a version 1 current with a torn tail --------------------------------------------------
w3=$w/torn
mkdir -p "$w3"
python3 "$w/v1.py" "$w3/data" 0 7 torn || fail "could not write the version 1 directory"
start_daemon "$w3" || fail "seglogd did not start on a torn version 1 current"
check "the torn version 1 tail goes to quarantine/" \
	bash -c "grep -q 'half a li' '$w3/data'/quarantine/*"
check "  ... the rest is sealed as version 1" \
	bash -c "head -c 10 '$w3/data/00000000000000000001.log' | grep -q '^#seglog 1 '"
check_eq "  ... the sealed file ends at the last whole record" \
	"$(tail -n 1 "$w3/data/00000000000000000001.log" | cut -d' ' -f2)" 7
out=$($PROTO_CLIENT "$w3/sock" send 1 --id t)
check_eq "  ... the torn seq is given to the next record" "$(echo "$out" | jq -r .last_seq)" 8
stop_daemon
check "  ... verify is clean" "$SEGLOG" -d "$w3/data" verify
summary
