#!/usr/bin/env bash
# Benchmarks 6 and 7: reading a ~1 GiB data directory (64 MiB without
# BENCH_FULL=1).  `seglog tail --since T` (which prints every record from T
# on, like cat), with T the time of the record 1% from the end, against
# `seglog cat` of everything (both piped into a line count), to show that
# --since seeks instead of reading it all; and `seglog tail -n 10` (with and
# without --since), which should be near-instant.  Bytes read are the
# process's rchar (all read(2)/pread(2) bytes, /proc/PID/io) and read_bytes
# (what it made the kernel fetch from the disk: only cold runs show it).
# Cold runs drop the page cache first, where the kernel lets us.
. "$(dirname "$0")/lib.sh"

BIG=$(bigdir)
total=$("$SEGLOG" -d "$BIG" tail -n 1 -o json | python3 -c 'import json, sys; print(json.load(sys.stdin)["seq"])')
k=$((total / 100))
since=$("$SEGLOG" -d "$BIG" tail -n "$k" -o json | head -n 1 |
	python3 -c 'import json, sys; print(json.load(sys.stdin)["time"])')
cold=0
if drop_caches; then cold=1; else say "cannot drop the page cache: warm runs only"; fi

# one_run CASE warm|cold seglog-arguments...
one_run() {
	local c=$1 temp=$2 out; shift 2
	[ "$temp" = cold ] && drop_caches
	out=$(benchlib run --count-lines -- "$SEGLOG" -d "$BIG" "$@")
	[ "$(field rc "$out")" = 0 ] || echo "bench: seglog $* exited $(field rc "$out")" >&2
	rec "$c" "${temp}_ms" "$(calc "$(field wall_s "$out") * 1000")"
	if [ "$temp" = cold ]; then
		rec "$c" disk_MB "$(calc "$(field read_bytes "$out") / 1e6")"
	else
		rec "$c" lines "$(field lines "$out")"
		rec "$c" read_MB "$(calc "$(field rchar "$out") / 1e6")"
		rec "$c" read_calls "$(field syscr "$out")"
	fi
}

say "read: $BIG, $total records; --since $since (the last $k records); $RUNS runs per case"
temps=(warm)
[ "$cold" = 1 ] && temps=(cold warm)
for i in $(seq 1 "$RUNS"); do
	for t in "${temps[@]}"; do
		say "run $i ($t): tail --since, tail --since -n 10, tail -n 10, cat"
		one_run "tail --since (last 1%)" "$t" tail --since "$since"
		one_run "tail --since -n 10" "$t" tail --since "$since" -n 10
		one_run "tail -n 10" "$t" tail -n 10
		one_run "cat (everything)" "$t" cat
	done
done

echo "== read: $total records, $(du -sm "$BIG" | cut -f1) MiB ($(machine_note))"
benchlib summary "$RESULTS" --ratio "warm_ms:cat (everything):x cat-all"
