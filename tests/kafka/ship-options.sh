#!/bin/bash
# seglog ship refuses a bad command line, configuration, data directory or
# cursor before it ships anything, with exit status 2 and a message that
# names the option, key, file or directory:
#  1. empty or invalid option values (--brokers "", --topic "", --host-id "",
#     --compression lzma, --drain-timeout abc, --on-permanent-error maybe,
#     a bad -X);
#  2. the same in a config file's [ship] section, and seglogd --check-config
#     on it; a relative cursor_file;
#  3. a missing, empty (no dir-id) or dangling data directory;
#  4. a cursor past the directory's newest record (a restored copy, or
#     records taken back by a power loss in durability = write): it would
#     skip every record up to it;
#  5. a second shipper on a cursor file one already uses, also after its
#     lock file was removed by hand;
#  6. brokers that are not a HOST:PORT list (typos librdkafka would retry
#     forever); quoted values and empty ones (the default again) as seglogd
#     reads them; a symlinked cursor; a stray argument; the temporaries a
#     kill -9 left mid-save are swept.
set -u
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/kafka/lib.sh"

w=$(test_tmpdir)
start_mock "$w" 1 opts:1 || fail "mock cluster did not start"
mkdir -p "$w/a"
start_daemon "$w/a" || fail "seglogd did not start"
seq 1 50 | sed 's/^/options record /' | "$SEGLOG" -s "$w/a/sock" send -t opts || fail "send"
stop_daemon || fail "seglogd stop"
D=$w/a/data

# expect_refused WHAT PATTERN ARGS...: seglog ship ARGS exits 2 and its
# stderr matches PATTERN (grep -E), within 20 s, without shipping.
expect_refused() {
	local what=$1 pat=$2 rc; shift 2
	timeout 20 "$SEGLOG" "$@" >"$w/out" 2>"$w/err"
	rc=$?
	check_eq "$what: exit status" "$rc" 2
	if grep -Eq -- "$pat" "$w/err"; then ok "$what: says why"; else
		not_ok "$what: stderr does not match '$pat': $(head -c 400 "$w/err")"; fi
}
S=(-d "$D" ship --brokers "$BROKERS" --topic opts --cursor-file "$w/cur" --once)

# --- 1. options ---------------------------------------------------------------
expect_refused '--brokers ""' '--brokers.*empty' -d "$D" ship --brokers "" --topic opts --cursor-file "$w/cur" --once
expect_refused '--topic ""' '--topic.*empty' -d "$D" ship --brokers "$BROKERS" --topic "" --cursor-file "$w/cur" --once
expect_refused '--host-id ""' '--host-id.*empty' "${S[@]}" --host-id ""
expect_refused '--host-id with a newline' '--host-id' "${S[@]}" --host-id "$(printf 'a\nb')"
expect_refused '--cursor-file ""' '--cursor-file.*empty' "${S[@]}" --cursor-file ""
expect_refused '--compression lzma' "--compression.*'lzma'.*zstd" "${S[@]}" --compression lzma
expect_refused '--drain-timeout abc' "--drain-timeout.*'abc'" "${S[@]}" --drain-timeout abc
expect_refused '--drain-timeout " 5"' "--drain-timeout" "${S[@]}" --drain-timeout " 5"
expect_refused '--on-permanent-error maybe' "--on-permanent-error.*'maybe'.*stop.*skip" \
	"${S[@]}" --on-permanent-error maybe
expect_refused '-X without =' "-X.*'linger.ms'.*KEY=VALUE" "${S[@]}" -X linger.ms
expect_refused '-X unknown property' "no.such.property" "${S[@]}" -X no.such.property=1
check "nothing was shipped, no cursor written" test ! -e "$w/cur"

# --- 2. the config file -------------------------------------------------------
conf() { printf '[ship]\nbrokers = %s\ntopic = opts\ncursor_file = %s\n%s\n' "$BROKERS" "$w/cur" "$1" >"$w/ship.conf"; }
conf 'compression = lzma'
expect_refused 'config compression = lzma' "ship.conf.*compression.*lzma" \
	-d "$D" ship -c "$w/ship.conf" --once
"$SEGLOGD" --config "$w/ship.conf" --check-config >"$w/out" 2>&1
check_eq "seglogd --check-config: compression = lzma fails" "$?" 2
check "... naming the key" grep -q 'compression' "$w/out"
conf 'cursor_file = relative/ship.cursor'
expect_refused 'config relative cursor_file' "ship.conf.*cursor_file.*absolute" \
	-d "$D" ship -c "$w/ship.conf" --once
conf 'drain_timeout = soon'
expect_refused 'config drain_timeout = soon' "ship.conf.*drain_timeout.*soon" \
	-d "$D" ship -c "$w/ship.conf" --once
conf 'on_permanent_error = ignore'
expect_refused 'config on_permanent_error = ignore' "ship.conf.*on_permanent_error.*ignore" \
	-d "$D" ship -c "$w/ship.conf" --once
"$SEGLOGD" --config "$w/ship.conf" --check-config >"$w/out" 2>&1
check_eq "seglogd --check-config: on_permanent_error = ignore fails" "$?" 2
conf 'topicc = typo'
expect_refused 'config unknown key' "ship.conf.*topicc" -d "$D" ship -c "$w/ship.conf" --once

# --- 3. the data directory ----------------------------------------------------
expect_refused 'missing data directory' "$w/nonexistent.*(No such|does not exist)" \
	-d "$w/nonexistent" ship --brokers "$BROKERS" --topic opts --cursor-file "$w/cur" --once
