#!/bin/sh
# SPDX-License-Identifier: MIT
# Builds everything the suites run, on the host, before the VM boots: the
# kernel module and the test bed's own module against the headers of every
# kernel of the test matrix (test/vm/kernels.sh), the BPF backend, the BPF
# object of the real-stack simulator, the C examples, the nginx modules (for
# the host's Debian nginx), the addon and the TypeScript API.
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
. test/vm/kernels.sh

step() { echo "build: $*" >&2; }

# Kbuild writes its objects beside the sources, so each kernel gets a folder of
# its own (kernel_build_dir) whose sources are links to the checkout's: the
# builds stay apart, and make still sees every edit. What Kbuild generates
# (*.mod.c, from an in-tree build) is never linked: it would write through.
sources_in() {
	(cd "$1" && ls -- *.c *.h 2>/dev/null | grep -v '\.mod\.c$')
}
link_sources() {
	from=$1 to=$2
	shift 2
	mkdir -p "$to"
	find "$to" -maxdepth 1 -type l -name '*.mod.c' -delete
	for f in "$@"; do
		[ -e "$from/$f" ] && ln -sfn "$ROOT/$from/$f" "$to/$f"
	done
}
for kver in $(kernels); do
	. "$(kernel_env "$kver")"
	out=$(kernel_build_dir "$kver")
	if [ -f kmod/Makefile ]; then
		step "kmod for $kver"
		link_sources kmod "$out/kmod" Kbuild Makefile VERSION uapi $(sources_in kmod)
		make -s -C "$out/kmod" KERNELDIR="$KERNELDIR" >&2
	fi
	if [ -f test/kmod/Makefile ]; then
		step "test-bed module (kgwttm_testbed.ko) for $kver"
		link_sources test/kmod "$out/test-kmod" Kbuild Makefile $(sources_in test/kmod)
		make -s -C "$out/test-kmod" KERNELDIR="$KERNELDIR" module >&2
	fi
done
# The packages test/guest/25-rpm-ko installs, one kmod-kgwttm per kernel, in a
# folder of their own: test/host/40-rpm rebuilds kmod/dist/ while the guests
# run beside it (test/run.ts), so the guests must not read from there. Rebuilt
# only when something in kmod/ is newer than the last build.
RPMS=$ROOT/.cache/build/rpm
if [ -f kmod/build.sh ] && command -v rpmbuild >/dev/null &&
	{ [ ! -f "$RPMS/.built" ] || [ -n "$(find kmod -newer "$RPMS/.built" -type f ! -path 'kmod/dist/*' ! -path 'kmod/tests/build/*' | head -n 1)" ]; }; then
	step "kmod RPMs for $(kernels | tr '\n' ' ')"
	rm -rf "$RPMS"
	dirs=
	for kver in $(kernels); do
		dirs="$dirs --kerneldir $(. "$(kernel_env "$kver")" && echo "$KERNELDIR")"
	done
	# shellcheck disable=SC2086 # one word per option
	sh kmod/build.sh $dirs --out "$RPMS" >/dev/null
	touch "$RPMS/.built"
fi
if [ -f test/kmod/Makefile ]; then
	step "test-bed tools (getpeername_flood)"
	make -s -C test/kmod getpeername_flood >&2
fi
if [ -f bpf/Makefile ]; then
	step "BPF backend (bpf/build/kgwttm-bpf)"
	make -s -C bpf >&2
fi
if [ -f test/lbsim/realstack/Makefile ]; then
	step "real-stack simulator"
	make -s -C test/lbsim/realstack >&2
fi
if [ -f examples/c/Makefile ]; then
	step "C examples"
	make -s -C examples/c >&2
fi
if [ -f nginx/build.sh ]; then
	step "nginx modules and their .deb"
	sh nginx/build.sh --deb
fi
step "addon"
npx --no-install node-gyp rebuild >/dev/null 2>&1 || npx --no-install node-gyp rebuild >&2
step "the CLI's addon (src/cli)"
npx --no-install node-gyp rebuild -C src/cli >/dev/null 2>&1 || npx --no-install node-gyp rebuild -C src/cli >&2
step "TypeScript API"
npm run --silent build >&2
