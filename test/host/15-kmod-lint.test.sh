# SPDX-License-Identifier: MIT
# The module as kernel reviewers build it, against every kernel of the test
# bed's matrix: no warning with W=1 against the kernel's headers, nothing from
# sparse, nothing from that kernel's checkpatch --strict. Built in scratch
# copies, so kmod/'s own build is left alone.
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
. test/lib/tap.sh
. test/vm/kernels.sh

SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT

# Kbuild's only non-warning chatter: no vmlinux in a headers tree, so no BTF.
warnings() {
	grep -v -e 'Skipping BTF generation' -e '^make' -e '^ *\(CC\|LD\|MODPOST\|CHECK\|BTF\) ' "$1" |
		grep -i -e 'warning' -e 'error' -e ': note:'
}

fresh_copy() {
	rm -rf "$SCRATCH/kmod"
	cp -r kmod "$SCRATCH/kmod"
	make -s -C "$SCRATCH/kmod" clean KERNELDIR="$KERNELDIR" >/dev/null 2>&1
}

w1_clean() {
	fresh_copy
	make -C "$SCRATCH/kmod" KERNELDIR="$KERNELDIR" W=1 > "$SCRATCH/w1.log" 2>&1 ||
		{ cat "$SCRATCH/w1.log"; return 1; }
	! warnings "$SCRATCH/w1.log"
}

sparse_clean() {
	fresh_copy
	make -C "$SCRATCH/kmod" KERNELDIR="$KERNELDIR" check > "$SCRATCH/sparse.log" 2>&1 ||
		{ cat "$SCRATCH/sparse.log"; return 1; }
	! warnings "$SCRATCH/sparse.log"
}

# compat.h's fallbacks for the oldest kernels it claims (4.18, RHEL 8), which
# no kernel here would pick: KGWTTM_COMPAT_OLDEST makes it take them.
oldest_fallbacks_clean() {
	fresh_copy
	make -C "$SCRATCH/kmod" KERNELDIR="$KERNELDIR" W=1 KCFLAGS=-DKGWTTM_COMPAT_OLDEST > "$SCRATCH/oldest.log" 2>&1 ||
		{ cat "$SCRATCH/oldest.log"; return 1; }
	! warnings "$SCRATCH/oldest.log"
}

checkpatch_clean() {
	[ -f "$CHECKPATCH" ] || { echo "no checkpatch at $CHECKPATCH"; return 1; }
	make -s -C "$SCRATCH/kmod" style CHECKPATCH="perl $CHECKPATCH"
}

for kver in $(kernels); do
	. "$(kernel_env "$kver")"
	check "$KVER: kmod builds with W=1 and no warnings" w1_clean
	check "$KVER: sparse (make check) reports nothing" sparse_clean
	check "$KVER: checkpatch --strict of Linux $LINE (make style) reports nothing" checkpatch_clean
done
. "$(kernel_env "$(kernels | head -n 1)")"
check "$KVER: with compat.h's fallbacks for 4.18 (KGWTTM_COMPAT_OLDEST), W=1 and no warnings" oldest_fallbacks_clean
tap_done
