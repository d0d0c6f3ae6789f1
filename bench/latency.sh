#!/usr/bin/env bash
# Ack latency of one client that waits for each ack before sending the next
# record (bench/ack-latency.py), against the disk's own fdatasync latency
# (fio: 4 KiB writes, fdatasync after each, in the same directory).
# Target (PRODUCT.md §10): the median within 50 µs of fdatasync's.
. "$(dirname "$0")/lib.sh"

N=500
[ "$FULL" = 1 ] && N=2000
have_fio=0
if command -v fio >/dev/null; then have_fio=1; else say "fio missing (apt-get install -y fio): no disk reference"; fi

fio_run() {
	local out
	out=$(fio --name=fdatasync --directory="$WORK" --rw=write --bs=4k --size=$((N * 4))k \
		--fdatasync=1 --ioengine=sync --output-format=json 2>/dev/null)
	python3 -c 'import json, sys
p = json.loads(sys.stdin.read())["jobs"][0]["sync"]["lat_ns"]["percentile"]
print("%.1f %.1f" % (p["50.000000"] / 1e3, p["99.000000"] / 1e3))' <<<"$out"
	rm -f "$WORK"/fdatasync.*
}

say "latency: $N records one at a time, $RUNS runs per case"
for i in $(seq 1 "$RUNS"); do
	if [ "$have_fio" = 1 ]; then
		say "run $i: fio fdatasync"
		read -r p50 p99 <<<"$(fio_run)"
		rec "fio 4k write+fdatasync" p50_us "$p50"
		rec "fio 4k write+fdatasync" p99_us "$p99"
	fi
	for dur in fsync write; do
		say "run $i: one client, durability=$dur"
		rm -rf "$WORK/run"
		start_seglogd "$WORK/run" --durability "$dur"
		out=$(python3 "$BENCH/ack-latency.py" "$WORK/run/sock" "$N")
		rec "seglog ack, $dur" p50_us "$(field p50_us "$out")"
		rec "seglog ack, $dur" p99_us "$(field p99_us "$out")"
		stop "$SEGLOGD_PID"
	done
done

echo "== latency: one client waiting for each ack, $N records ($(machine_note))"
ratios=()
[ "$have_fio" = 1 ] && ratios=(--ratio "p50_us:fio 4k write+fdatasync:x fio-p50")
benchlib summary "$RESULTS" "${ratios[@]}"
