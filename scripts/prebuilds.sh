#!/bin/sh
# SPDX-License-Identifier: MIT
# npm run prebuilds: the prebuilt addons the package ships, so that
# `npm install kgwttm` on a backend host needs no compiler: both addons, the
# library's (prebuilds/) and the CLI's (src/cli/prebuilds/), for each ARCH
# (default: this host's), Linux with glibc. N-API (one build for every Node
# version), stripped, tagged glibc so that node-gyp-build on musl (Alpine)
# passes them over and the install builds from source there. An ARCH that is
# not the host's is cross-compiled with Debian's cross toolchain
# (g++-aarch64-linux-gnu for arm64, g++-x86-64-linux-gnu for x64).
#
# Each target builds in a staging copy under .cache/prebuilds/, never in the
# checkout's build/: node-gyp-build loads build/Release before any prebuild, so
# a cross-compiled file left there would break every later run on this host.
#
#   sh scripts/prebuilds.sh [ARCH...]
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
ARCHS=${*:-x64 arm64}
HOST_ARCH=$(node -p process.arch)
PREBUILDIFY=$ROOT/node_modules/.bin/prebuildify
[ -x "$PREBUILDIFY" ] || { echo "prebuilds: no $PREBUILDIFY (npm ci)" >&2; exit 1; }

triple() {
	case $1 in
	x64) echo x86_64-linux-gnu ;;
	arm64) echo aarch64-linux-gnu ;;
	*) echo "prebuilds: no cross toolchain known for $1" >&2; exit 1 ;;
	esac
}

# Node's own headers (N-API is the same in every version since 8): node-gyp
# would otherwise download the headers of the newest Node release it knows.
TARGET=$(node -p process.versions.node)
if [ -z "${npm_config_nodedir:-}" ]; then
	for prefix in "$(node -p process.config.variables.node_prefix)" "$(dirname "$(dirname "$(node -p process.execPath)")")"; do
		if [ -f "$prefix/include/node/node_api.h" ]; then
			export npm_config_nodedir="$prefix"
			break
		fi
	done
fi

rm -rf prebuilds src/cli/prebuilds
for arch in $ARCHS; do
	stage=$ROOT/.cache/prebuilds/$arch
	rm -rf "$stage"
	mkdir -p "$stage/src/cli" "$stage/kmod"
	cp binding.gyp "$stage/"
	cp src/*.cc "$stage/src/"
	cp src/cli/binding.gyp src/cli/*.cc "$stage/src/cli/"
	cp -r kmod/uapi "$stage/kmod/"
	if [ "$arch" = "$HOST_ARCH" ]; then
		strip=strip
		set --
	else
		t=$(triple "$arch")
		command -v "$t-g++" >/dev/null ||
			{ echo "prebuilds: $t-g++ is not installed (apt-get install g++-$(echo "$t" | sed 's/_/-/g'); scripts/setup.sh does)" >&2; exit 1; }
		strip=$t-strip
		set -- CC="$t-gcc" CXX="$t-g++" LINK="$t-g++" AR="$t-ar"
	fi
	echo "prebuilds: linux-$arch" >&2
	# The library's addon, then the CLI's, each from its own binding.gyp.
	(cd "$stage" && env "$@" "$PREBUILDIFY" --napi --strip --strip-bin "$strip" --tag-libc \
		--target "$TARGET" --arch "$arch" --name kgwttm --out "$ROOT" --quiet)
	(cd "$stage/src/cli" && env "$@" "$PREBUILDIFY" --napi --strip --strip-bin "$strip" --tag-libc \
		--target "$TARGET" --arch "$arch" --name kgwttm_cli --out "$ROOT/src/cli" --quiet)
done
find prebuilds src/cli/prebuilds -name '*.node' | sort
