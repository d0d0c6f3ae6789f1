#!/bin/bash
# bench/loadgen and bench/loadverify against a real seglogd: every mode
# (native pipelined, native waiting for each ack, syslog stream with
# newline framing and with octet counting, syslog datagrams) gets each
# record stored once, intact and in order, as `seglog cat` shows it; the
# result line has the figures of its mode; loadverify does see a deleted,
# a duplicated, a changed and a reordered line (negative controls, so that
# "0 lost" cannot come from a verifier that sees nothing); bad options exit
# 2, a socket that is not there is named.  A few thousand records: quick.
set -u
. "${top_srcdir:-.}/tests/lib.sh"

LOADGEN=${top_builddir:-.}/bench/loadgen
LOADVERIFY=${top_builddir:-.}/bench/loadverify
[ -x "$LOADGEN" ] && [ -x "$LOADVERIFY" ] || fail "bench/loadgen or bench/loadverify is not built"

w=$(test_tmpdir)
: >"$w/conf" # the defaults, whatever is installed in /etc
start_daemon "$w" -c "$w/conf" --syslog-stream "$w/stream" --syslog-dgram "$w/dgram" ||
	fail "daemon did not start"
wait_for_socket "$w/dgram" || fail "no syslog datagram socket"

# field KEY LINE: the value of KEY=VALUE in a result line.
field() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"; }

# run_mode NAME CLIENTS RECORDS SOCKET [loadgen options...]: loadgen with
# tag lgNAME, its result line checked; then `seglog cat -t lgNAME` into
# $w/NAME.out, checked by loadverify.
run_mode() {
	local name=$1 k=$2 m=$3 sock=$4 out rc mode n head; shift 4
	out=$("$LOADGEN" -q -s "$sock" -t "lg$name" -c "$k" -n "$m" "$@" 2>"$w/$name.err")
	rc=$?
	check_eq "$name: loadgen exits 0" "$rc" 0
	[ "$rc" = 0 ] || cat "$w/$name.err"
	mode=$(field mode "$out")
	head="loadgen mode=$mode clients=$k records=$m size=128 "
	check "$name: one result line: $out" \
		test "$(wc -l <<<"$out")" = 1 -a "${out#"$head"}" != "$out"
	n=$((k * m))
	if [ "$mode" = native ]; then
		check_eq "$name: every record acknowledged" "$(field acked "$out")" "$n"
		check "$name: latency figures" test -n "$(field p50_us "$out")" \
			-a -n "$(field p99_us "$out")" -a -n "$(field p999_us "$out")" \
			-a -n "$(field max_us "$out")"
	else
		check_eq "$name: every record durable (--status-socket)" \
			"$(field stored "$out")" "$n"
	fi
	"$SEGLOG" -d "$w/data" cat -t "lg$name" >"$w/$name.out"
	check_eq "$name: loadverify on seglog cat" \
		"$("$LOADVERIFY" -k "$k" -m "$m" --ordered "$w/$name.out")" \
		"$k clients, $m records each: 0 lost, 0 duplicated, 0 corrupt, 0 out of order"
}

run_mode native 3 2000 "$w/sock"
run_mode window1 1 200 "$w/sock" --window 1
run_mode stream 3 2000 "$w/stream" -m stream --status-socket "$w/sock"
run_mode octet 3 2000 "$w/stream" -m octet --status-socket "$w/sock" --batch 1000
run_mode dgram 3 2000 "$w/dgram" -m dgram --status-socket "$w/sock"

# negative controls on a good delivery: each must be seen, with exit 1
out=$w/native.out
# verify_bad WHAT EXPECTED-IN-OUTPUT loadverify-options < input
verify_bad() {
	local what=$1 want=$2 got rc; shift 2
	got=$("$LOADVERIFY" "$@")
	rc=$?
	check_eq "loadverify: $what: exit 1" "$rc" 1
	check "loadverify: $what: says '$want'" grep -qF -- "$want" <<<"$got"
}
verify_bad "a deleted line" "3 clients, 2000 records each: 1 lost, 0 duplicated, 0 corrupt" \
	-k 3 -m 2000 < <(sed 1234d "$out")
gone=$(sed -n '1234s/.* C=\([0-9]*\) N=\([0-9]*\) .*/C=\1 N=\2..\2/p' "$out")
verify_bad "a deleted line, named" "lost: $gone" \
	-k 3 -m 2000 < <(sed 1234d "$out")
verify_bad "a duplicated line" "3 clients, 2000 records each: 0 lost, 1 duplicated, 0 corrupt" \
	-k 3 -m 2000 < <(sed 1234p "$out")
verify_bad "a changed byte" "1 corrupt" -k 3 -m 2000 < <(sed '1234s/\(S=128 .\{10\}\)./\1!/' "$out")
verify_bad "a cut line" "1 corrupt" -k 3 -m 2000 < <(sed '1234s/.$//' "$out")
verify_bad "the last record missing (seen with -k and -m)" "1 lost" \
	-k 3 -m 2000 < <(sed '$d' "$out")
verify_bad "a record of another run" "1 corrupt" -k 2 -m 2000 < <(grep ' C=2 ' "$out" | head -n 1)
verify_bad "reversed, with --ordered" "out of order" -k 3 -m 2000 --ordered < <(tac "$out")
check_eq "loadverify: reversed, without --ordered, is fine" \
	"$(tac "$out" | "$LOADVERIFY" -k 3 -m 2000)" \
	"3 clients, 2000 records each: 0 lost, 0 duplicated, 0 corrupt"
verify_bad "nothing of loadgen's" "no loadgen records" < <(echo unrelated)

# usage and a daemon that is not there
"$LOADGEN" -s "$w/sock" --clients 0 2>"$w/err"
check_eq "loadgen: a bad option exits 2" "$?" 2
check "  ... and says which" grep -q -- '--clients' "$w/err"
"$LOADGEN" -s "$w/sock" -b 10 2>"$w/err"
check_eq "loadgen: a size below the sequence prefix exits 2" "$?" 2
"$LOADGEN" -m stream -s "$w/stream" --window 4 2>"$w/err"
check_eq "loadgen: --window outside native exits 2" "$?" 2
"$LOADVERIFY" -m nope </dev/null 2>"$w/err"
check_eq "loadverify: a bad option exits 2" "$?" 2
"$LOADGEN" -q -s "$w/nothere" -c 2 -n 10 2>"$w/err"
check_eq "loadgen: no daemon at the socket: exit 1" "$?" 1
check "  ... the message names the socket and the seglogd option" \
	grep -qF "cannot connect to $w/nothere: No such file or directory" "$w/err"
check "  ... and says what to check" \
	grep -qF "(is seglogd running with --socket $w/nothere?)" "$w/err"
"$LOADGEN" -q -m dgram -s "$w/stream" -c 1 -n 10 2>"$w/err"
check "loadgen: a stream socket in dgram mode is named as such" \
	grep -q 'needs the socket of seglogd --syslog-dgram' "$w/err"

stop_daemon
check_eq "daemon exits 0" "$?" 0
summary
