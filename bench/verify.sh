#!/usr/bin/env bash
# Benchmark 5: `seglog verify` throughput on a ~1 GiB data directory (64 MiB
# without BENCH_FULL=1), in two layouts: everything in one `current` (the
# directory of the other benchmarks), and the same size in 16 sealed
# segments (as the default segment_size = 64M makes it: verify checks
# segments, and 64 MiB ranges of a bigger one, in parallel).  Target (PRODUCT.md §10):
# >= 1 GB/s.  Cold runs drop the page cache first (where the kernel lets
# us); warm runs follow a cold one.  GB/s is the directory's bytes over the
# process's wall time.
. "$(dirname "$0")/lib.sh"

BIG=$(bigdir)
bytes=$(du -sb "$BIG" | cut -f1)
SEGS=$WORK/segs
say "creating the same size in 16 segments (engine-writer)"
"$ENGINE_WRITER" write "$SEGS" $((bytes / 175)) write $((bytes / 16)) >/dev/null 2>&1
cold=0
if drop_caches; then cold=1; else say "cannot drop the page cache: warm runs only"; fi

# one_run CASE DIR [verify options...]
one_run() {
	local c=$1 dir=$2 out; shift 2
	out=$(benchlib run --out "$WORK/verify.out" -- "$SEGLOG" -d "$dir" verify "$@")
	[ "$(field rc "$out")" = 0 ] || { echo "bench: verify exited $(field rc "$out"):" >&2; cat "$WORK/verify.out" >&2; }
	rec "$c" seconds "$(field wall_s "$out")"
	rec "$c" GB/s "$(calc "$bytes / $(field wall_s "$out") / 1e9")"
	rec "$c" cpu_s "$(field cpu_s "$out")"
}

say "verify: $bytes bytes, $RUNS runs per case"
for i in $(seq 1 "$RUNS"); do
	for layout in current segments; do
		[ "$layout" = current ] && d=$BIG || d=$SEGS
		[ "$layout" = current ] && l="1 current" || l="16 segments"
		if [ "$cold" = 1 ]; then
			say "run $i: $l, cold"
			drop_caches
			one_run "$l, cold" "$d"
		fi
		say "run $i: $l, warm"
		one_run "$l, warm" "$d"
		say "run $i: $l, warm, -j 1"
		one_run "$l, warm, -j 1" "$d" -j 1
		say "run $i: $l, warm, --full"
		one_run "$l, warm, --full" "$d" --full
	done
done

echo "== verify: seglog verify on $((bytes >> 20)) MiB ($(machine_note))"
benchlib summary "$RESULTS"
