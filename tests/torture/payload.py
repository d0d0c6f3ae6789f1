"""The records of the crash torture, derived from (client id, record number)
alone, so that check.py can recompute every byte a client sent.

payload(cid, recno) -> (tag, severity, msg), all bytes but severity.  The
message starts with "<cid>-<recno> " (a unique id, found by plain grep),
then 30..229 filler bytes that include a space, a backslash, a TAB and a
two-byte UTF-8 character now and then, so the comparison also covers the
escaping of docs/format.md.  Facility is always user (1)."""
import zlib

FILLER = b"abcdefghijklmnopqrstuvwxyz0123456789 ABCDEFGHIJ\\\t"
UTF8 = "\u00e9".encode()
FACILITY = 1
SEV_NAMES = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"]


def payload(cid, recno):
    h = zlib.crc32(("%s:%d" % (cid, recno)).encode())
    n = 30 + h % 200
    start = (h >> 8) % len(FILLER)
    body = (FILLER[start:] + FILLER * (n // len(FILLER) + 1))[:n]
    if h & 0x10000:
        body = body[:n // 2] + UTF8 + body[n // 2:]
    tag = b"tt%d" % ((h >> 17) % 5)
    sev = (h >> 20) % 8
    return tag, sev, ("%s-%d " % (cid, recno)).encode() + body
