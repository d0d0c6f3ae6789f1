#!/bin/bash
# Throughput of seglog ship against `kcat -P` in the same run, to a
# one-broker mock cluster (docs/shipping.md).  Not a test (never timed):
#   top_builddir=BUILD top_srcdir=SRC tests/kafka/bench.sh [RECORDS]
# Fills a data directory with RECORDS 128-byte messages through seglogd,
# then ships it from scratch with `seglog ship --once` (which exits once
# Kafka confirmed everything and the cursor holds the last seq);
# kcat -P produces the same values (the -o json lines, key = host id, same
# compression, idempotence and acks) from a file and exits once everything
# is delivered; a second kcat run adds three headers of the same sizes
# (kcat -H sets the same ones on every message), since the shipper sends
# host, dir_id and seq with each.  Each runs 3 times, interleaved; the best
# of each is compared.
set -u
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/kafka/lib.sh"
N=${1:-200000}
w=$(test_tmpdir)
start_mock "$w" 1 || fail "mock"
mkdir -p "$w/a"
start_daemon "$w/a" || fail "seglogd"
msg=$(head -c 100 /dev/zero | tr '\0' m)
seq -w 1 "$N" | sed "s/\$/ $msg/" | cut -c1-128 | "$SEGLOG" -s "$w/a/sock" send -t bench ||
	fail "send"
stop_daemon
last=$(last_seq "$w/a")
"$SEGLOG" -d "$w/a/data" cat -o json | sed 's/^/bench-host\t/' >"$w/values"
bytes=$(stat -c %s "$w/values")
now() { date +%s.%N; }
best_ship=999999 best_kcat=999999 best_kcath=999999
# cpu FILE: user+sys seconds that /usr/bin/time -f '%U %S' wrote last
cpu() { tail -n 1 "$1" | awk '{printf "%.2f", $1 + $2}'; }
for r in 1 2 3; do
	rm -f "$w/cursor-bench-host"
	t0=$(now)
	/usr/bin/time -o "$w/t-ship" -f '%U %S' "$SHIP_BIN" -d "$w/a/data" ship --brokers "$BROKERS" \
		--topic "ship$r" --cursor-file "$w/cursor-bench-host" --host-id bench-host --once \
		>>"$w/ship-bench.log" 2>&1 || fail "ship --once failed: $(tail -n 3 "$w/ship-bench.log")"
	t1=$(now)
	[ "$(cursor_seq "$w/cursor-bench-host")" = "$last" ] || fail "ship --once stopped short"
	t2=$(now)
	/usr/bin/time -o "$w/t-kcat" -f '%U %S' kcat -P -b "$BROKERS" -t "kcat$r" -K $'\t' -z zstd \
		-X enable.idempotence=true -X acks=all <"$w/values" || fail "kcat"
	t3=$(now)
	/usr/bin/time -o "$w/t-kcath" -f '%U %S' kcat -P -b "$BROKERS" -t "kcath$r" -K $'\t' -z zstd \
		-X enable.idempotence=true -X acks=all -H host=bench-host \
		-H dir_id="$(cat "$w/a/data/dir-id")" -H seq="$last" <"$w/values" || fail "kcat"
	t4=$(now)
	s=$(echo "$t1 - $t0" | bc); k=$(echo "$t3 - $t2" | bc); kh=$(echo "$t4 - $t3" | bc)
	echo "# run $r: seglog ship $s s ($(cpu "$w/t-ship") s CPU), kcat -P $k s ($(cpu "$w/t-kcat") s CPU)," \
		"kcat -P with 3 headers $kh s ($(cpu "$w/t-kcath") s CPU)"
	best_kcath=$(echo "if ($kh < $best_kcath) $kh else $best_kcath" | bc)
	best_ship=$(echo "if ($s < $best_ship) $s else $best_ship" | bc)
	best_kcat=$(echo "if ($k < $best_kcat) $k else $best_kcat" | bc)
done
echo "records $last, $((bytes / 1024 / 1024)) MiB of -o json values"
printf 'seglog ship: %.3f s (%.0f records/s)\n' "$best_ship" "$(echo "$last / $best_ship" | bc -l)"
printf 'kcat -P:     %.3f s (%.0f records/s)\n' "$best_kcat" "$(echo "$last / $best_kcat" | bc -l)"
printf 'kcat -P -H:  %.3f s (%.0f records/s)\n' "$best_kcath" "$(echo "$last / $best_kcath" | bc -l)"
printf 'ratio ship/kcat: %.2f, ship/kcat-with-headers: %.2f\n' \
	"$(echo "$best_ship / $best_kcat" | bc -l)" "$(echo "$best_ship / $best_kcath" | bc -l)"
stop_mock
