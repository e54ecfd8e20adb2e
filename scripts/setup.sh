#!/bin/sh
# SPDX-License-Identifier: MIT
# Everything the demo and the tests need, on a fresh machine: the VM test bed
# (apt packages, Debian's kernel image in .cache/vm, headers), the arm64 cross
# toolchain, qemu-user and an arm64 Node sysroot (the linux-arm64 prebuild and
# its test), the npm dependencies, and the builds (module, addon, TypeScript,
# simulators).
# Idempotent: later runs only check and rebuild what changed.
set -eu
cd "$(dirname "$0")/.."
t0=$(date +%s)
test/vm/provision.sh
sh scripts/provision-arm64.sh
t1=$(date +%s)
if [ ! -x node_modules/.bin/tsx ]; then
	npm ci --no-audit --no-fund >&2
fi
t2=$(date +%s)
sh test/build.sh
t3=$(date +%s)
echo "# setup: provision $((t1 - t0)) s, npm $((t2 - t1)) s, build $((t3 - t2)) s" >&2
