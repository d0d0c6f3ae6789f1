#!/bin/bash
# Throughput of seglog ship against `kcat -P` in the same run, to a
# one-broker mock cluster (docs/shipping.md).  Not a test (never timed):
#   top_builddir=BUILD top_srcdir=SRC tests/kafka/bench.sh [RECORDS]
# Fills a data directory with RECORDS 128-byte messages through seglogd,
# then ships it from scratch and waits for the cursor to reach the last seq;
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
for r in 1 2 3; do
	rm -f "$w/cursor-bench-host"
	t0=$(now)
	start_ship "$w" "$w/a/data" bench-host "ship$r"
	wait_cursor "$w/cursor-bench-host" "$last" 300 || fail "ship did not finish"
	t1=$(now)
	kill -TERM "$SHIP_PID"; wait "$SHIP_PID"
	t2=$(now)
	kcat -P -b "$BROKERS" -t "kcat$r" -K $'\t' -z zstd -X enable.idempotence=true \
		-X acks=all <"$w/values" || fail "kcat"
	t3=$(now)
	kcat -P -b "$BROKERS" -t "kcath$r" -K $'\t' -z zstd -X enable.idempotence=true \
		-X acks=all -H host=bench-host -H dir_id="$(cat "$w/a/data/dir-id")" \
		-H seq="$last" <"$w/values" || fail "kcat"
	t4=$(now)
	s=$(echo "$t1 - $t0" | bc); k=$(echo "$t3 - $t2" | bc); kh=$(echo "$t4 - $t3" | bc)
	echo "# run $r: seglog ship $s s, kcat -P $k s, kcat -P with 3 headers $kh s"
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
