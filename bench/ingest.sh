#!/usr/bin/env bash
# Benchmark 1 (and 3): ingest through `seglog send` from a file of 100-byte
# lines, one sender or 8 concurrent ones, waiting for acks or --no-wait,
# with durability fsync and write.  Each run gets a fresh daemon and data
# directory.  Reports records/s, payload MB/s, the daemon's commit latency
# p50/p99 (`seglog status`: power-of-two histogram buckets, so the figure is
# the bucket's upper bound), records per commit, daemon CPU per record and
# peak RSS.  For --no-wait the time runs until the daemon has committed the
# last record (a final `seglog send MARKER` waits for its ack, then, if the
# daemon had not read all the bytes still in the socket buffers before the
# marker, `seglog status` is polled); "client_s" is when `seglog send`
# returned.
. "$(dirname "$0")/lib.sh"

N=200000
[ "$FULL" = 1 ] && N=1000000
IN=$WORK/input
gen_input "$N" "$IN"
split -n l/8 -d "$IN" "$WORK/part."

# committed_seq SOCK: the daemon's last committed seq.
committed_seq() { "$SEGLOG" -s "$1" status | awk '$1 == "seq:" { print $2 }'; }

# one_run CASE DURABILITY wait|nowait SENDERS
one_run() {
	local c=$1 dur=$2 mode=$3 senders=$4 d=$WORK/run t0 t1 tc pids=() p rc=0
	local opt=()
	[ "$mode" = nowait ] && opt=(--no-wait)
	rm -rf "$d"
	start_seglogd "$d" --durability "$dur"
	t0=$EPOCHREALTIME
	if [ "$senders" = 1 ]; then
		"$SEGLOG" -s "$d/sock" send -t bench "${opt[@]}" <"$IN" || rc=$?
	else
		for p in "$WORK"/part.*; do
			"$SEGLOG" -s "$d/sock" send -t bench "${opt[@]}" <"$p" &
			pids+=($!)
		done
		for p in "${pids[@]}"; do wait "$p" || rc=$?; done
	fi
	tc=$EPOCHREALTIME
	if [ "$mode" = nowait ]; then
		"$SEGLOG" -s "$d/sock" send -t bench marker || rc=$?
		while [ "$(committed_seq "$d/sock")" -le "$N" ]; do sleep 0.005; done
	fi
	t1=$EPOCHREALTIME
	[ "$rc" = 0 ] || echo "bench: seglog send exited $rc in '$c'" >&2
	local v recs
	mapfile -t v < <(status_field "$d/sock" records commit_p50_us commit_p99_us commits)
	recs=${v[0]}
	rec "$c" rec/s "$(calc "$N / ($t1 - $t0)")"
	rec "$c" MB/s "$(calc "$N * 100 / ($t1 - $t0) / 1e6")"
	[ "$mode" = nowait ] && rec "$c" client_s "$(calc "$tc - $t0")"
	rec "$c" p50_us "${v[1]}"
	rec "$c" p99_us "${v[2]}"
	rec "$c" rec/commit "$(calc "$recs / ${v[3]}")"
	rec "$c" cpu_us/rec "$(calc "$(proc_cpu "$SEGLOGD_PID") * 1e6 / $N")"
	rec "$c" rss_MiB "$(proc_hwm_mb "$SEGLOGD_PID")"
	[ "$mode" = wait ] || recs=$((recs - 1))	# the marker
	rec "$c" lost "$((N - recs))"
	stop "$SEGLOGD_PID"
}

say "ingest: $N lines x 100 B, $RUNS runs per case"
for i in $(seq 1 "$RUNS"); do
	for dur in fsync write; do
		for mode in wait nowait; do
			say "run $i: 1 sender, $mode, durability=$dur"
			one_run "send $mode $dur" "$dur" "$mode" 1
		done
		say "run $i: 8 senders, wait, durability=$dur"
		one_run "8x send wait $dur" "$dur" wait 8
	done
done

echo "== ingest: seglog send, $N lines of 100 B ($(machine_note))"
benchlib summary "$RESULTS" --ratio "rec/s:send wait fsync:x send-wait-fsync"
