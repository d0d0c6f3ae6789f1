"""Native protocol bytes (docs/protocol.md) for the hostile-client helpers.
Independent of the C code, like tests/proto_client.py."""
import os
import socket
import struct

HELLO, RECORD, STATUS_REQ = 0x01, 0x02, 0x03
HELLO_OK, ACK, ERROR, STATUS = 0x81, 0x82, 0x83, 0x84
MAGIC = 0x4C474553
FRAME_MAX = 16 << 20  # largest legal value of the length field

ERR_NAMES = {1: "malformed", 2: "too-large", 3: "rate-limited", 4: "invalid",
             5: "version", 6: "too-many-clients", 7: "shutdown", 8: "slow-reader",
             9: "storage"}


def frame(t, body=b""):
    return struct.pack("<IB", len(body) + 1, t) + body


def hello():
    return frame(HELLO, struct.pack("<IHHI", MAGIC, 1, 1, 0))


def record(msg, tag=b"test", fac=1, sev=6, cpid=None, ctime=None):
    flags = (1 if ctime is not None else 0) | (2 if cpid is not None else 0)
    body = struct.pack("<BBBB", fac, sev, flags, len(tag))
    if ctime is not None:
        body += struct.pack("<Q", ctime)
    if cpid is not None:
        body += struct.pack("<I", cpid)
    return frame(RECORD, body + tag + msg)


class Reader:
    """Splits a byte stream into (type, body) frames."""

    def __init__(self):
        self.buf = bytearray()

    def feed(self, data):
        self.buf += data
        out = []
        while len(self.buf) >= 5:
            n, t = struct.unpack_from("<IB", self.buf)
            if len(self.buf) < 4 + n:
                break
            out.append((t, bytes(self.buf[5:4 + n])))
            del self.buf[:4 + n]
        return out


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
