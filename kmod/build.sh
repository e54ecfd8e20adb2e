#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Builds the kgwttm RPMs, as cloud vendors ship the module:
#   kmod-kgwttm-<version>-1.<kernel>.<arch>.rpm  the module built for ONE kernel,
#                                 one package per kernel asked for
#   kgwttm-kmod-common-<version>-1.noarch.rpm  its /etc/modprobe.d and
#                                 /etc/modules-load.d files, which kmod-kgwttm
#                                 and kgwttm-dkms both require
#   kgwttm-dkms-<version>-1.noarch.rpm  the sources for DKMS, rebuilt on kernel upgrades
#   kgwttm-kmod-<version>-1.src.rpm  the source package (rpmbuild --rebuild
#                                 --define 'kver KVER' builds for another kernel)
#
# usage: kmod/build.sh [--kernel KVER]... [--kerneldir DIR]... [--all [--search GLOB]...] [--sign KEY.priv CERT.der] [--out DIR]
#   --kernel KVER    a kernel release whose headers are installed (repeatable)
#   --kerneldir DIR  a kernel headers tree (repeatable)
#   --all            every installed headers tree: /lib/modules/*/build,
#                    /usr/src/kernels/* (RHEL), /usr/src/linux-headers-* (Debian);
#                    --search GLOB (repeatable) looks there instead
#   --sign KEY CERT  sign each module (Secure Boot) with the kernel's
#                    scripts/sign-file, the private key KEY and its X.509
#                    certificate CERT (DER), the one enrolled with mokutil --import
#   nothing          the running kernel's headers, else the newest installed
#
# Naming, kmodtool's convention: the package name stays kmod-kgwttm (what
# operators install and what kgwttm-dkms conflicts with) and the kernel goes
# into the Release, its '-' as '_' and a trailing .<arch> dropped:
#   kmod-kgwttm-0.1.0-1.5.10.0_46_amd64.x86_64.rpm          (Debian 5.10.0-46-amd64)
#   kmod-kgwttm-0.1.0-1.4.18.0_513.5.1.el8_9.x86_64.rpm     (RHEL 4.18.0-513.5.1.el8_9.x86_64)
# so builds for several kernels sit in one repository. They install side by
# side with rpm -i, or dnf/yum (installonlypkg(kernel-module)); rpm -U would
# take the newest release as an upgrade of the others. The noarch packages and
# the source package carry %{?dist} in their Release (1.el9 on RHEL 9).
#
# Design note. The version comes from kmod/VERSION: the spec's default is
# replaced by it in the copy rpmbuild reads (the one the source package holds),
# so rpmbuild can also be run by hand on the spec or the .src.rpm. rpmbuild
# runs unprivileged in a private _topdir under the output folder (default
# kmod/dist/, gitignored): nothing goes to ~/rpmbuild or /var/tmp, and the
# build needs no root and no rpm database. Each kernel is one rpmbuild; the
# packages they all make the same (noarch and source) are kept once.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$HERE/dist
ALL=no
DIRS=
SEARCH=
SIGN_KEY=
SIGN_CERT=

usage() {
	sed -n '/^# usage:/p' "$0" | sed 's/^# //' >&2
	exit 2
}
die() { echo "build.sh: $*" >&2; exit 1; }

# The kernel release a headers tree was configured for: what vermagic will say.
headers_release() {
	sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' "$1/include/generated/utsrelease.h" 2>/dev/null
}

headers_of() {
	for d in "/lib/modules/$1/build" "/usr/src/kernels/$1" "/usr/src/linux-headers-$1"; do
		[ -f "$d/Makefile" ] && { echo "$d"; return 0; }
	done
	die "no headers for $1 (tried /lib/modules/$1/build, /usr/src/kernels/$1, /usr/src/linux-headers-$1); pass --kerneldir"
}

# Newline-separated: a folder may hold spaces, not newlines.
add_dir() {
	DIRS="$DIRS$1
"
}

while [ $# -gt 0 ]; do
	case $1 in
	--kernel) [ $# -ge 2 ] || usage; d=$(headers_of "$2") || exit 1; add_dir "$d"; shift 2 ;;
	--kerneldir) [ $# -ge 2 ] || usage; add_dir "$2"; shift 2 ;;
	--all) ALL=yes; shift ;;
	--search) [ $# -ge 2 ] || usage; SEARCH="$SEARCH $2"; shift 2 ;;
	--sign) [ $# -ge 3 ] || usage; SIGN_KEY=$2; SIGN_CERT=$3; shift 3 ;;
	--out) [ $# -ge 2 ] || usage; OUT=$2; shift 2 ;;
	-h|--help) sed -n '3,/^# Naming/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) usage ;;
	esac
