#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/run.sh [--write] [--quick] [--only call,setup,profile,bulk,scale,hooks] [--mem MiB] [--timeout S] [--wallclock]
#              [--peer PATH.ko]...
#
# Builds what the benchmarks run (incrementally), boots the VM once, runs
# bench/guest/ in it (every benchmark, rounds alternating inside one run),
# and prints the markdown table.  --write also writes bench/RESULTS.md (the
# table, this command, the date; bench/RESULTS-icount.md for an
# instruction-clock run).  --quick: small counts, to check the
# machinery only (its numbers mean nothing; --write refuses it).
#
# The guest's clock counts instructions (test/vm/run --icount: one vCPU, 1 ns
# of guest time per guest instruction), so a ratio is a ratio of work done,
# the same from run to run whatever else the host is doing.  --wallclock
# boots two vCPUs on real time instead (the numbers then drift with the host
# by 15% or more between rounds).
#
# The guest boots with slub_debug=- (test/vm/run turns SLUB debugging on for
# the test suites; it would dominate allocation costs) and slub_nomerge, so
# that the module's slab cache keeps its own line in /proc/slabinfo.
# The raw JSON of the last run is kept in bench/.out/last.json.
#
# The connection-setup rounds include the BPF backend (bpf/), attached with
# kgwttm-bpf while no module is loaded; bench/run.sh builds it like the
# module, from a copy of its own, and the report quotes its object's sha256.
#
# --peer PATH.ko (repeatable) adds that module as one more configuration of
# the connection-setup rounds, loaded alone (no kgwttm), e.g. a classic TOA
# module built by bench/peers/build-dpvs-toa.sh, or an older kgwttm.ko.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)

WRITE=0 QUICK=0 ONLY="" PEERS="" MEM=4096 TIMEOUT=3000 VMCLOCK="--cpus 1 --icount" CLOCK=icount
ARGS="$*"
while [ $# -gt 0 ]; do
	case $1 in
	--write) WRITE=1; shift ;;
	--quick) QUICK=1; shift ;;
	--only) ONLY=$2; shift 2 ;;
	--mem) MEM=$2; shift 2 ;;
	--timeout) TIMEOUT=$2; shift 2 ;;
	--wallclock) VMCLOCK="--cpus 2 --parallel-vcpus" CLOCK=wall; shift ;;
	--peer) [ -f "$2" ] || { echo "bench/run.sh: --peer $2: no such file" >&2; exit 2; }
		PEERS="$PEERS $2"; shift 2 ;;
	*) echo "usage: bench/run.sh [--write] [--quick] [--only LIST] [--mem MiB] [--timeout S] [--wallclock] [--peer PATH.ko]..." >&2; exit 2 ;;
	esac
done
if [ "$WRITE" = 1 ] && { [ "$QUICK" = 1 ] || [ -n "$ONLY" ]; }; then
	echo "bench/run.sh: --write records full runs only (no --quick, no --only)" >&2
	exit 2
fi

step() { echo "bench: $*" >&2; }

# ---- build (incremental; test/build.sh only when the addon or dist/ is missing)
test/vm/provision.sh >/dev/null 2>&1 || test/vm/provision.sh >&2
. .cache/vm/kernel.env
# The profile (bench/guest/profile.py) runs Debian's perf in the guest, which
# shares this host's root: linux-perf carries the perf of every kernel release.
if ! command -v perf >/dev/null 2>&1; then
	step "installing linux-perf for the profile"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q linux-perf >&2 ||
		echo "bench/run.sh: no linux-perf: the report says the profile was left out" >&2
