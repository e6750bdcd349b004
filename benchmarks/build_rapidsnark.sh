#!/usr/bin/env bash
# Build rapidsnark's `prover` from source, for benchmarks/side_by_side.py only.
#
# rapidsnark (iden3, LGPL-3.0; C++ and assembly) is NOT a dependency of zkmargin: nothing in the tests
# needs it, CI never runs this script, and no rapidsnark code is copied into this repository. The
# side-by-side bench runs its binary when `--rapidsnark PATH`, $ZKMARGIN_RAPIDSNARK or `rapidsnark`
# on PATH names it.
#
#   bash benchmarks/build_rapidsnark.sh SRC [PREFIX]
#
# SRC: a rapidsnark source tree with its submodules filled in (depends/ffiasm, depends/circom_runtime,
#      depends/json; depends/pistache is only for its HTTP service), e.g.
#        git clone --recursive https://github.com/iden3/rapidsnark SRC
#      or, without network access to GitHub, from bare copies of the four repositories:
#        git --git-dir=rapidsnark.git archive <commit> | tar -x -C SRC
#        git --git-dir=ffiasm.git archive <its depends/ffiasm commit> | tar -x -C SRC/depends/ffiasm  (etc.)
# PREFIX: where bin/rapidsnark goes (default /work/build/rapidsnark).
#
# What the bench's figures used (README, Performance): rapidsnark 38c832a (2024-10-25) with the submodule
# commits it pins: ffiasm b9dce0a, circom_runtime 8397850, nlohmann/json 350ff4f. rapidsnark's newest
# commits pin ffiasm commits (fe3772e and later) that the bare copy at hand did not hold, so the newest
# commit whose submodules were all available was built. x86_64 with its assembly field arithmetic and
# OpenMP, CMAKE_BUILD_TYPE=Release, the system's GMP (libgmp-dev) instead of its build_gmp.sh (which
# downloads GMP 6.3.0).
#
# Build dependencies (Debian/Ubuntu): build-essential cmake libgmp-dev libsodium-dev nasm m4
set -euo pipefail
SRC="${1:?usage: $0 SRC [PREFIX]}"
PREFIX="${2:-/work/build/rapidsnark}"
SRC="$(cd "$SRC" && pwd)"
for sub in ffiasm circom_runtime json; do
  if [ -z "$(ls -A "$SRC/depends/$sub" 2>/dev/null)" ]; then
    echo "$SRC/depends/$sub is empty: fill in rapidsnark's submodules first (see the header)" >&2
    exit 1
  fi
done
for tool in cmake g++ nasm m4; do
  command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install build-essential cmake libgmp-dev libsodium-dev nasm m4" >&2; exit 1; }
done
BUILD="$SRC/build_prover"
mkdir -p "$BUILD" "$PREFIX/bin"
# Its own Makefile's `host` target, minus the install step (which wants depends/gmp's static GMP)
cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$SRC/package"
cmake --build "$BUILD" --target prover -j "$(nproc)"
install -m 0755 "$BUILD/src/prover" "$PREFIX/bin/rapidsnark"
echo "built $PREFIX/bin/rapidsnark (usage: rapidsnark circuit.zkey witness.wtns proof.json public.json)"
echo "bench: python -P -m zkmargin.benchmarks.side_by_side --rapidsnark $PREFIX/bin/rapidsnark"
