#!/usr/bin/env python3
"""The layer rule of src/ (src/LAYERS) on what the build really did.

tests/layers.sh reads the sources and names the line; this is the
authority, since no spelling of an include or declaration gets past it:

- the objects: make's own lists (libLAYER_a_OBJECTS, each program's
  _OBJECTS), not what lies in the build tree.  A layer's library holds only
  objects of its folder and adds none (_LIBADD); a program under src/ has
  the objects of one folder and links only the libraries of the layers
  that folder may use.
- the headers: every file of the repository an object's compile read, from
  the compiler's dependency file (DEPDIR/NAME.Po), lies in the object's
  folder or one it may use, or is a header the table grants (client:
  ship/ship.h, and nothing that header pulls in), or config.h; an
  *_internal.h only in its own folder.  Conditionals, -include, digraphs
  or a path through the repository's root cannot hide a read.
- the symbols (nm): every symbol an object uses, weak ones included, that
  src/ defines comes from its own layer or one it may use (from a granted
  header's layer, only the functions that header declares, read from the
  preprocessed header); no external symbol but main is defined in two
  layers (a duplicate would pick its body by the link order).
- every .c under src/ is compiled into an object of its layer.

Then, with one bad object added each, the check must fail naming it.

  layers_build.py SRCDIR BUILDDIR                 the check and its self-test
  layers_build.py SRCDIR BUILDDIR LAYER=OBJ...    the check, OBJ counted in LAYER
"""
import os, re, subprocess, sys, tempfile

failed = []
passed = 0


def ok():
    global passed
    passed += 1


def fail(msg):
    print(msg)
    failed.append(msg)


