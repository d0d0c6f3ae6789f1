#!/bin/bash
# Everything a syslog message carries is kept (issue 15): RFC 3164 HOSTNAME
# (present or not), RFC 5424 HOSTNAME, MSGID and every SD-ELEMENT with its
# params and escapes (RFC 5424 §6.3.3), from the real logger(1) and from
# raw datagrams and stream frames; shown by -o json and -o short and
# selected by --hostname, --msgid and --facility.  A relay host keeps which
# machine said what.
set -u
. "${top_srcdir:-.}/tests/lib.sh"
command -v logger >/dev/null || skip "logger (bsdutils) not installed"

w=$(test_tmpdir)
start_daemon "$w" --syslog-dgram "$w/dgram" --syslog-stream "$w/stream" ||
	fail "daemon did not start"
wait_for_socket "$w/stream"
host=$(hostname)
tok=$$

# dgram BYTES...: one raw datagram each
dgram() {
	python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
for m in sys.argv[2:]:
    s.sendto(m.encode("utf-8", "surrogateescape"), sys.argv[1])' "$w/dgram" "$@"
}
# rec TOKEN: the -o json record whose message contains TOKEN
rec() { "$SEGLOG" -d "$w/data" cat -o json | jq -c --arg t "$1" 'select(.message | contains($t))'; }
get() { rec "$1" | jq -c "$2"; }
count() { "$SEGLOG" -d "$w/data" cat -o json "${@:2}" | jq -r .message | grep -c -- "$1"; }

# --- the real logger -------------------------------------------------------------------
logger -u "$w/dgram" -d --rfc5424 -t app5424 -p local2.warning --msgid LOGIN \
	--sd-id 'auth@32473' --sd-param 'user="alice"' --sd-param 'from="10.0.0.1"' \
	"logger5424 $tok"
logger -u "$w/stream" -T --octet-count --rfc5424 -t octet --msgid ID9 "octet5424 $tok"
logger -u "$w/dgram" -d --rfc3164 -t app3164 -p mail.err "logger3164 $tok"
# both stream framings, both formats (logger -T: newline framing)
logger -u "$w/stream" -T --rfc5424 -t lf5424 --msgid LF5 "lf5424 $tok"
logger -u "$w/stream" -T --rfc3164 -t lf3164 "lf3164 $tok"
logger -u "$w/stream" -T --octet-count --rfc3164 -t oc3164 "oc3164 $tok"

# --- raw datagrams: what relays and other implementations send -------------------------
dgram "<38>Nov 24 10:00:00 web-1 sshd[77]: with host $tok" \
	"<38>Nov 24 10:00:00 sshd[78]: without host $tok" \
	"<165>1 2026-11-24T10:00:00.123Z db-2.example.org pg 99 Q1 [a@1 k=\"q\\\"uote\" k=\"back\\\\slash\" e=\"br\\]acket\"][b@2 x=\"\"] escapes $tok" \
	"<14>1 - - - - - - nil5424 $tok" \
	"<13>1 2026-11-24T10:00:00Z WEB-1 app - - - upper $tok" \
	"<13>Nov 24 10:00:00 ambiguous words $tok" \
	"<13>Nov 24 10:00:00 host: colon $tok"
# a relay's stream with newline framing, two hosts
printf '<78>Nov 24 10:00:01 web-1 cron[5]: relay one %s\n<78>Nov 24 10:00:02 web-2 cron[6]: relay two %s\n' \
	"$tok" "$tok" | python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.connect(sys.argv[1])
s.sendall(sys.stdin.buffer.read()); s.close()' "$w/stream"
for i in $(seq 1 100); do [ "$(count "$tok")" = 15 ] && break; sleep 0.05; done
check_eq "all 15 messages stored" "$(count "$tok")" 15

check_eq "logger RFC 5424: hostname, msgid, facility" \
	"$(get "logger5424 $tok" '[.hostname, .msgid, .facility, .severity, .tag]')" \
	"[\"$host\",\"LOGIN\",\"local2\",\"warning\",\"app5424\"]"
