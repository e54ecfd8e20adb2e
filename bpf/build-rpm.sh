#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Builds the kgwttm-bpf RPM, the BPF backend for hosts that cannot load
# kgwttm.ko:
#   kgwttm-bpf-<version>-1.<arch>.rpm  /usr/sbin/kgwttm-bpf (the loader, the
#                                 programs embedded), kgwttm-bpf.service and
#                                 its settings, /etc/sysconfig/kgwttm-bpf
#
# usage: bpf/build-rpm.sh [--out DIR]
#   --out DIR   where the RPM goes (default bpf/dist/, gitignored)
#
# Design note. As kmod/build.sh: the version comes from kmod/VERSION only, the
# spec takes it as a macro, and rpmbuild runs unprivileged in a private
# _topdir under the output folder (nothing in ~/rpmbuild or /var/tmp, no root,
# no rpm database). The spec builds from a tarball of the sources, never from
# bpf/build/, which test guests may be running while this builds.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(dirname "$HERE")
OUT=$HERE/dist

usage() {
	sed -n '9p' "$0" | sed 's/^# //' >&2
	exit 2
}
die() { echo "build-rpm.sh: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
	case $1 in
	--out) [ $# -ge 2 ] || usage; OUT=$2; shift 2 ;;
	-h|--help) sed -n '3,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) usage ;;
	esac
done

command -v rpmbuild >/dev/null || die "rpmbuild not found (RHEL/CentOS: yum install rpm-build; Debian/Ubuntu: apt-get install rpm)"
VERSION=$(tr -d ' \t\n' < "$SRC/kmod/VERSION")
[ -n "$VERSION" ] || die "kmod/VERSION is empty"

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
TOP=$OUT/rpmbuild
rm -rf "$TOP"
mkdir -p "$TOP/SOURCES" "$TOP/SPECS" "$TOP/BUILD" "$TOP/RPMS" "$TOP/SRPMS" "$TOP/tmp" "$TOP/stage"

# What make -C bpf reads, in the checkout's layout (bpf/Makefile names
# ../kmod/...); not bpf/build/, bpf/tests/ or bpf/dist/.
NAME=kgwttm-bpf-$VERSION
STAGE=$TOP/stage/$NAME
mkdir -p "$STAGE/bpf/shim/sys" "$STAGE/bpf/systemd" "$STAGE/kmod/uapi"
cp "$HERE/Makefile" "$HERE"/*.c "$HERE"/*.h "$STAGE/bpf/"
cp "$HERE/shim/string.h" "$STAGE/bpf/shim/"
cp "$HERE/shim/sys/socket.h" "$STAGE/bpf/shim/sys/"
cp "$HERE/systemd/kgwttm-bpf.service" "$HERE/systemd/kgwttm-bpf.sysconfig" "$STAGE/bpf/systemd/"
cp "$SRC/kmod/VERSION" "$SRC/kmod/toa_parse.c" "$SRC/kmod/toa_parse.h" "$STAGE/kmod/"
cp "$SRC/kmod/uapi/kgwttm.h" "$STAGE/kmod/uapi/"
tar -C "$TOP/stage" -czf "$TOP/SOURCES/$NAME.tar.gz" "$NAME"
cp "$HERE/kgwttm-bpf.spec" "$TOP/SPECS/"

# BuildRequires name RPM packages: a host whose packages are not RPMs (Debian's
# rpm) has an empty database, so there they cannot be checked.
NODEPS=
rpm -q rpm >/dev/null 2>&1 || NODEPS=--nodeps

echo "build-rpm.sh: kgwttm-bpf $VERSION" >&2
rpmbuild -bb $NODEPS \
	--define "_topdir $TOP" \
	--define "_tmppath $TOP/tmp" \
	--define "kgwttm_version $VERSION" \
	"$TOP/SPECS/kgwttm-bpf.spec" > "$TOP/rpmbuild.log" 2>&1 || {
	tail -n 40 "$TOP/rpmbuild.log" >&2
	die "rpmbuild failed (whole log: $TOP/rpmbuild.log)"
}
rpm=$(ls "$TOP"/RPMS/*/kgwttm-bpf-"$VERSION"-1.*.rpm 2>/dev/null) || die "rpmbuild made no kgwttm-bpf"
rm -f "$OUT"/kgwttm-bpf-*.rpm
cp "$rpm" "$OUT/"
echo "$OUT/${rpm##*/}"
