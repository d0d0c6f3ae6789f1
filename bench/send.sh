#!/usr/bin/env bash
# Benchmark 3: `seglog send` from stdin alone -- the client's own speed.
# Target (PRODUCT.md §10): >= 500,000 lines/s with --no-wait, and waiting for
# acks within 20% of that.  The daemon runs with durability=write so the
# disk does not bound the client, and once with fsync for reference.  The
# time is the `seglog send` process's wall time (for --no-wait: until it
# returned, the daemon may still be committing); cpu_us/line is its own CPU.
. "$(dirname "$0")/lib.sh"

N=200000
[ "$FULL" = 1 ] && N=1000000
IN=$WORK/input
gen_input "$N" "$IN"

# one_run DURABILITY wait|nowait
one_run() {
	local dur=$1 mode=$2 d=$WORK/run out opt=() c
	[ "$mode" = nowait ] && opt=(--no-wait)
	c="send $mode, daemon $dur"
	rm -rf "$d"
	start_seglogd "$d" --durability "$dur"
	out=$(benchlib run --feed "$IN" -- "$SEGLOG" -s "$d/sock" send -t bench "${opt[@]}")
	[ "$(field rc "$out")" = 0 ] || echo "bench: seglog send exited $(field rc "$out")" >&2
	rec "$c" lines/s "$(calc "$N / $(field wall_s "$out")")"
	rec "$c" cpu_us/line "$(calc "$(field cpu_s "$out") * 1e6 / $N")"
	stop "$SEGLOGD_PID"
}

say "send: $N lines x 100 B, $RUNS runs per case"
for i in $(seq 1 "$RUNS"); do
	for dur in write fsync; do
		for mode in nowait wait; do
			say "run $i: send $mode, durability=$dur"
			one_run "$dur" "$mode"
		done
	done
done

echo "== send: seglog send from stdin, $N lines of 100 B ($(machine_note))"
benchlib summary "$RESULTS" --ratio "lines/s:send nowait, daemon write:x nowait-write"