check_eq "  ... its SD-ELEMENT with both params" \
	"$(get "logger5424 $tok" '.sd["auth@32473"]')" '{"user":"alice","from":"10.0.0.1"}'
check_eq "  ... and the timeQuality element logger adds" \
	"$(get "logger5424 $tok" '.sd | keys')" '["auth@32473","timeQuality"]'
check_eq "  ... the claimed time is kept and shown" \
	"$(get "logger5424 $tok" '.claimed_time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T")')" true
check_eq "octet-counted RFC 5424 stream: hostname and msgid" \
	"$(get "octet5424 $tok" '[.hostname, .msgid]')" "[\"$host\",\"ID9\"]"
check_eq "logger RFC 3164 (it sends this host's name)" \
	"$(get "logger3164 $tok" '[.hostname, .tag, .facility]')" "[\"$host\",\"app3164\",\"mail\"]"
check_eq "newline-framed RFC 5424 stream: hostname and msgid" \
	"$(get "lf5424 $tok" '[.hostname, .msgid, .tag]')" "[\"$host\",\"LF5\",\"lf5424\"]"
check_eq "newline- and octet-framed RFC 3164 streams: hostname and tag" \
	"$(get "lf3164 $tok" '[.hostname, .tag]') $(get "oc3164 $tok" '[.hostname, .tag]')" \
	"[\"$host\",\"lf3164\"] [\"$host\",\"oc3164\"]"
# RFC 3164 §4.1.2 leaves a word after the TIMESTAMP ambiguous; as rsyslog,
# a hostname-like word followed by SP is the HOSTNAME, a word ending in ':'
# is the TAG (docs/syslog.md)
check_eq "RFC 3164 ambiguity: 'ambiguous words' gives HOSTNAME 'ambiguous', no TAG" \
	"$(get "words $tok" '[.hostname, .tag, .message]')" "[\"ambiguous\",\"\",\"words $tok\"]"
check_eq "RFC 3164 ambiguity: 'host: colon' gives TAG 'host', no HOSTNAME" \
	"$(get "colon $tok" '[.hostname, .tag, .message]')" "[null,\"host\",\"colon $tok\"]"
check_eq "RFC 3164 with HOSTNAME" \
	"$(get "with host $tok" '[.hostname, .tag, .claimed_pid]')" '["web-1","sshd",77]'
check_eq "RFC 3164 without HOSTNAME: the tag stays the tag" \
	"$(get "without host $tok" '[.hostname, .tag, .claimed_pid]')" '[null,"sshd",78]'
check_eq "RFC 5424 SD escapes round trip; repeated params become an array" \
	"$(get "escapes $tok" '.sd')" \
	'{"a@1":{"k":["q\"uote","back\\slash"],"e":"br]acket"},"b@2":{"x":""}}'
check_eq "  ... hostname, msgid, claimed pid" \
	"$(get "escapes $tok" '[.hostname, .msgid, .claimed_pid]')" '["db-2.example.org","Q1",99]'
check "  ... and the SD is on disk as received (grep finds it)" \
	grep -qF '[a@1\x20k="q\\"uote"\x20k="back\\\\slash"\x20e="br\\]acket"]' "$w/data/current"
check_eq "RFC 5424 with every field NILVALUE" \
	"$(get "nil5424 $tok" '[.hostname, .msgid, .sd, .claimed_pid, .claimed_time]')" \
	'[null,null,null,null,null]'
check "a printable message is still found by grep in the segment" \
	grep -q "with host $tok" "$w/data/current"

# --- -o short shows the hostname where journalctl does ---------------------------------
short=$("$SEGLOG" -d "$w/data" cat | grep "with host $tok")
check "-o short: 'TIME HOST TAG[PID]: MSG'" \
	bash -c "echo '$short' | grep -qE '^[A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} web-1 sshd\\[[0-9]+\\]: with host $tok\$'"

