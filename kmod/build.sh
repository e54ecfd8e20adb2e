#!/bin/sh
# Builds the kgwttm RPMs, as cloud vendors ship the module:
#   kmod-kgwttm-<version>-1.<arch>.rpm  the module built for ONE kernel, with its
#                                        modprobe.d / modules-load.d files
#   kgwttm-dkms-<version>-1.noarch.rpm  the sources for DKMS, rebuilt on kernel upgrades
#
# usage: kmod/build.sh [--kernel KVER] [--kerneldir DIR] [--out DIR]
#
# Design note. The version comes from kmod/VERSION only (Kbuild reads the same
# file); the spec takes it, the kernel and the headers as macros, so rpmbuild
# can also be run by hand. rpmbuild runs unprivileged in a private _topdir under
# the output folder (default kmod/dist/, gitignored): nothing goes to
# ~/rpmbuild or /var/tmp, and the build needs no root and no rpm database.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$HERE/dist
KVER= KERNELDIR=

usage() {
	sed -n '7p' "$0" | sed 's/^# //' >&2
	exit 2
}
die() { echo "build.sh: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
	case $1 in
	--kernel) [ $# -ge 2 ] || usage; KVER=$2; shift 2 ;;
	--kerneldir) [ $# -ge 2 ] || usage; KERNELDIR=$2; shift 2 ;;
	--out) [ $# -ge 2 ] || usage; OUT=$2; shift 2 ;;
	-h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) usage ;;
	esac
done

command -v rpmbuild >/dev/null || die "rpmbuild not found (RHEL/CentOS: yum install rpm-build; Debian/Ubuntu: apt-get install rpm)"
VERSION=$(tr -d ' \t\n' < "$HERE/VERSION")
[ -n "$VERSION" ] || die "kmod/VERSION is empty"

# The kernel release a headers tree was configured for: what vermagic will say.
headers_release() {
	sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' "$1/include/generated/utsrelease.h" 2>/dev/null
}

if [ -z "$KERNELDIR" ] && [ -n "$KVER" ]; then
	for d in "/lib/modules/$KVER/build" "/usr/src/kernels/$KVER" "/usr/src/linux-headers-$KVER"; do
		[ -f "$d/Makefile" ] && { KERNELDIR=$d; break; }
	done
	[ -n "$KERNELDIR" ] || die "no headers for $KVER (tried /lib/modules/$KVER/build, /usr/src/kernels/$KVER, /usr/src/linux-headers-$KVER); pass --kerneldir"
elif [ -z "$KERNELDIR" ]; then
	# The running kernel's headers, else the newest headers installed.
	if [ -f "/lib/modules/$(uname -r)/build/Makefile" ]; then
		KERNELDIR=/lib/modules/$(uname -r)/build
	else
		KERNELDIR=$(for d in /lib/modules/*/build /usr/src/kernels/*; do
			[ -f "$d/include/generated/utsrelease.h" ] && echo "$d"
		done | sort -V | tail -n 1)
		[ -n "$KERNELDIR" ] || die "no kernel headers found (install kernel-devel-\$(uname -r) or linux-headers-\$(uname -r)), or pass --kerneldir"
		echo "build.sh: no headers for the running kernel $(uname -r); using $KERNELDIR" >&2
	fi
fi
[ -f "$KERNELDIR/Makefile" ] || die "$KERNELDIR is not a kernel headers tree (no Makefile)"
KERNELDIR=$(cd "$KERNELDIR" && pwd -P)
found=$(headers_release "$KERNELDIR")
[ -n "$found" ] || die "$KERNELDIR has no include/generated/utsrelease.h: not a prepared headers tree"
[ -z "$KVER" ] || [ "$KVER" = "$found" ] || die "--kernel $KVER but $KERNELDIR is for $found"
KVER=$found

# The module's sources, as DKMS and the kmod build both get them: what
# `make dkms-install` puts in /usr/src/kgwttm-<version> (its file list, and
# dkms.conf with the version filled in), staged here and tarred.
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
TOP=$OUT/rpmbuild
rm -rf "$TOP"
mkdir -p "$TOP/SOURCES" "$TOP/SPECS" "$TOP/BUILD" "$TOP/RPMS" "$TOP/SRPMS" "$TOP/tmp"
make -s -C "$HERE" dkms-install DESTDIR="$TOP/tmp/stage" >&2
[ -f "$TOP/tmp/stage/usr/src/kgwttm-$VERSION/dkms.conf" ] || die "make dkms-install did not stage /usr/src/kgwttm-$VERSION/dkms.conf"
tar -C "$TOP/tmp/stage/usr/src" -czf "$TOP/SOURCES/kgwttm-$VERSION.tar.gz" "kgwttm-$VERSION"
cp "$HERE/kgwttm.spec" "$TOP/SPECS/"

# BuildRequires name RPM packages: a host whose packages are not RPMs (Debian's
# rpm) has an empty database, so there they cannot be checked.
NODEPS=
rpm -q rpm >/dev/null 2>&1 || NODEPS=--nodeps

echo "build.sh: kgwttm $VERSION for kernel $KVER ($KERNELDIR)" >&2
# Kbuild must not see the distribution's userspace CFLAGS/LDFLAGS.
env -u CFLAGS -u CXXFLAGS -u LDFLAGS rpmbuild -bb $NODEPS \
	--define "_topdir $TOP" \
	--define "_tmppath $TOP/tmp" \
	--define "kgwttm_version $VERSION" \
	--define "kver $KVER" \
	--define "kerneldir $KERNELDIR" \
	"$TOP/SPECS/kgwttm.spec" > "$TOP/rpmbuild.log" 2>&1 || {
	tail -n 40 "$TOP/rpmbuild.log" >&2
	die "rpmbuild failed (whole log: $TOP/rpmbuild.log)"
}

rm -f "$OUT"/kmod-kgwttm-*.rpm "$OUT"/kgwttm-dkms-*.rpm
for rpm in "$TOP"/RPMS/*/kmod-kgwttm-"$VERSION"-*.rpm "$TOP"/RPMS/noarch/kgwttm-dkms-"$VERSION"-*.rpm; do
	[ -f "$rpm" ] || die "rpmbuild made no $rpm"
	cp "$rpm" "$OUT/"
	echo "$OUT/${rpm##*/}"
done
