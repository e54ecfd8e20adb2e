# The module as kernel reviewers build it: no warning with W=1 against the VM
# kernel's headers, nothing from sparse, nothing from checkpatch --strict.
# Built in a scratch copy, so kmod/'s own build is left alone.
set -u
cd "$(dirname "$0")/../.."
. test/lib/tap.sh
. .cache/vm/kernel.env

SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT
cp -r kmod "$SCRATCH/kmod"
make -s -C "$SCRATCH/kmod" clean >/dev/null 2>&1

# Kbuild's only non-warning chatter: no vmlinux in a headers tree, so no BTF.
warnings() {
	grep -v -e 'Skipping BTF generation' -e '^make' -e '^ *\(CC\|LD\|MODPOST\|CHECK\) ' "$1" |
		grep -i -e 'warning' -e 'error' -e ': note:'
}

w1_clean() {
	make -C "$SCRATCH/kmod" KERNELDIR="$KERNELDIR" W=1 > "$SCRATCH/w1.log" 2>&1 ||
		{ cat "$SCRATCH/w1.log"; return 1; }
	! warnings "$SCRATCH/w1.log"
}

sparse_clean() {
	make -s -C "$SCRATCH/kmod" clean >/dev/null 2>&1
	make -C "$SCRATCH/kmod" KERNELDIR="$KERNELDIR" check > "$SCRATCH/sparse.log" 2>&1 ||
		{ cat "$SCRATCH/sparse.log"; return 1; }
	! warnings "$SCRATCH/sparse.log"
}

checkpatch_clean() {
	[ -x "$CHECKPATCH" ] || [ -f "$CHECKPATCH" ] || { echo "no checkpatch at $CHECKPATCH"; return 1; }
	make -s -C "$SCRATCH/kmod" style CHECKPATCH="perl $CHECKPATCH"
}

check "kmod builds with W=1 and no warnings against $KVER" w1_clean
check "sparse (make check) reports nothing" sparse_clean
check "checkpatch --strict (make style) reports nothing" checkpatch_clean
tap_done