fi
if ! ls build/Release/*.node >/dev/null 2>&1 || [ ! -f dist/index.js ]; then
	step "building everything (sh test/build.sh)"
	sh test/build.sh
fi
step "kmod and the BPF backend (private builds), real-stack simulator, bench/c"
# The module and the BPF backend are built from copies of kmod/ and bpf/ of
# their own, so a build someone else runs in kmod/ or bpf/ meanwhile cannot
# hand the VM a half-written .ko or loader.  bpf/Makefile reaches the parser
# through ../kmod: in the copies, that is the module's copy.
OUT=bench/.out
rm -rf "$OUT/kmod" "$OUT/bpf" && mkdir -p "$OUT/kmod" "$OUT/bpf"
cp -r kmod/Kbuild kmod/Makefile kmod/VERSION kmod/uapi kmod/*.c kmod/*.h "$OUT/kmod/"
cp -r bpf/Makefile bpf/*.c bpf/*.h bpf/shim "$OUT/bpf/"
make -s -C "$OUT/kmod" KERNELDIR="$KERNELDIR" >&2
make -s -C "$OUT/bpf" >&2
make -s -C test/lbsim/realstack >&2
make -s -C bench/c >&2
cp "$OUT/kmod/kgwttm.ko" "$OUT/kgwttm.ko"
KO_SHA=$(sha256sum "$OUT/kgwttm.ko" | cut -c1-12)
# The loader embeds the programs (a libbpf skeleton of kgwttm.bpf.o).
cp "$OUT/bpf/build/kgwttm-bpf" "$OUT/kgwttm-bpf"
BPF_SHA=$(sha256sum "$OUT/bpf/build/kgwttm.bpf.o" | cut -c1-12)

# Peers get private copies too, named after their file (peer-NAME.ko).
# A peer's PATH.ko.source (one line, written by bench/peers/build-*.sh) says
# where it came from; the report quotes it.
PEER_PATHS="" PEER_NOTES=""
for p in $PEERS; do
	dst="$ROOT/$OUT/peer-$(basename "$p")"
	cp "$p" "$dst"
	PEER_PATHS="${PEER_PATHS:+$PEER_PATHS:}$dst"
	note="origin not recorded"
	[ -f "$p.source" ] && note=$(head -n 1 "$p.source")
	PEER_NOTES="$PEER_NOTES
\`$(basename "$p" .ko)\`: $note (sha256 $(sha256sum "$p" | cut -c1-12)…)"
done
export KGWTTM_BENCH_PEERS="$PEER_PATHS"

export KGWTTM_BENCH_KO="$ROOT/$OUT/kgwttm.ko" KGWTTM_BENCH_BPF="$ROOT/$OUT/kgwttm-bpf" KGWTTM_BENCH_CLOCK=$CLOCK
[ "$QUICK" = 1 ] && export KGWTTM_BENCH_QUICK=1
[ -n "$ONLY" ] && export KGWTTM_BENCH_ONLY="$ONLY"

step "booting the VM ($VMCLOCK --mem $MEM); guest progress follows"
START=$(date -u +%Y-%m-%dT%H:%M:%SZ)
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
set +e
# The TSC as clocksource, as real hosts have it: the guest otherwise picks
# the HPET (its TSC fails calibration under TCG), and every clock read is
# then an emulated device access that the vCPUs serialize on: read_hpet was
# the busiest symbol of the loaded and the not-loaded profiles alike.
test/vm/run --mem "$MEM" $VMCLOCK --timeout "$TIMEOUT" \
	--append "slub_debug=- slub_nomerge clocksource=tsc tsc=reliable" -- \
	python3 -m bench.guest >"$OUT/guest.out"
rc=$?
set -e
if [ $rc -ne 0 ]; then
	cat "$OUT/guest.out" >&2
	echo "bench/run.sh: the guest run failed (exit $rc)" >&2
	exit 1
fi
sed -n 's/^BENCH_JSON //p' "$OUT/guest.out" >"$OUT/last.json"
[ -s "$OUT/last.json" ] || { cat "$OUT/guest.out" >&2; echo "bench/run.sh: no result" >&2; exit 1; }

COMMIT=$(git rev-parse --short HEAD)
DIRTY=$(git status --porcelain -- kmod bpf lib src bench | grep -q . && echo "+uncommitted" || true)
set -- python3 bench/report.py "$OUT/last.json" \
	--command "bench/run.sh${ARGS:+ $ARGS}" --date "$START" --commit "$COMMIT$DIRTY" \
	--ko-sha "$KO_SHA" --bpf-sha "$BPF_SHA" --host-load "$LOAD" --host-cpus "$(nproc)"
# One --peer-note per peer (the notes are lines; no word splitting inside one).
OLDIFS=$IFS IFS='
'
for n in $PEER_NOTES; do
	set -- "$@" --peer-note "$n"
done
IFS=$OLDIFS
if [ "$WRITE" = 1 ]; then
	# The wall clock is the verdict (bench/RESULTS.md); the instruction clock,
	# the second view that says where instructions go, has a page of its own.
	PAGE=bench/RESULTS.md
	[ "$CLOCK" = icount ] && PAGE=bench/RESULTS-icount.md
	"$@" --write "$PAGE"
	step "wrote $PAGE"
else
	"$@"
fi
