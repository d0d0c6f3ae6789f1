#!/bin/bash
# The reader's seek over segments whose first line is long (issue 11):
# segments written by the real seglogd (max_record = 1M), sealed with
# SIGUSR1: 1..10 | 11 (long) 12..20 | 21..30 | current 31..40.  The old
# probe read a fixed 64 KiB, took a longer first line for an unreadable
# segment and started after it, so `cat --after-seq 4` reported "seqs
# 5..10 missing" and began at 11.  Checked for --after-seq, --cursor-file,
# --since and tail -n, with the first line of 11 longer than 64 KiB, and
# exactly at max_record with every byte escaped (the longest line there
# is), with the daemon stopped and running.
set -u
. "${top_srcdir:-.}/tests/lib.sh"
export TZ=UTC

w=$(test_tmpdir)
cat > "$w/seqs.py" <<'EOF'
import json, sys
print(" ".join(str(json.loads(l)["seq"]) for l in sys.stdin))
EOF
# since.py T: the seqs of the records (JSON on stdin) received at or after T
cat > "$w/since.py" <<'EOF'
import json, sys
print(" ".join(str(r["seq"]) for r in map(json.loads, sys.stdin) if r["time"] >= sys.argv[1]))
EOF

# wait_file PATH: polls until PATH exists
wait_file() {
	local i
	for i in $(seq 1 400); do
		[ -e "$1" ] && return 0
		sleep 0.025
	done
	return 1
}

# wait_watermark DIR SEQ: polls until DIR/watermark says SEQ or more
wait_watermark() {
	local i v
	for i in $(seq 1 400); do
		v=$(cut -d' ' -f4 "$1/watermark" 2>/dev/null)
		[ -n "$v" ] && [ $((10#$v)) -ge "$2" ] && return 0
		sleep 0.025
	done
	return 1
}

# small N FROM: N small records
small() {
	seq "$2" $(($2 + $1 - 1)) | sed 's/^/small record /' |
		"$SEGLOG" -s "$dw/sock" send -t seek > /dev/null || fail "send failed"
}

# build NAME LONG-LINE-GENERATOR: the directory described above
build() {
	dw=$w/$1
	mkdir -p "$dw"
	printf '[storage]\ndurability = write\nmemory_limit = 9M\n[server]\nmax_record = 1M\nclient_buffer = 2M\n' > "$dw/conf"
	start_daemon "$dw" -c "$dw/conf" || fail "seglogd did not start"
	small 10 1
	kill -USR1 "$DAEMON_PID"
	wait_file "$dw/data/00000000000000000001.log" || fail "no rotation"
	python3 -c "$2" | "$SEGLOG" -s "$dw/sock" send -t long > /dev/null || fail "long send failed"
	small 9 12
	kill -USR1 "$DAEMON_PID"
	wait_file "$dw/data/00000000000000000011.log" || fail "no rotation"
	small 10 21
	kill -USR1 "$DAEMON_PID"
	wait_file "$dw/data/00000000000000000021.log" || fail "no rotation"
	small 10 31
	wait_watermark "$dw/data" 40 || fail "the watermark did not reach 40"
}

# selections WHAT: the checks, on $dw/data
selections() {
	local d=$dw/data what=$1 t5 got c
	check_eq "$what: 4 segments, the first line of 11 is $(head -n 2 "$d/00000000000000000011.log" | tail -n 1 | wc -c) bytes" \
		"$(ls "$d" | grep -cE '^([0-9]{20}\.log|current)$')" 4
	got=$("$SEGLOG" -d "$d" cat --after-seq 4 -o json 2> "$w/err" | python3 "$w/seqs.py")
	check_eq "$what: cat --after-seq 4 prints 5..40" "$got" "$(seq -s ' ' 5 40)"
	check_eq "$what: ... and warns of nothing" "$(cat "$w/err")" ""
	got=$("$SEGLOG" -d "$d" cat --after-seq 12 -o json 2> "$w/err" | python3 "$w/seqs.py")
	check_eq "$what: cat --after-seq 12 prints 13..40" "$got" "$(seq -s ' ' 13 40)"
	got=$("$SEGLOG" -d "$d" cat --after-seq 10 -o json 2> "$w/err" | python3 "$w/seqs.py")
	check_eq "$what: cat --after-seq 10 prints 11..40" "$got" "$(seq -s ' ' 11 40)"

	c=$w/cursor.$what
	printf 'seglog-cursor 1 %s 4\n' "$(cat "$d/dir-id")" > "$c"
	got=$("$SEGLOG" -d "$d" cat --cursor-file "$c" -o json 2> "$w/err" | python3 "$w/seqs.py")
	check_eq "$what: cat --cursor-file (at 4) prints 5..40" "$got" "$(seq -s ' ' 5 40)"
	check_eq "$what: ... warns of nothing" "$(cat "$w/err")" ""
	check_eq "$what: ... and the cursor holds 40" "$(cut -d' ' -f4 "$c")" 40

	"$SEGLOG" -d "$d" cat -o json > "$w/all.json"
	t5=$(sed -n 5p "$w/all.json" | python3 -c 'import json, sys; print(json.load(sys.stdin)["time"])')
	got=$("$SEGLOG" -d "$d" cat --since "$t5" -o json 2> "$w/err" | python3 "$w/seqs.py")
	check_eq "$what: cat --since (record 5's time) prints from 5 on" "$got" \
		"$(python3 "$w/since.py" "$t5" < "$w/all.json")"
	check_eq "$what: ... warns of nothing" "$(cat "$w/err")" ""

	got=$("$SEGLOG" -d "$d" tail -n 38 -o json 2> "$w/err" | python3 "$w/seqs.py")
	check_eq "$what: tail -n 38 prints 3..40" "$got" "$(seq -s ' ' 3 40)"
	check_eq "$what: ... warns of nothing" "$(cat "$w/err")" ""
	got=$("$SEGLOG" -d "$d" tail -n 30 -o json 2> "$w/err" | python3 "$w/seqs.py")
	check_eq "$what: tail -n 30 prints 11..40" "$got" "$(seq -s ' ' 11 40)"
	got=$("$SEGLOG" -d "$d" cat --after-seq 4 -o raw 2> /dev/null | sed -n 7p | wc -c)
	check "$what: the long record is printed whole ($got bytes)" test "$got" -gt 65536
}

# 1. a first line of 100 KiB (> the old 64 KiB probe)
build long 'print("L" * 100000)'
selections "100 KiB line, daemon running"
stop_daemon
selections "100 KiB line, daemon stopped"

# 2. a first line at max_record = 1M, every byte escaped: ~4 MiB
build max 'import sys; sys.stdout.buffer.write(b"\x01" * 1048576 + b"\n")'
selections "max_record line, daemon running"
stop_daemon
selections "max_record line, daemon stopped"
check_eq "max_record line: its message is 1 MiB" \
	"$("$SEGLOG" -d "$dw/data" cat -o json | python3 -c 'import json, sys; print(*[len(r["message"]) for r in map(json.loads, sys.stdin) if r["seq"] == 11])')" 1048576
"$SEGLOG" -d "$dw/data" verify > "$w/verify.out"
check_eq "max_record line: verify is clean" "$?" 0

summary
