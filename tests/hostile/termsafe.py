#!/usr/bin/env python3
"""Checks that bytes are safe to show on a terminal.

  termsafe.py [--pty] [--sgr N] [--allow-bidi] FILE...

Counts, over all FILEs: ESC (0x1b), other C0 controls but LF, DEL, C1
controls (U+0080-U+009F as UTF-8, or a raw byte 0x80-0x9f outside a valid
UTF-8 sequence), and bidirectional overrides/isolates (U+202A-U+202E,
U+2066-U+2069; allowed with --allow-bidi).  --pty allows the CR before each
LF that a pty adds.  --sgr N allows the program's own colours: escape
sequences ESC [ digits/semicolons m, at most N per line.  Prints
the number of problems and the first few, and exits 1, if there are any."""
import re
import sys

SGR = re.compile(rb"\x1b\[[0-9;]*m")
BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")


def main(argv):
    pty = False
    sgr = -1
    bidi_ok = False
    files = []
    a = argv[1:]
    while a:
        if a[0] == "--pty":
            pty = True
        elif a[0] == "--sgr":
            sgr = int(a[1])
            a = a[1:]
        elif a[0] == "--allow-bidi":
            bidi_ok = True
        else:
            files.append(a[0])
        a = a[1:]
    problems = []
    for fn in files:
        data = open(fn, "rb").read()
        for no, line in enumerate(data.split(b"\n"), 1):
            where = "%s:%d" % (fn, no)
            if pty and line.endswith(b"\r"):
                line = line[:-1]
            if sgr >= 0:
                n = len(SGR.findall(line))
                if n > sgr:
                    problems.append("%s: %d colour sequences (> %d)" % (where, n, sgr))
                line = SGR.sub(b"", line)
            for i, c in enumerate(line):
                if c == 0x1B:
                    problems.append("%s: ESC at %d" % (where, i))
                elif c < 0x20 or c == 0x7F:
                    problems.append("%s: control 0x%02x at %d" % (where, c, i))
            text = line.decode("utf-8", errors="surrogateescape")
            for i, ch in enumerate(text):
                o = ord(ch)
                if 0x80 <= o <= 0x9F:
                    problems.append("%s: C1 control U+%04X" % (where, o))
                elif 0xDC80 <= o <= 0xDC9F:  # a raw byte 0x80-0x9f, not UTF-8
                    problems.append("%s: raw byte 0x%02x" % (where, o - 0xDC00))
                elif not bidi_ok and BIDI.match(ch):
                    problems.append("%s: bidi control U+%04X" % (where, o))
    if problems:
        print(len(problems), "problem(s):", "; ".join(problems[:4]))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
