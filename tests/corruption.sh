#!/bin/bash
# Injected corruption: a flipped byte, a truncated segment, garbage appended
# to current, a deleted middle segment, two segments' names swapped, a
# segment copied from another directory.  For each: `seglog verify` names
# the file and byte offset of the fault, and seglogd still starts (or
# refuses with a precise message where going on would lose data) without
# ever altering or discarding a valid record.
set -u
. "${top_srcdir:-.}/tests/lib.sh"

writer=${top_builddir:-.}/tests/engine-writer
w=$(test_tmpdir)
"$writer" write "$w/base" 3000 write 65536 >/dev/null 2>&1 || fail "engine-writer failed"
"$writer" write "$w/other" 500 write 65536 >/dev/null 2>&1 || fail "engine-writer failed"
mapfile -t segs < <(cd "$w/base" && ls | grep -E '^[0-9]{20}\.log$' | sort)
[ "${#segs[@]}" -ge 5 ] || fail "expected several segments, got ${#segs[@]}"
mid=${segs[2]}
check "verify is clean on the intact directory" "$SEGLOG" -d "$w/base" verify

# fresh D: a copy of the base directory to damage
fresh() { rm -rf "$w/d"; cp -a "$w/base" "$w/d"; }
# offset_of_line FILE N: byte offset of line N (1-based)
offset_of_line() { head -n $(($2 - 1)) "$1" | wc -c; }
valid_lines() { # every line of D that checks, as "file line" pairs
	local f
	for f in $(cd "$w/d" && ls | grep -E '^[0-9]{20}\.log$|^current$'); do
		grep -v '^#' "$w/d/$f"
	done | sort
}
# starts D with the daemon and stops it; $started is 1 if it became ready
run_daemon() {
	rm -f "$w/seglogd.log"
	"$SEGLOGD" --dir "$w/d" --socket "$w/sock" > "$w/seglogd.log" 2>&1 &
	DAEMON_PID=$!
	started=0
	wait_ready "$w/seglogd.log" 0 && started=1
	kill -TERM $DAEMON_PID 2>/dev/null
	wait $DAEMON_PID
}
expect_verify() { # DESCRIPTION FILE OFFSET
	"$SEGLOG" -d "$w/d" verify > "$w/verify.out" 2>&1
	local rc=$?
	check_eq "$1: verify exits 1" "$rc" 1
	if grep -q "$w/d/$2:$3: " "$w/verify.out"; then
		ok "  ... and names $2:$3"
	else
		sed 's/^/# /' "$w/verify.out"; not_ok "  ... and names $2:$3"
	fi
}
# sealed_sums: "sha256  name" of every sealed segment of D, in name order
sealed_sums() { (cd "$w/d" && ls | grep -E '^[0-9]{20}\.log$' | sort | xargs -r sha256sum); }
# dir_state: every entry of D (name, type) and the checksum of each file
# but lock, which the daemon rewrites with its pid before it reads anything
dir_state() {
	(cd "$w/d" && find . -mindepth 1 -printf '%P %y\n' | sort &&
		find . -type f ! -name lock -print0 | sort -z | xargs -0 -r sha256sum)
}
snapshot() { sealed_sums > "$w/sealed.before"; dir_state > "$w/dir.before"; }
sealed_unchanged() { # the daemon never writes, adds or removes a sealed segment
	if sealed_sums | diff "$w/sealed.before" - > "$w/sealed.diff"; then
		ok "$1: sealed segments untouched by the daemon ($(wc -l < "$w/sealed.before") compared)"
	else
		sed 's/^/# /' "$w/sealed.diff"; not_ok "$1: sealed segments untouched by the daemon"
	fi
}

# --- a flipped byte in a sealed segment ----------------------------------------
fresh
off=$(offset_of_line "$w/d/$mid" 20)
printf '\x01' | dd of="$w/d/$mid" bs=1 seek=$((off + 40)) conv=notrunc status=none
expect_verify "flipped byte" "$mid" "$off"
snapshot
run_daemon
check_eq "flipped byte: the daemon starts" "$started" 1
sealed_unchanged "flipped byte"