mkdir "$w/empty"
expect_refused 'empty data directory' "$w/empty.*dir-id" \
	-d "$w/empty" ship --brokers "$BROKERS" --topic opts --cursor-file "$w/cur" --once
ln -s "$w/gone" "$w/dangling"
expect_refused 'dangling data directory' "$w/dangling" \
	-d "$w/dangling" ship --brokers "$BROKERS" --topic opts --cursor-file "$w/cur" --once

# --- 4. a cursor past the newest record ---------------------------------------
printf 'seglog-cursor 1 %s 1000\n' "$(cat "$D/dir-id")" >"$w/ahead"
expect_refused 'a cursor past the newest record' "$w/ahead.*1000.*newest.*50" \
	-d "$D" ship --brokers "$BROKERS" --topic opts --cursor-file "$w/ahead" --once
check_eq "... it is left as it was" "$(cursor_seq "$w/ahead")" 1000
printf 'seglog-cursor 1 %s 50\n' "$(cat "$D/dir-id")" >"$w/at-end"
timeout 20 "$SEGLOG" -d "$D" ship --brokers "$BROKERS" --topic opts --cursor-file "$w/at-end" \
	--once >"$w/out" 2>&1
check_eq "a cursor at the newest record: nothing to do, exit status" "$?" 0

# --- 5. one shipper per cursor file -------------------------------------------
mock_cmd down 1 || fail "broker down"
"$SEGLOG" -d "$D" ship --brokers "$BROKERS" --topic opts --cursor-file "$w/shared" \
	--host-id first --drain-timeout 100 >"$w/first.log" 2>&1 &
first=$!
for i in $(seq 1 100); do [ -e "$w/shared.lock" ] && break; sleep 0.05; done
expect_refused 'a second shipper on the same cursor file' "$w/shared.*in use" \
	-d "$D" ship --brokers "$BROKERS" --topic opts --cursor-file "$w/shared" --host-id second
check "the first one still runs" kill -0 "$first"
rm -f "$w/shared.lock"
for i in $(seq 1 60); do [ -e "$w/shared.lock" ] && break; sleep 0.05; done
sleep 1.2 # the tick after the one that re-created it
expect_refused 'its lock removed by hand: still refused' "$w/shared.*in use" \
	-d "$D" ship --brokers "$BROKERS" --topic opts --cursor-file "$w/shared" --host-id second
check "... the first one says it took the lock again" grep -q 'lock .* was removed' "$w/first.log"
kill -TERM "$first"
wait "$first"
check_eq "the first one: SIGTERM, exit status" "$?" 0
mock_cmd up 1 || fail "broker up"

# --- 6. brokers, quotes, empty values, odd paths --------------------------------
for b in kafka1 h:0 h:99999 'h:80,,h2:90' :9092 h:9092x "$BROKERS," 'h :9092'; do
	expect_refused "--brokers '$b'" "--brokers.*HOST:PORT" -d "$D" ship --brokers "$b" \
		--topic opts --cursor-file "$w/cur" --once
done
printf '[ship]\nbrokers = kafka1\ntopic = opts\n' >"$w/b.conf"
"$SEGLOGD" --config "$w/b.conf" --check-config >"$w/out" 2>&1
check_eq "seglogd --check-config: brokers = kafka1 fails" "$?" 2
printf '[ship]\nbrokers = PLAINTEXT://k1:9092,[::1]:9093,10.0.0.1:19092\ntopic = opts\n' >"$w/b.conf"
"$SEGLOGD" --config "$w/b.conf" --check-config >"$w/out" 2>&1
check_eq "seglogd --check-config: a scheme, an IPv6 and an IPv4 broker pass" "$?" 0
cp -a "$D" "$w/with space"
printf '[storage]\ndir = "%s"\n[ship]\nbrokers = %s\ntopic = "opts"\ncursor_file = "%s"\nhost_id = "quoted host"\n' \
	"$w/with space" "$BROKERS" "$w/quoted cur" >"$w/q.conf"
timeout 20 "$SEGLOG" ship -c "$w/q.conf" --once >"$w/q.log" 2>&1
check_eq "quoted values, as seglogd reads them: exit status" "$?" 0
check "... the host id without its quotes" grep -q "as host quoted host\$" "$w/q.log"
check_eq "... the quoted cursor path used" "$(cursor_seq "$w/quoted cur")" 50
printf '[ship]\nbrokers = %s\ntopic = opts\ncursor_file = %s\ntopic =\n' "$BROKERS" "$w/cur" >"$w/e.conf"
expect_refused 'an empty value later: the default again (no topic)' "--topic are required" \
	-d "$D" ship -c "$w/e.conf" --once
ln -s "$w/at-end" "$w/link"
expect_refused 'a symlinked cursor file' "$w/link.*symbolic link" \
	-d "$D" ship --brokers "$BROKERS" --topic opts --cursor-file "$w/link" --once
expect_refused 'a stray argument' "unexpected argument 'extra'" "${S[@]}" extra
expect_refused 'an unknown option' "^seglog ship: unknown option.*--bogus" "${S[@]}" --bogus
touch "$w/.tmp.at-end.0123456789abcdef" "$w/.tmp.at-end.keep"
timeout 20 "$SEGLOG" -d "$D" ship --brokers "$BROKERS" --topic opts --cursor-file "$w/at-end" \
	--once >"$w/out" 2>&1
check "a save's temporary left by a kill -9 is swept" test ! -e "$w/.tmp.at-end.0123456789abcdef"
check "... and nothing else" test -e "$w/.tmp.at-end.keep"
stop_mock
summary
