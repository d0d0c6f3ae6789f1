#!/bin/bash
# The layer rule of src/ on what the build did: the objects make lists, the
# headers the compiler read (.Po), the symbols nm shows (tests/layers_build.py).
exec python3 "$(dirname "$0")/layers_build.py" "${top_srcdir:-$(dirname "$0")/..}" "${top_builddir:-.}" "$@"
