#!/usr/bin/env python3
"""The self-test's writer: writer.py DIR STEP...

Runs plain system calls in DIR, one STEP after the other, and prints the
errno name of the first that fails (then stops, exit 1):
  write:F:N      append N bytes of pattern() to F (created if missing)
  fdatasync:F    fsync:F   on a descriptor of F
  fsyncdir:D     fsync(2) of directory D ("." for DIR itself)
  rename:A:B     unlink:F   mkdir:D   truncate:F:N   link:A:B   symlink:T:F
pattern(off, n) gives the bytes at offsets off..off+n of every file: each
8-byte group spells its own offset, so a checker can tell a prefix, a hole
or a misplaced block."""
import errno, os, sys


def pattern(off, n):
    first = off // 8
    s = b"".join(b"%07x\n" % (i % (1 << 28)) for i in range(first, (off + n + 7) // 8 + 1))
    return s[off - first * 8:off - first * 8 + n]


def step(d, s):
    op, *a = s.split(":")
    p = [os.path.join(d, x) for x in a]
    if op == "write":
        fd = os.open(p[0], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        off = os.fstat(fd).st_size
        os.write(fd, pattern(off, int(a[1])))
        os.close(fd)
    elif op in ("fdatasync", "fsync", "fsyncdir"):
        fd = os.open(p[0], os.O_RDONLY | (os.O_DIRECTORY if op == "fsyncdir" else 0))
        try:
            (os.fdatasync if op == "fdatasync" else os.fsync)(fd)
        finally:
            try:
                os.close(fd)  # after a cut close fails too; the sync's error counts
            except OSError:
                pass
    elif op == "rename":
        os.rename(p[0], p[1])
    elif op == "unlink":
        os.unlink(p[0])
    elif op == "mkdir":
        os.mkdir(p[0])
    elif op == "truncate":
        os.truncate(p[0], int(a[1]))
    elif op == "link":
        os.link(p[0], p[1])
    elif op == "symlink":
        os.symlink(a[0], p[1])
    else:
        raise SystemExit("unknown step " + s)


def main(argv):
    for s in argv[2:]:
        try:
            step(argv[1], s)
        except OSError as e:
            print("%s %s" % (s, errno.errorcode.get(e.errno, e.errno)))
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
