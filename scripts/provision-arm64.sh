#!/bin/sh
# SPDX-License-Identifier: MIT
# Debian's arm64 nodejs with the closure of its dependencies unpacked into a
# sysroot, so that `qemu-aarch64 -L SYSROOT SYSROOT/usr/bin/node` loads and
# calls the arm64 addon (test/host/92-prebuild-arm64.test.ts). The cross
# compiler and qemu-user come with the test bed's packages
# (test/vm/provision.sh, run first). Idempotent: a second run only checks.
#
# The arm64 packages come through a private apt state (its own sources list
# for the host's own archives, package lists, cache, and an empty dpkg status)
# with arm64 as its only architecture: the host's dpkg and apt configuration
# stay as they are (no `dpkg --add-architecture`), as test/vm/provision.sh
# fetches kernels.
#
# Output: $KGWTTM_ARM64_SYSROOT (default .cache/arm64/root), holding
# usr/bin/node and its libraries; .done there names the nodejs version.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=$ROOT/.cache/arm64
SYSROOT=${KGWTTM_ARM64_SYSROOT:-$CACHE/root}
mkdir -p "$CACHE"
exec 9> "$CACHE/.lock"
flock 9

if [ "$(uname -m)" != x86_64 ]; then
	echo "provision-arm64: this $(uname -m) host is not set up for the arm64 test; it needs an x86-64 host" >&2
	exit 0
fi

[ -f "$SYSROOT/.done" ] && [ -x "$SYSROOT/usr/bin/node" ] && exit 0

APTDIR=$CACHE/apt
mkdir -p "$APTDIR/lists/partial" "$APTDIR/cache/archives/partial"
[ -f "$APTDIR/status" ] || : > "$APTDIR/status"
# The host's own archives (main suite, -updates, -security), for arm64.
apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 'Created-By: Packages' 2>/dev/null | sort -u |
	while read -r uri suite; do
		echo "deb [arch=arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $suite main"
	done > "$APTDIR/sources.list"
[ -s "$APTDIR/sources.list" ] || { echo "provision-arm64: the host's apt sources name no archive" >&2; exit 1; }
aapt() {
	tool=$1
	shift
	"$tool" -o Dir::Etc::sourcelist="$APTDIR/sources.list" -o Dir::Etc::sourceparts=/nonexistent \
		-o Dir::State::Lists="$APTDIR/lists" -o Dir::State::status="$APTDIR/status" \
		-o Dir::Cache="$APTDIR/cache" -o APT::Sandbox::User=root \
		-o APT::Architecture=arm64 -o APT::Architectures=arm64 "$@"
}
echo "provision-arm64: reading the arm64 package lists" >&2
aapt apt-get -qq update

# nodejs and everything it depends on, recursively (virtual names, <...>, left out).
pkgs=$(aapt apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
	--no-breaks --no-replaces --no-enhances nodejs | grep -v '^ ' | grep -v '^<' | sort -u)
version=$(aapt apt-cache show --no-all-versions nodejs | sed -n 's/^Version: //p')
echo "provision-arm64: unpacking Debian's arm64 nodejs $version and $(echo "$pkgs" | wc -l) packages into $SYSROOT" >&2
rm -rf "$SYSROOT" "$CACHE/deb"
mkdir -p "$SYSROOT" "$CACHE/deb"
# shellcheck disable=SC2086
(cd "$CACHE/deb" && aapt apt-get -qq download $pkgs >/dev/null)
for deb in "$CACHE"/deb/*.deb; do dpkg -x "$deb" "$SYSROOT"; done
rm -rf "$CACHE/deb"
qemu-aarch64 -L "$SYSROOT" "$SYSROOT/usr/bin/node" -e 'process.arch === "arm64" || process.exit(1)' ||
	{ echo "provision-arm64: the arm64 node in $SYSROOT does not run under qemu-aarch64" >&2; exit 1; }
echo "nodejs $version" > "$SYSROOT/.done"
