#!/bin/sh
# Builds everything the suites run, on the host, before the VM boots: the
# kernel module and the test bed's own module against the VM kernel's
# headers, the BPF object of the real-stack simulator, the C examples, the
# nginx modules (for the host's Debian nginx), the addon and the TypeScript API.
set -eu
cd "$(dirname "$0")/.."
. .cache/vm/kernel.env

step() { echo "build: $*" >&2; }

if [ -f kmod/Makefile ]; then
	step "kmod (KERNELDIR=$KERNELDIR)"
	make -s -C kmod KERNELDIR="$KERNELDIR" >&2
fi
if [ -f test/kmod/Makefile ]; then
	step "test-bed module (kgwttm_testbed.ko)"
	make -s -C test/kmod KERNELDIR="$KERNELDIR" >&2
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
step "TypeScript API"
npm run --silent build >&2
