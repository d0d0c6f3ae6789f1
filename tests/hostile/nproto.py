"""Native protocol bytes (docs/protocol.md) for the hostile-client helpers,
built on tests/proto_client.py (independent of the C code)."""
import os
import socket
import struct
import sys

# frames, codes and the frame reader are the ones of tests/proto_client.py
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from proto_client import (  # noqa: E402,F401
    ACK, ERROR, HELLO, HELLO_OK, MAGIC, RECORD, STATUS, STATUS_REQ, Reader, frame, hello,
    record)

FRAME_MAX = 16 << 20  # largest legal value of the length field

ERR_NAMES = {1: "malformed", 2: "too-large", 3: "rate-limited", 4: "invalid",
             5: "version", 6: "too-many-clients", 7: "shutdown", 8: "slow-reader",
             9: "storage"}


def parse_ack(body):
    return struct.unpack("<QQ", body)


def parse_error(body):
    recno, code = struct.unpack_from("<QH", body)
    return recno, code, body[10:].decode(errors="replace")


def connect(path, blocking=True):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.setblocking(blocking)
    return s


def read_vm(pid):
    """VmRSS and VmHWM of a process, in KiB (0 if it is gone)."""
    rss = hwm = 0
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
                elif line.startswith("VmHWM:"):
                    hwm = int(line.split()[1])
    except OSError:
        pass
    return rss, hwm


def cpu_ticks(pid):
    """utime + stime of a process, in clock ticks."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))
