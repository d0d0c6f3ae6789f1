#!/bin/bash
# seglogd.conf.d/*.conf drop-ins (issue 16): read after the main file in
# lexical order, a later file wins, only *.conf regular files count, an
# error names the drop-in and its line; the command line wins over all;
# seglogd --check-config --dump prints the merged result with where each
# key was set, and reads back as the same configuration; a reload (HUP)
# reads the drop-ins again.
set -u
. "${top_srcdir:-.}/tests/lib.sh"

w=$(test_tmpdir)
c=$w/seglogd.conf
printf '[storage]\nsegment_size = 32M\nmax_segments = 5\n' > "$c"
mkdir "$c.d"
printf '[storage]\nsegment_size = 16M\n' > "$c.d/50-size.conf"
printf '[storage]\nsegment_size = 8M\nmax_age = 2d\n' > "$c.d/90-last.conf"
printf '[server]\nlog_level = WARN\n' > "$c.d/10-level.conf"
printf '[storage]\nsegment_size = 1G\n' > "$c.d/99-ignored.conf.bak"
printf '[storage]\nsegment_size = 2G\n' > "$c.d/.hidden.conf"
mkdir "$c.d/00-dir.conf"
dump() { "$SEGLOGD" -c "$c" --check-config --dump "$@"; }

out=$(dump)
check_eq "--dump exits 0" "$?" 0
check_eq "the last drop-in in lexical order wins" "$(echo "$out" | grep '^segment_size')" \
	"segment_size = 8M  # $c.d/90-last.conf:2"
check_eq "  ... a key set only in the main file stays, with its origin" \
	"$(echo "$out" | grep '^max_segments')" "max_segments = 5  # $c:3"
check_eq "  ... drop-ins add keys (and the one level parser reads WARN)" \
	"$(echo "$out" | grep -E '^(max_age|log_level)' | tr '\n' '|')" \
	"max_age = 2d  # $c.d/90-last.conf:3|log_level = warning  # $c.d/10-level.conf:2|"
check_eq "  ... defaults have no origin" "$(echo "$out" | grep '^durability')" "durability = fsync"
check "  ... .bak, hidden files and directories named *.conf are not read" \
	bash -c "! echo '$out' | grep -qE '= (1G|2G)'"
check_eq "  ... every key is listed, in sections" \
	"$(grep -c '^[a-z_]* = ' <<< "$out") $(grep -c '^\[' <<< "$out")" "32 2"
check_eq "the command line wins over the drop-ins" \
	"$(dump --durability write | grep '^durability')" "durability = write  # command line"

# the dump reads back as the same configuration
echo "$out" | sed 's/  # .*//' > "$w/round.conf"
"$SEGLOGD" -c "$w/round.conf" --check-config --dump | sed 's/  # .*//' > "$w/round.out"
check_eq "--dump reads back as the same configuration" \
	"$(sed 's/  # .*//' <<< "$out" | sha256sum)" "$(sha256sum < "$w/round.out")"

# errors name the drop-in
printf '[storage]\nsegment_size = lots\n' > "$c.d/60-bad.conf"
"$SEGLOGD" -c "$c" --check-config > "$w/out" 2>&1
check_eq "a bad drop-in: exit 2" "$?" 2
check "  ... naming the file, line and key" grep -q "$c.d/60-bad.conf:2.*segment_size" "$w/out"
rm "$c.d/60-bad.conf"
check_eq "--check-config without --dump still says OK" \
	"$("$SEGLOGD" -c "$c" --check-config)" "$c: configuration OK"

# a reload reads the drop-ins again
printf '[storage]\ndir = %s\n[server]\nsocket = %s\n' "$w/data" "$w/sock" > "$c.d/05-paths.conf"
printf '[server]\nlog_level = info\n' > "$c.d/11-info.conf" # "ready" is an info line
"$SEGLOGD" -c "$c" >> "$w/seglogd.log" 2>&1 &
DAEMON_PID=$!
wait_ready "$w/seglogd.log" 0 || fail "daemon did not start with drop-ins"
check_eq "the daemon uses the drop-ins' paths" "$(ls "$w/data" | grep -c '^current$')" 1
printf '[storage]\ndurability = write\n' > "$c.d/95-reload.conf"
n=$(grep -c 'Configuration reloaded' "$w/seglogd.log")
kill -HUP "$DAEMON_PID"
for i in $(seq 1 100); do
	[ "$(grep -c 'Configuration reloaded' "$w/seglogd.log")" -gt "$n" ] && break
	sleep 0.05
done
check "a reload reads a new drop-in" grep -q "Configuration reloaded" "$w/seglogd.log"
check_eq "  ... and applies it (status: durability write)" \
	"$("$SEGLOG" -s "$w/sock" status | awk '$1 == "durability:" {print $2}')" write
stop_daemon
check_eq "  ... exit 0" "$?" 0

# an option given many times: the last one wins (seglogd kept every one in
# an array of 8 and wrote past it from the 9th: a segfault)
args=()
for i in $(seq 1 12); do args+=(--dir "$w/d$i" --socket "$w/s$i"); done
"$SEGLOGD" "${args[@]}" --durability write --durability fsync --check-config --dump \
	> "$w/many.out" 2>&1
check_eq "--dir and --socket 12 times each: exit status" "$?" 0
check "... the last --dir wins" grep -q "^dir = $w/d12\b" "$w/many.out"
check "... the last --socket wins" grep -q "^socket = $w/s12\b" "$w/many.out"
check "... the last --durability wins" grep -q "^durability = fsync\b" "$w/many.out"
summary
