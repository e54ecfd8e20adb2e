#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/peers/build-dpvs-toa.sh DPVS_SOURCE [OUT_DIR]
#
# Builds DPVS's classic TOA module (kmod/toa of the public iqiyi/dpvs
# repository, at DPVS_SOURCE: a checkout or an unpacked snapshot) for the VM
# kernel, as the peer of bench/run.sh --peer. Nothing of DPVS is kept in
# this repository: the sources are copied into OUT_DIR (default: a new
# temporary folder) and built there; the path of toa.ko is printed, and
# toa.ko.source beside it says which commit (git rev-parse in DPVS_SOURCE,
# or $DPVS_COMMIT for an unpacked snapshot).
#
# Debian's 6.1.0-56 and later pass a seventh argument to syn_recv_sock()
# (opt_child_init); DPVS's two wrappers of it are given that argument when
# the kernel headers declare it, and nothing else is changed.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SRC=${1:?usage: bench/peers/build-dpvs-toa.sh DPVS_SOURCE [OUT_DIR]}
OUT=${2:-$(mktemp -d)}
. "$ROOT/.cache/vm/kernel.env"

[ -f "$SRC/kmod/toa/toa.c" ] || { echo "build-dpvs-toa: no kmod/toa/toa.c under $SRC" >&2; exit 2; }
mkdir -p "$OUT"
cp "$SRC"/kmod/toa/toa.c "$SRC"/kmod/toa/toa.h "$SRC"/kmod/toa/Makefile "$OUT/"

HDR=$KERNELDIR/include/net/inet_connection_sock.h
[ -f "$HDR" ] || HDR=$(sed -n 's|^include \(/usr/src/[^ ]*\)/Makefile$|\1|p' "$KERNELDIR/Makefile")/include/net/inet_connection_sock.h
if grep -q opt_child_init "$HDR"; then
	python3 - "$OUT/toa.c" <<'PY'
import re, sys
p = sys.argv[1]
s = open(p).read()
arg = ",\n        void (*opt_child_init)(struct sock *newsk, const struct sock *sk))"
# The typedef and both wrapper definitions end their parameters with own_req).
s, n_decl = re.subn(r"bool \*own_req\)", "bool *own_req" + arg, s)
# The calls of the originals pass own_req last.
s, n_call = re.subn(r"(req_unhash,\s*own_req)\);", r"\1, opt_child_init);", s)
if n_decl != 3 or n_call != 2:
    sys.exit("build-dpvs-toa: expected 3 declarations and 2 calls to patch, found %d and %d" % (n_decl, n_call))
open(p, "w").write(s)
PY
fi
make -s -C "$OUT" KERNDIR="$KERNELDIR" >&2
# Where it came from, for bench/run.sh's report.
commit=$(git -C "$SRC" rev-parse HEAD 2>/dev/null || echo "${DPVS_COMMIT:-an unrecorded commit}")
echo "DPVS kmod/toa (public iqiyi/dpvs repository) at $commit, built for $KVER by bench/peers/build-dpvs-toa.sh$(grep -q opt_child_init "$HDR" && echo ', its syn_recv_sock wrappers given the seventh argument')" >"$OUT/toa.ko.source"
echo "$OUT/toa.ko"