# --- a sealed segment cut in the middle of a line ---------------------------------
fresh
off=$(offset_of_line "$w/d/$mid" 30)
truncate -s $((off + 25)) "$w/d/$mid"
expect_verify "truncated segment" "$mid" "$off"
snapshot
run_daemon
check_eq "truncated segment: the daemon starts" "$started" 1
sealed_unchanged "truncated segment"

# --- garbage appended to current ---------------------------------------------------
fresh
size=$(stat -c %s "$w/d/current")
head -c 300 /dev/urandom | tr -d '\n' >> "$w/d/current"
expect_verify "garbage after current" current "$size"
before=$(grep -vc '^#' "$w/base/current")
run_daemon
check_eq "garbage: the daemon starts" "$started" 1
check "  ... quarantines the garbage (nothing destroyed)" \
	bash -c "ls '$w/d/quarantine/' | grep -q current.torn"
check_eq "  ... keeps every valid record of current" "$(grep -vc '^#' "$w/d/current")" "$before"
check "  ... and the directory verifies clean" "$SEGLOG" -d "$w/d" verify

# --- a middle segment deleted ------------------------------------------------------
fresh
rm "$w/d/$mid"
expect_verify "deleted middle segment" "${segs[3]}" 0
snapshot
run_daemon
check_eq "deleted segment: the daemon starts" "$started" 1
sealed_unchanged "deleted segment"

# --- two sealed segments' names swapped -----------------------------------------------
fresh
mv "$w/d/${segs[1]}" "$w/d/tmp.swap"; mv "$w/d/${segs[2]}" "$w/d/${segs[1]}"
mv "$w/d/tmp.swap" "$w/d/${segs[2]}"
expect_verify "swapped names" "${segs[1]}" 0
snapshot
run_daemon
check_eq "swapped names: the daemon starts (only the tail is read)" "$started" 1
sealed_unchanged "swapped names"

# --- the newest sealed segment swapped with an older one: the next seq would be wrong
fresh
last=${segs[-1]}
mv "$w/d/$last" "$w/d/tmp.swap"; mv "$w/d/${segs[0]}" "$w/d/$last"; mv "$w/d/tmp.swap" "$w/d/${segs[0]}"
rm "$w/d/current"
snapshot
# the daemon must exit by itself, non-zero, within 5 s (polled), and write nothing
rm -f "$w/seglogd.log"
"$SEGLOGD" --dir "$w/d" --socket "$w/sock" > "$w/seglogd.log" 2>&1 &
DAEMON_PID=$!
for _ in $(seq 1 100); do kill -0 $DAEMON_PID 2>/dev/null || break; sleep 0.05; done
if kill -0 $DAEMON_PID 2>/dev/null; then
	kill -TERM $DAEMON_PID; wait $DAEMON_PID; rc=running
else
	wait $DAEMON_PID; rc=$?
fi
check "newest segment misnamed: the daemon refuses to start (exit $rc within 5 s)" \
	test "$rc" != running -a "$rc" != 0
check_eq "  ... and never became ready" "$(grep -c ' ready: ' "$w/seglogd.log")" 0
check "  ... its message names $last and says it was renamed or copied in" \
	grep -qF "$w/d/$last: its header says it starts at seq 1, not at the seq of its name; it was renamed or copied in" \
	"$w/seglogd.log"
if dir_state | diff "$w/dir.before" - > "$w/dir.diff"; then
	ok "  ... and wrote nothing to the directory (no entry added or removed, no file changed)"
else
	sed 's/^/# /' "$w/dir.diff"; not_ok "  ... and wrote nothing to the directory"
fi
sealed_unchanged "misnamed newest segment"

# --- a segment copied in from another directory -----------------------------------------
fresh
foreign=$(cd "$w/other" && ls | grep -E '^[0-9]{20}\.log$' | sort | head -n1)
cp "$w/other/$foreign" "$w/d/$mid"
expect_verify "segment from another directory" "$mid" 0
snapshot
run_daemon
check_eq "foreign sealed segment: the daemon starts" "$started" 1
sealed_unchanged "foreign segment"

# a current from another directory: appending to it would mix two histories
fresh
cp "$w/other/current" "$w/d/current"
run_daemon
check_eq "foreign current: the daemon refuses to start" "$started" 0
check "  ... with a message naming current and the directory id" \
	grep -qE "current.*(another|different|directory id)" "$w/seglogd.log"
summary