def read_table(root):
    """[(layer, [uses])] from src/LAYERS, checked to be an order."""
    table, seen = [], set()
    for n, line in enumerate(open(os.path.join(root, "src/LAYERS")), 1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        layer, uses = words[0], words[1:]
        if layer in seen:
            fail("src/LAYERS:%d: %s is defined twice (one line per layer)" % (n, layer))
        for u in uses:
            if u.split("/")[0] not in seen:
                fail("src/LAYERS:%d: %s may use %s, which is not a layer above this line" % (n, layer, u))
        seen.add(layer)
        table.append((layer, uses))
    return table


def make_vars(build, names):
    """make's own values of the build's variables."""
    rules = "layers-print: ; @:\n" + "".join("$(info %s=$(%s))\n" % (v, v) for v in names)
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    out = subprocess.run(["make", "-s", "-C", build, "-f", "Makefile", "-f", "-", "layers-print"],
                         input=rules, capture_output=True, text=True, env=env, check=True).stdout
    return dict(l.split("=", 1) for l in out.splitlines() if "=" in l)


def canon(name):
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def folder(obj):
    """The src/ folder an object (path relative to the build) is in, or None."""
    p = obj.split("/")
    return p[1] if len(p) > 2 and p[0] == "src" else None


def objects(build, allow, mv):
    """{object path: layer}, checking libraries and programs."""
    layer_of = {}
    for layer in allow:
        lib = "lib%s_a" % layer
        objs = mv.get(lib + "_OBJECTS", "").split()
        if not objs:
            fail("lib%s.a: no objects (is it in noinst_LIBRARIES?)" % layer)
        for o in objs:
            if folder(o) == layer:
                layer_of[o] = layer
                ok()
            else:
                fail("lib%s.a: holds %s, which is not of src/%s/" % (layer, o, layer))
        if mv.get(lib + "_LIBADD", "").strip():
            fail("lib%s.a: _LIBADD adds %s; a layer's library holds its folder's objects only"
                 % (layer, mv[lib + "_LIBADD"].strip()))
    for lib in mv["LIBRARIES"].split():
        c = canon(lib)
        if c.startswith("lib") and c[3:-2] in allow and c.endswith("_a"):
            continue
        for o in mv.get(c + "_OBJECTS", "").split():
            if folder(o):
                fail("%s: holds %s of src/, but is no layer's library" % (lib, o))
    for prog in mv["PROGRAMS"].split():
        c = canon(prog)
        objs = mv.get(c + "_OBJECTS", "").split()
        folders = sorted({folder(o) or "-" for o in objs})
        if folders == ["-"] or not objs:
            continue  # tests, benchmarks: above every layer
        if len(folders) > 1 or folders[0] not in allow:
            fail("%s: objects of %s; a program's sources are in one layer's folder" % (prog, folders))
            continue
        layer = folders[0]
        for o in objs:
            layer_of[o] = layer
        may = {layer} | {u.split("/")[0] for u in allow[layer]}
        for w in mv.get(c + "_LDADD", "").split():
            if not w.endswith(".a"):
                continue
            to = os.path.basename(w)[3:-2] if os.path.basename(w).startswith("lib") else None
            if to in may:
                ok()
            elif to in allow or os.path.exists(os.path.join(build, w)):
                fail("%s: links %s; a program of %s may link the libraries of %s only"
                     % (prog, w, layer, ", ".join(sorted(may))))
    return layer_of


def deps(po):
    """The files of the first rule of a .Po file: the source, then what it read."""
    text = open(po).read().replace("\\\n", " ")
    first = text.split("\n", 1)[0]
    return first.split(":", 1)[1].split() if ":" in first else []


def check_headers(root, build, allow, layer_of, depdir):
    compiled = set()
    for o, layer in sorted(layer_of.items()):
        po = os.path.join(build, os.path.dirname(o), depdir, os.path.basename(o)[:-2] + ".Po")
        if not os.path.exists(po) or os.path.getsize(po) == 0:
            fail("%s: no dependency file %s (build first, with dependency tracking)" % (o, po))
            continue
        for i, d in enumerate(deps(po)):
            d = os.path.realpath(os.path.join(build, d))
            if i == 0:
                compiled.add(d)
            if d == os.path.join(build, "config.h"):
                continue
            rel = os.path.relpath(d, root)
            inside = not rel.startswith("..") or not os.path.relpath(d, build).startswith("..")
            if not inside:
                continue  # the system's
            parts = rel.split("/")
            if len(parts) < 3 or parts[0] != "src" or parts[1] not in allow:
                fail("%s: its compile read %s, outside src/'s layers" % (o, rel))
                continue
            to, name = parts[1], "/".join(parts[2:])
            if to == layer:
                ok()
            elif name.endswith("_internal.h"):
                fail("%s: its compile read src/%s/%s, private to src/%s" % (o, to, name, to))
            elif to in allow[layer] or "%s/%s" % (to, name) in allow[layer]:
                ok()
            else:
                fail("%s: its compile read src/%s/%s: %s may use %s"
                     % (o, to, name, layer, ", ".join(allow[layer]) or "nothing"))
    for dirpath, _, files in sorted(os.walk(os.path.join(root, "src"))):
        for f in sorted(files):
            p = os.path.realpath(os.path.join(dirpath, f))
            if f.endswith(".c") and p not in compiled:
                fail("%s: compiled into no object of its layer (add it to a _SOURCES)"
                     % os.path.relpath(p, root))


def grants(root, allow):
    """{(layer, folder, name)} for the functions each granted header declares."""
    g = set()
    cc = os.environ.get("CC", "cc").split()
    for layer, uses in allow.items():
        for u in uses:
            if "/" not in u:
                continue
            r = subprocess.run(cc + ["-E", "-P", "-x", "c", os.path.join(root, "src", u)],
                               capture_output=True, text=True)
            if r.returncode != 0:
                fail("src/%s: does not preprocess alone (a granted header may include system headers only)" % u)
                continue
            for name in re.findall(r"\b([A-Za-z_]\w*)\s*\(", r.stdout):
                g.add((layer, u.split("/")[0], name))
    return g


def check_symbols(root, build, allow, layer_of, granted):
    paths = {os.path.join(build, o): o for o in layer_of}
    r = subprocess.run(["nm", "-A", "-g", "-l"] + sorted(paths), capture_output=True, text=True)
    if r.returncode != 0:
        fail("nm failed on the objects of %s: %s" % (build, r.stderr.strip()))
        return
    defined, uses, ndef = {}, [], {}
    for line in r.stdout.splitlines():
        head, _, where = line.partition("\t")
        path, _, rest = head.partition(":")
        f = rest.split()
        if len(f) < 2 or path not in paths:
            continue
        o = paths[path]
        typ, sym = f[-2], f[-1]
        if typ in ("U", "w", "v"):
            uses.append((o, sym, where))
        elif re.fullmatch(r"[A-Z]", typ):
            layer = layer_of[o]
            ndef[layer] = ndef.get(layer, 0) + 1
            defined.setdefault(sym, {}).setdefault(layer, o)
    for layer in set(layer_of.values()):
        if not ndef.get(layer):
            fail("the %s layer: its objects define no symbol (nm saw nothing: stripped?)" % layer)
    for sym, by in sorted(defined.items()):
        if len(by) > 1 and sym != "main":
            fail("%s: defines %s, which %s all define (the link order would pick one)"
                 % (by[sorted(by)[-1]], sym, " and ".join("src/%s/" % l for l in sorted(by))))
    for o, sym, where in uses:
        if sym not in defined:
            continue  # libc, libevent, ...
        layer = layer_of[o]
        if any(d == layer or d in allow[layer] or (layer, d, sym) in granted for d in defined[sym]):
            ok()
            continue
        where = os.path.relpath(where.rsplit(":", 1)[0], root) + ":" + where.rsplit(":", 1)[1] \
            if ":" in where else ""
        fail("%s%s: uses %s, defined in %s: %s may use %s"
             % (o, " (%s)" % where if where else "", sym,
                ", ".join("src/%s/" % d for d in sorted(defined[sym])), layer,
                ", ".join(allow[layer]) or "nothing"))


def check(root, build, added):
    table = read_table(root)
    allow = dict(table)
    mv = make_vars(build, ["DEPDIR", "PROGRAMS", "LIBRARIES"])
    names = []
    for lib in mv["LIBRARIES"].split():
        names += [canon(lib) + "_OBJECTS", canon(lib) + "_LIBADD"]
    for layer in allow:
        names += ["lib%s_a_OBJECTS" % layer, "lib%s_a_LIBADD" % layer]
    for prog in mv["PROGRAMS"].split():
        names += [canon(prog) + "_OBJECTS", canon(prog) + "_LDADD"]
    mv.update(make_vars(build, names))
    if not mv.get("DEPDIR"):
        fail("%s/Makefile: no DEPDIR; configure without --disable-dependency-tracking" % build)
        return
    layer_of = objects(build, allow, mv)
    for a in added:
        layer, _, o = a.partition("=")
        layer_of[o] = layer
    check_headers(root, build, allow, layer_of, mv["DEPDIR"])
    check_symbols(root, build, allow, layer_of, grants(root, allow))


def self_test(root, build):
    """Each bad object, compiled as if in src/FOLDER, must make the check fail."""
    allow = dict(read_table(root))
    depdir = make_vars(build, ["DEPDIR"])["DEPDIR"]
    cc = os.environ.get("CC", "cc").split()

    def first_fn(obj):
        out = subprocess.run(["nm", "-g", "--defined-only", os.path.join(build, obj)],
                             capture_output=True, text=True).stdout
        return next(l.split()[2] for l in out.splitlines() if l.split()[1] == "T")

    dfn = first_fn("src/daemon/libdaemon_a-server.o")
    sfn = first_fn("src/ship/libship_a-shipq.o")
    cases = [
        ("extern", "store", "extern void %s(void); void e1(void) { %s(); }" % (dfn, dfn),
         "uses %s, defined in src/daemon/: store may use basic, format" % dfn),
        ("weak", "store", "extern void %s(void) __attribute__((weak)); void e2(void) { %s(); }" % (dfn, dfn),
         "uses %s, defined in src/daemon/" % dfn),
        ("twice", "store", "void %s(void) {}" % dfn,
         "defines %s, which src/daemon/ and src/store/ all define" % dfn),
        ("digraph", "store", '%:include "server.h"\n',
         "its compile read src/daemon/server.h: store may use basic, format"),
        ("private", "read", '#include "store_internal.h"\n',
         "its compile read src/store/store_internal.h, private to src/store"),
        ("outside", "store", '#include "tests/testutil.h"\n',
         "its compile read tests/testutil.h, outside src/'s layers"),
        ("shipq", "client", "extern void %s(void); void e3(void) { %s(); }" % (sfn, sfn),
         "uses %s, defined in src/ship/: client may use" % sfn),
        ("pulled", "client", '#include "shipq.h"\n',
         "its compile read src/ship/shipq.h: client may use"),
    ]
    inc = ["-I" + build, "-I" + root] + ["-I" + os.path.join(root, "src", l) for l in allow]
    with tempfile.TemporaryDirectory() as t:
        for what, layer, src, want in cases:
            d = os.path.join(t, what)
            os.makedirs(os.path.join(d, depdir))
            c, o = os.path.join(d, what + ".c"), os.path.join(d, what + ".o")
            open(c, "w").write(src)
            po = os.path.join(d, depdir, what + ".Po")
            r = subprocess.run(cc + ["-std=gnu11", "-w"] + inc + ["-MD", "-MF", po, "-c", "-o", o, c],
                               capture_output=True, text=True)
            if r.returncode:
                fail("self-test (%s): could not compile the bad object: %s" % (what, r.stderr.strip()))
                continue
            r = subprocess.run([sys.executable, __file__, root, build, "%s=%s" % (layer, o)],
                               capture_output=True, text=True)
            if r.returncode == 0:
                fail("self-test (%s): the check passed; it should have said: %s" % (what, want))
            elif want in r.stdout:
                ok()
            else:
                fail("self-test (%s): the check failed without saying: %s" % (what, want))
                print("".join("  | " + l + "\n" for l in r.stdout.splitlines()[:5]), end="")


def main():
    root, build = (os.path.realpath(a) for a in sys.argv[1:3])
    check(root, build, sys.argv[3:])
    if len(sys.argv) == 3:
        self_test(root, build)
    print("layers-build: %d passed, %d failed" % (passed, len(failed)))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
