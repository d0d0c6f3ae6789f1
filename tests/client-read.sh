#!/bin/bash
# seglog cat/tail output and selection as a journalctl user expects them
# (issue 16): -o short-iso / short-precise / cat, --utc, --grep (PCRE2,
# smart case, invalid UTF-8), --show-cursor (and resuming from it),
# --color=auto|always|never, the pager on a terminal ($SEGLOG_PAGER,
# $PAGER, --no-pager, none with -f) and -r/--reverse, through the real
# binaries; a terminal comes from script(1).
set -u
. "${top_srcdir:-.}/tests/lib.sh"

w=$(test_tmpdir)
start_daemon "$w" || fail "daemon did not start"
send() { "$SEGLOG" -s "$w/sock" send "$@" > /dev/null || not_ok "send $*"; }
send -t app -p err "Disk FULL on /var"
send -t app -p info "disk check passed"
send -t app -p warning "temperature high"
printf 'bad \xff\xfe bytes then disk\n' | send -t raw -p info
stop_daemon
d=$w/data
sc() { "$SEGLOG" -d "$d" cat "$@"; }
t_last=$(sc -o json | tail -n 1 | jq -r .time) # 2026-..T..:..:..uuuuuuZ

# --- time formats ----------------------------------------------------------------------
check "-o short-iso --utc: RFC 3339 with +00:00" \
	bash -c "'$SEGLOG' -d '$d' cat -o short-iso --utc | tail -n 1 | grep -qE '^${t_last:0:19}\\+00:00 [^ ]+ raw\\[[0-9]+\\]: '"
check "-o short-iso in TZ=Asia/Kolkata: +05:30" \
	bash -c "TZ=Asia/Kolkata '$SEGLOG' -d '$d' cat -o short-iso | tail -n 1 | grep -qE '^[0-9-]{10}T[0-9:]{8}\\+05:30 '"
us=${t_last:20:6}
check "-o short-precise: microseconds of the receive time" \
	bash -c "'$SEGLOG' -d '$d' cat -o short-precise --utc | tail -n 1 | grep -qE '^[A-Z][a-z]{2} [0-9]{2} ${t_last:11:8}\\.$us [^ ]+ raw\\['"
check_eq "--utc: short shows the UTC hour" \
	"$(TZ=Asia/Kolkata "$SEGLOG" -d "$d" cat --utc | tail -n 1 | cut -c8-15)" "${t_last:11:8}"
check_eq "-o cat is the message only (= -o raw)" "$(sc -o cat | head -n 1)" "Disk FULL on /var"
check_eq "  ... the same bytes as raw" "$(sc -o cat | sha256sum)" "$(sc -o raw | sha256sum)"

# --- --grep --------------------------------------------------------------------------------
check_eq "--grep disk: case-insensitive without upper case (3 records)" \
	"$(sc --grep disk -o cat | wc -l)" 3
check_eq "--grep FULL: case-sensitive with upper case" "$(sc --grep FULL -o cat)" \
	"Disk FULL on /var"
check_eq "--grep 'Full': no match (case-sensitive)" "$(sc --grep Full -o cat | wc -l)" 0
check_eq "--grep '\\d': an escape is not upper case" "$(sc -g '^\S+ check' -o cat)" \
	"disk check passed"
check_eq "--grep matches a message with invalid UTF-8" \
	"$(sc --grep 'then disk$' -o json | jq -r .tag)" raw
check_eq "--grep with -p: both must hold" "$(sc --grep disk -p err -o cat)" "Disk FULL on /var"
sc --grep '(' > /dev/null 2> "$w/err"
check_eq "--grep '(': usage error (exit 2)" "$?" 2
check "  ... with PCRE2's reason" grep -q "grep '(': missing closing parenthesis" "$w/err"

# --- --show-cursor ---------------------------------------------------------------------
out=$(sc -n 2 --show-cursor)
cur=$(echo "$out" | sed -n 's/^-- cursor: //p')
check "--show-cursor: the last line is '-- cursor: seglog-cursor 1 DIRID 4'" \
	test "$cur" = "seglog-cursor 1 $(cat "$d/dir-id") 4"
check_eq "  ... after the records" "$(echo "$out" | wc -l)" 3
echo "$cur" > "$w/cur"
start_daemon "$w" || fail "daemon did not restart"
send -t app "after the cursor"
stop_daemon
check_eq "  ... the printed cursor, saved as a --cursor-file, resumes after it" \
	"$(sc --cursor-file "$w/cur" -o cat)" "after the cursor"
check_eq "--show-cursor with nothing printed: no cursor line" \
	"$(sc --grep nomatchatall --show-cursor | wc -l)" 0

# --- colours ---------------------------------------------------------------------------
esc=$'\033['
check "--color=always colours an err record through a pipe" \
	bash -c "'$SEGLOG' -d '$d' cat --color=always -p err | grep -qF '${esc}1;31m'"
