#!/usr/bin/env bash
# The disk's own figures and the latency of one client against them, in
# the directory the data goes to (issue #14, docs/bench.md):
#  - fio, sequential 1 MiB writes of 512 MiB (one fsync at the end):
#    bandwidth;
#  - fio, 4 KiB appends to a new file (no preallocation, file_append), an
#    fdatasync after each, as seglogd's `current` grows: the fdatasync's
#    latency p50/p99 (fio's "sync" figures) and the write's;
#  - bench/loadgen, one native client waiting for each ack (-c 1 -w 1),
#    against seglogd in durability fsync and write: the round trip of one
#    durable record, p50/p99; in fsync mode also with the daemon and the
#    client on one CPU (taskset), which takes out the wake-up of an idle
#    second CPU from the round trip (docs/bench.md says why it matters).
# Target (PRODUCT.md §10): seglogd fsync's p50 within 30 µs of fio's
# fdatasync p50.  Interleaved, RUNS rounds (3).
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh"

LOADGEN=$BUILD/bench/loadgen
[ -x "$LOADGEN" ] || { echo "bench: $LOADGEN missing: build first (cd $BUILD && make -j2)" >&2; exit 1; }
N=${LATENCY_RECORDS:-2000}
SEQ_MB=${LATENCY_SEQ_MB:-512}
PIN_CPU=$(($(nproc) - 1))
have_fio=0
if command -v fio >/dev/null; then have_fio=1; else say "fio missing (bench/deps installs it): no disk reference"; fi

# fio_json ARGS...: one fio job in $WORK/fio, its JSON on stdout.
fio_json() {
	rm -rf "$WORK/fio"
	mkdir -p "$WORK/fio"
	fio --name=bench --directory="$WORK/fio" --ioengine=psync --output-format=json "$@" 2>"$WORK/fio.err" || {
		cat "$WORK/fio.err" >&2
		echo "bench: fio $* failed" >&2
		exit 1
	}
}

fio_seq() {
	fio_json --rw=write --bs=1m --size="${SEQ_MB}m" --end_fsync=1 |
		jq -r '.jobs[0].write.bw_bytes / 1e6' | { read -r v; rec "fio seq write 1 MiB" MB/s "$v"; }
}

fio_fdatasync() {
	local c="fio 4k append+fdatasync"
	fio_json --rw=write --bs=4k --size=$((N * 4))k --fdatasync=1 --fallocate=none --file_append=1 |
		jq -r '.jobs[0] | [.sync.lat_ns.percentile["50.000000"], .sync.lat_ns.percentile["99.000000"],
			.write.clat_ns.percentile["50.000000"]] | map(. / 1000) | @tsv' | {
		read -r p50 p99 w50
		rec "$c" p50_us "$p50"
		rec "$c" p99_us "$p99"
		rec "$c" write_p50_us "$w50"
	}
}

# one_client fsync|write [CPU]: with CPU, the daemon (and so its io-wq
# workers, which inherit its affinity) and the client run on that one CPU.
one_client() {
	local c="seglogd 1 client -w 1, $1" out pin=()
	if [ -n "${2:-}" ]; then
		c="$c, one CPU"
		pin=(taskset -c "$2")
	fi
	rm -rf "$WORK/run"
	SEGLOGD_PREFIX="${pin[*]}" start_seglogd "$WORK/run" --durability "$1"
	out=$("${pin[@]}" "$LOADGEN" -q -m native -c 1 -n "$N" -w 1 -s "$WORK/run/sock")
	rec "$c" p50_us "$(tr ' ' '\n' <<<"$out" | sed -n 's/^p50_us=//p')"
	rec "$c" p99_us "$(tr ' ' '\n' <<<"$out" | sed -n 's/^p99_us=//p')"
	stop "$SEGLOGD_PID"
}

for i in $(seq 1 "$RUNS"); do
	if [ "$have_fio" = 1 ]; then
		say "round $i: fio sequential write, $SEQ_MB MiB"
		fio_seq
		say "round $i: fio 4 KiB append + fdatasync, $N"
		fio_fdatasync
	fi
	for dur in fsync write; do
		say "round $i: one client waiting for each ack, durability=$dur, $N records"
		one_client "$dur"
	done
	say "round $i: the same, fsync, daemon and client on CPU $PIN_CPU"
	one_client fsync "$PIN_CPU"
done

echo "== latency: the disk (fio) and one client waiting for each ack, $N records ($(machine_note))"
ratios=()
[ "$have_fio" = 1 ] && ratios=(--ratio "p50_us:fio 4k append+fdatasync:x fio-p50")
benchlib summary "$RESULTS" "${ratios[@]}"
save_results latency