# --- filters ---------------------------------------------------------------------------
check_eq "--hostname web-1 (case-insensitive): 3 records" "$(count "$tok" --hostname web-1)" 3
check_eq "--hostname web-1 -H web-2: 4" "$(count "$tok" --hostname web-1 -H web-2)" 4
check_eq "--hostname - (none claimed): 3164 without HOSTNAME, NILVALUE, 'host: colon'" \
	"$(count "$tok" --hostname -)" 3
check_eq "--msgid LOGIN" "$(count "$tok" --msgid LOGIN)" 1
check_eq "--msgid Q1 --msgid ID9" "$(count "$tok" --msgid Q1 --msgid ID9)" 2
check_eq "--facility auth (<38> is auth.info)" "$(count "$tok" --facility auth)" 2
check_eq "--facility cron,local2 and --facility 20 (local4, <165>)" \
	"$(count "$tok" --facility cron,local2 --facility 20)" 4
check_eq "filters combine (AND): --facility auth -H web-1" \
	"$(count "$tok" --facility auth -H web-1)" 1
"$SEGLOG" -d "$w/data" cat --facility bogus > /dev/null 2> "$w/err"
check_eq "--facility bogus: usage error (exit 2)" "$?" 2
check "  ... naming the option" grep -q "invalid value 'bogus' for --facility" "$w/err"
check "verify is clean" "$SEGLOG" -d "$w/data" verify
stop_daemon
check_eq "the daemon exits 0" "$?" 0

# --- max_record counts message + SD, on every socket; drops are counted ----------------
# (a hostile test: over the stream socket the whole frame, header
# included, had to fit max_record; drops showed in no status counter)
w2=$w/limit
mkdir -p "$w2"
printf '[server]\nmax_record = 1000\n' > "$w2/conf"
start_daemon "$w2" -c "$w2/conf" --syslog-dgram "$w2/dgram" --syslog-stream "$w2/stream" ||
	fail "daemon 2 did not start"
wait_for_socket "$w2/stream"
python3 - "$w2" "$tok" <<'PY'
import socket, sys
w, tok = sys.argv[1], sys.argv[2]
def msg(name, body_len, sd=b"-"):
    head = b"<13>1 2026-11-24T10:00:00Z " + b"h" * 200 + b" app 1 " + name + b" " + sd + b" "
    body = (name + b" " + tok.encode() + b" ").ljust(body_len, b"x")
    return head + body
sd500 = b"[a@1 k=\"" + b"y" * 490 + b"\"]"
assert len(sd500) == 500
frames = [msg(b"exact", 1000), msg(b"over", 1001), msg(b"half", 500, sd500),
          msg(b"halfover", 501, sd500)]
st = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); st.connect(w + "/stream")
st.sendall(b"".join(b"%d %s" % (len(f), f) for f in frames)); st.close()
dg = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
for f in frames:
    dg.sendto(f.replace(b" app ", b" dgapp "), w + "/dgram")
# a hostname cut at 255 bytes never splits a UTF-8 character
dg.sendto(b"<13>1 - " + b"h" * 254 + "\u00e9".encode() + b" app - cut - utf8 " + tok.encode(),
          w + "/dgram")
PY
for i in $(seq 1 100); do
	[ "$("$SEGLOG" -s "$w2/sock" status | awk '$1 == "syslog_oversize:" {print $2}')" = 4 ] && break
	sleep 0.05
done
lim() { "$SEGLOG" -d "$w2/data" cat -o json | jq -r "select(.message | contains(\"$tok\")) | $1"; }
check_eq "max_record = 1000: message of 1000 and message + SD of 1000 stored, on both sockets" \
	"$(lim '"\(.tag) \(.msgid)"' | sort | tr '\n' '|')" "app cut|app exact|app half|dgapp exact|dgapp half|"
check_eq "  ... 1001 dropped and counted in status (syslog_oversize)" \
	"$("$SEGLOG" -s "$w2/sock" status | awk '$1 == "syslog_oversize:" {print $2}')" 4
check_eq "a hostname cut at 255 bytes ends before a split character (JSON string of 254)" \
	"$(lim 'select(.msgid == "cut") | .hostname | length')" 254
stop_daemon
summary