check "--color=auto: no colour through a pipe" \
	bash -c "! '$SEGLOG' -d '$d' cat --color=auto | grep -qF '$esc'"
check "--color=never: no colour on a terminal" \
	bash -c "! script -qec \"'$SEGLOG' -d '$d' cat --no-pager --color=never\" /dev/null | grep -qF '$esc'"
check "on a terminal (auto): coloured" \
	bash -c "script -qec \"'$SEGLOG' -d '$d' cat --no-pager -p err\" /dev/null | grep -qF '${esc}1;31m'"
sc --color=sometimes > /dev/null 2> "$w/err"
check_eq "--color=sometimes: exit 2" "$?" 2
check "  ... naming the option" grep -q "invalid value 'sometimes' for --color" "$w/err"

# --- the pager ---------------------------------------------------------------------------
# a fake pager that records how it was run and what it got
cat > "$w/pager" <<PG
#!/bin/sh
echo "LESS=\${LESS:-unset} args=\$*" > "$w/pager.run"
cat > "$w/pager.in"
PG
chmod +x "$w/pager"
tty_run() { rm -f "$w/pager.run" "$w/pager.in"; script -qec "$1" /dev/null > "$w/tty.out"; }
tty_run "env -u SEGLOG_PAGER PAGER='$w/pager --x' '$SEGLOG' -d '$d' cat"
check "on a terminal, cat runs \$PAGER" test -f "$w/pager.run"
check_eq "  ... with LESS=FRSX when \$LESS is unset" "$(cat "$w/pager.run")" "LESS=FRSX args=--x"
check_eq "  ... and feeds it every record" "$(grep -c . "$w/pager.in")" 5
tty_run "env LESS=R SEGLOG_PAGER='$w/pager' PAGER=false '$SEGLOG' -d '$d' tail -n 2"
check_eq "\$SEGLOG_PAGER before \$PAGER, \$LESS kept; tail -n 2 too" \
	"$(cat "$w/pager.run" 2>/dev/null) $(grep -c . "$w/pager.in" 2>/dev/null)" "LESS=R args= 2"
tty_run "env PAGER='$w/pager' '$SEGLOG' -d '$d' cat --no-pager"
check "--no-pager: no pager" test ! -f "$w/pager.run"
check "  ... the records on the terminal" grep -q "after the cursor" "$w/tty.out"
tty_run "env PAGER=cat '$SEGLOG' -d '$d' cat"
check "PAGER=cat: written directly" grep -q "after the cursor" "$w/tty.out"
"$SEGLOG" -d "$d" cat > "$w/pipe.out" 2>&1 < /dev/null &
PAGER="$w/pager" wait $!
check "through a pipe: no pager" test ! -f "$w/pager.run"
# --- -r/--reverse: newest first, over many small segments -------------------------------
r=$w/rev
mkdir -p "$r"
printf '[storage]\nsegment_size = 4K\n' > "$r/conf"
start_daemon "$r" -c "$r/conf" || fail "daemon for --reverse did not start"
seq 1 20000 | "$SEGLOG" -s "$r/sock" send -t rv -p info > /dev/null || not_ok "send 20000"
rc() { "$SEGLOG" -d "$r/data" "$@" -o cat --no-pager; }
check "the reverse test spans many segments ($(ls "$r/data" | grep -c '\.log$'))" \
	test "$(ls "$r/data" | grep -c '\.log$')" -ge 100
check_eq "tail -r: the last 10, newest first" "$(rc tail -r | paste -sd' ')" \
	"$(seq 20000 -1 19991 | paste -sd' ')"
check_eq "cat -r: all, in exactly the reverse order of cat" "$(rc cat -r | md5sum)" \
	"$(rc cat | tac | md5sum)"
check_eq "cat -r --after-seq 19995: down to 19996" "$(rc cat -r --after-seq 19995 | paste -sd' ')" \
	"20000 19999 19998 19997 19996"
check_eq "tail -r -n 3 --grep: the last 3 matches, newest first" \
	"$(rc tail -r -n 3 --grep '^1234' | paste -sd' ')" "12349 12348 12347"
check_eq "tail -r -n all = cat -r" "$(rc tail -r -n all | md5sum)" "$(rc cat -r | md5sum)"
"$SEGLOG" -d "$r/data" cat -r -f > "$w/rev.out" 2>&1
check_eq "--reverse with --follow: usage error" "$?" 2
"$SEGLOG" -d "$r/data" cat -r --cursor-file "$w/rev.cursor" > "$w/rev.out" 2>&1
check_eq "--reverse with --cursor-file: usage error" "$?" 2
stop_daemon

start_daemon "$w" || fail "daemon did not restart"
tty_run "env PAGER='$w/pager' timeout -s INT 1 '$SEGLOG' -d '$d' tail -f -n 1"
check "tail -f on a terminal: no pager" test ! -f "$w/pager.run"
check "  ... the record on the terminal" grep -q "after the cursor" "$w/tty.out"
stop_daemon
summary