done
[ -z "$SEARCH" ] || [ "$ALL" = yes ] || die "--search goes with --all"
if [ -n "$SIGN_KEY" ]; then
	# rpmbuild runs in another folder: absolute paths.
	for f in "$SIGN_KEY" "$SIGN_CERT"; do [ -r "$f" ] || die "--sign: cannot read $f"; done
	SIGN_KEY=$(cd "$(dirname "$SIGN_KEY")" && pwd)/$(basename "$SIGN_KEY")
	SIGN_CERT=$(cd "$(dirname "$SIGN_CERT")" && pwd)/$(basename "$SIGN_CERT")
fi

command -v rpmbuild >/dev/null || die "rpmbuild not found (RHEL/CentOS: yum install rpm-build; Debian/Ubuntu: apt-get install rpm)"
VERSION=$(tr -d ' \t\n' < "$HERE/VERSION")
[ -n "$VERSION" ] || die "kmod/VERSION is empty"

if [ "$ALL" = yes ]; then
	# shellcheck disable=SC2086 # the patterns are globs
	for d in ${SEARCH:-/lib/modules/*/build /usr/src/kernels/* /usr/src/linux-headers-*}; do
		# a prepared tree (Debian's -common halves are not)
		[ -f "$d/Makefile" ] && [ -n "$(headers_release "$d")" ] && add_dir "$d"
	done
	[ -n "$DIRS" ] || die "--all: no kernel headers found in ${SEARCH:-/lib/modules/*/build /usr/src/kernels/* /usr/src/linux-headers-*}"
elif [ -z "$DIRS" ]; then
	# The running kernel's headers, else the newest headers installed.
	if [ -f "/lib/modules/$(uname -r)/build/Makefile" ]; then
		add_dir "/lib/modules/$(uname -r)/build"
	else
		newest=$(for d in /lib/modules/*/build /usr/src/kernels/*; do
			[ -f "$d/include/generated/utsrelease.h" ] && echo "$d"
		done | sort -V | tail -n 1)
		[ -n "$newest" ] || die "no kernel headers found (install kernel-devel-\$(uname -r) or linux-headers-\$(uname -r)), or pass --kerneldir"
		echo "build.sh: no headers for the running kernel $(uname -r); using $newest" >&2
		add_dir "$newest"
	fi
fi

# Each tree once, by the kernel it was configured for (/lib/modules/K/build
# is often a link to /usr/src/...): "KVER DIR" lines.
TARGETS=
set -f
IFS_WAS=$IFS IFS='
'
for d in $DIRS; do
	[ -f "$d/Makefile" ] || die "$d is not a kernel headers tree (no Makefile)"
	d=$(cd "$d" && pwd -P)
	kver=$(headers_release "$d")
	[ -n "$kver" ] || die "$d has no include/generated/utsrelease.h: not a prepared headers tree"
	TARGETS="$TARGETS$kver $d
"
done
IFS=$IFS_WAS
set +f
TARGETS=$(printf '%s' "$TARGETS" | sort -u -k1,1)

# The module's sources, as DKMS and the kmod build both get them: what
# `make dkms-install` puts in /usr/src/kgwttm-<version> (its file list, and
# dkms.conf with the version filled in), staged here and tarred.
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
TOP=$OUT/rpmbuild
STAGE=$OUT/rpmbuild-sources
rm -rf "$STAGE"
mkdir -p "$STAGE"
make -s -C "$HERE" dkms-install DESTDIR="$STAGE/stage" >&2
[ -f "$STAGE/stage/usr/src/kgwttm-$VERSION/dkms.conf" ] || die "make dkms-install did not stage /usr/src/kgwttm-$VERSION/dkms.conf"
tar -C "$STAGE/stage/usr/src" -czf "$STAGE/kgwttm-$VERSION.tar.gz" "kgwttm-$VERSION"

# BuildRequires name RPM packages: a host whose packages are not RPMs (Debian's
# rpm) has an empty database, so there they cannot be checked; nor can
# kernel-devel-uname-r for headers given by folder that no package installed.
RPMDB=yes
rpm -q rpm >/dev/null 2>&1 || RPMDB=no
nodeps_for() {
	[ "$RPMDB" = yes ] && rpm -q --whatprovides "kernel-devel-uname-r = $1" >/dev/null 2>&1 || echo --nodeps
}

# Signing needs the kernel's own sign-file (kernel-devel on RHEL,
# linux-kbuild-<version> on Debian, built with the kernel's scripts).
if [ -n "$SIGN_KEY" ]; then
	echo "$TARGETS" | while read -r KVER KERNELDIR; do
		[ -x "$KERNELDIR/scripts/sign-file" ] ||
			die "--sign: no $KERNELDIR/scripts/sign-file (the kernel's headers build it: make -C $KERNELDIR scripts, with libssl-dev or openssl-devel)"
	done
fi

# The spec rpmbuild reads, and the source package holds: its default version is kmod/VERSION.
SPEC=$STAGE/kgwttm-kmod.spec
sed "s/^%{!?kgwttm_version: %global kgwttm_version .*}\$/%{!?kgwttm_version: %global kgwttm_version $VERSION}/" "$HERE/kgwttm-kmod.spec" > "$SPEC"
grep -qx "%{!?kgwttm_version: %global kgwttm_version $VERSION}" "$SPEC" || die "kgwttm-kmod.spec has no default kgwttm_version line to fill in"

rm -f "$OUT"/kgwttm-dkms-*.rpm "$OUT"/kgwttm-kmod-common-*.rpm "$OUT"/kgwttm-kmod-*.src.rpm
echo "$TARGETS" | while read -r KVER KERNELDIR; do
	rm -rf "$TOP"
	mkdir -p "$TOP/SOURCES" "$TOP/SPECS" "$TOP/BUILD" "$TOP/RPMS" "$TOP/SRPMS" "$TOP/tmp"
	cp "$STAGE/kgwttm-$VERSION.tar.gz" "$TOP/SOURCES/"
	cp "$SPEC" "$TOP/SPECS/"
	echo "build.sh: kgwttm $VERSION for kernel $KVER ($KERNELDIR)${SIGN_KEY:+, signed with $SIGN_CERT}" >&2
	# Kbuild must not see the distribution's userspace CFLAGS/LDFLAGS.
	# shellcheck disable=SC2046 # --nodeps or nothing
	env -u CFLAGS -u CXXFLAGS -u LDFLAGS rpmbuild -ba $(nodeps_for "$KVER") \
		--define "_topdir $TOP" \
		--define "_tmppath $TOP/tmp" \
		--define "kver $KVER" \
		--define "kerneldir $KERNELDIR" \
		${SIGN_KEY:+--define "kgwttm_sign_key $SIGN_KEY" --define "kgwttm_sign_cert $SIGN_CERT"} \
		"$TOP/SPECS/kgwttm-kmod.spec" > "$TOP/rpmbuild.log" 2>&1 || {
		tail -n 40 "$TOP/rpmbuild.log" >&2
		die "rpmbuild failed for $KVER (whole log: $TOP/rpmbuild.log)"
	}
	kmod=$(ls "$TOP"/RPMS/*/kmod-kgwttm-"$VERSION"-*.rpm 2>/dev/null) || die "rpmbuild made no kmod-kgwttm for $KVER"
	# This kernel's earlier builds (any version) make way for this one.
	release=$(rpm -qp --qf '%{RELEASE}' "$kmod")
	rm -f "$OUT"/kmod-kgwttm-*."${release#*.}".*.rpm
	cp "$kmod" "$OUT/"
	echo "$OUT/${kmod##*/}"
	# The same from every kernel's build: the first one's.
	for rpm in "$TOP"/RPMS/noarch/kgwttm-kmod-common-"$VERSION"-*.rpm \
		"$TOP"/RPMS/noarch/kgwttm-dkms-"$VERSION"-*.rpm "$TOP"/SRPMS/kgwttm-kmod-"$VERSION"-*.src.rpm; do
		[ -f "$rpm" ] || die "rpmbuild made no $(basename "$rpm")"
		[ -f "$OUT/${rpm##*/}" ] || cp "$rpm" "$OUT/"
	done
done
for name in kgwttm-kmod-common kgwttm-dkms; do
	ls "$OUT/$name-$VERSION"-*.noarch.rpm || exit 1
done
ls "$OUT"/kgwttm-kmod-"$VERSION"-*.src.rpm || exit 1
rm -rf "$STAGE"
