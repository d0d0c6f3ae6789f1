#!/usr/bin/env bash
# Benchmark 4: recovery/open time against the size of `current`.
# Target (PRODUCT.md §10): restart flat in the size of `current`, < 50 ms at
# 1 GiB.  Times store_open() (lock + recovery, through io_uring as in the
# daemon) with bench/open-time.c, and the daemon from exec to its "ready"
# line, on a 1 KiB `current`, a 16 MiB one and a 1 GiB one (64 MiB without
# BENCH_FULL=1).  Median of 5, warm page cache, and cold (caches dropped
# before each open) where the kernel lets us.
. "$(dirname "$0")/lib.sh"

OPEN_TIME=$WORK/open-time
say "compiling bench/open-time.c against the store layer ($BUILD/libstore.a)"
read -ra systemd_libs <<<"$(pkg-config --libs libsystemd 2>/dev/null || true)"
cc -O2 -std=gnu11 -I"$BUILD" -I"$TOP/src/basic" -I"$TOP/src/format" -I"$TOP/src/store" \
	-o "$OPEN_TIME" "$BENCH/open-time.c" \
	"$BUILD/libstore.a" "$BUILD/libformat.a" "$BUILD/libbasic.a" \
	-luring -levent_core -linih -lxxhash "${systemd_libs[@]}"

SMALL=$WORK/small MID=$WORK/mid
"$ENGINE_WRITER" write "$SMALL" 6 write >/dev/null 2>&1	# ~1 KiB
"$ENGINE_WRITER" write "$MID" $(((16 << 20) / 175)) write >/dev/null 2>&1
BIG=$(bigdir)
cold=0
if drop_caches; then cold=1; else say "cannot drop the page cache: warm runs only"; fi

# size_name FILE: "current 1.0 KiB" and the like.
size_name() {
	stat -c %s "$1" | awk '{ split("B KiB MiB GiB", u); i = 1; v = $1
		while (v >= 1024 && i < 4) { v /= 1024; i++ }
		printf "current %.1f %s", v, u[i] }'
}

for d in "$SMALL" "$MID" "$BIG"; do
	c=$(size_name "$d/current")
	for i in 1 2 3 4 5; do
		say "$c: run $i"
		out=$("$OPEN_TIME" "$d")
		rec "$c" open_warm_ms "$(calc "$(field open_us "$out") / 1000")"
		if [ "$cold" = 1 ]; then
			drop_caches
			out=$("$OPEN_TIME" "$d")
			rec "$c" open_cold_ms "$(calc "$(field open_us "$out") / 1000")"
		fi
		rec "$c" daemon_ready_ms "$(calc "$(benchlib ready -- "$SEGLOGD" -c "$CONF" --dir "$d" \
			--socket "$WORK/sock") * 1000")"
	done
done

echo "== open: store_open() and seglogd exec-to-ready against the size of current ($(machine_note | sed 's/medians of [0-9]* runs/medians of 5 runs/'))"
benchlib summary "$RESULTS" --ratio "open_warm_ms:$(size_name "$SMALL/current"):x 1KiB"
