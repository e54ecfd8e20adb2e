#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs what the VM test bed and the module build need, and unpacks the
# kernels of the test matrix into a cache folder (never into /boot or /usr/src:
# the host's own kernel and apt configuration stay untouched). Idempotent: a
# second run only checks.
#
# The matrix: Debian's three kernel lines that come with headers.
#   5.10  bullseye (+ bullseye-security)   fetched through a private apt state
#   6.1   bookworm, the host's own suite   headers installed by apt, as on a host
#   6.12  bookworm-backports               fetched through a private apt state
#
# Output, in $KGWTTM_VM_CACHE (.cache/vm):
#   kernels                   the matrix, one kernel release per line (5.10, 6.1, 6.12)
#   kernel-KVER/kernel.env    KVER, LINE, VMLINUZ, MODROOT, KERNELDIR, CHECKPATCH
#   kernel.env                the same for the default kernel (6.1): what tools
#                             that use one kernel boot and build for
set -eu

CACHE=${KGWTTM_VM_CACHE:-$(cd "$(dirname "$0")/../.." && pwd)/.cache/vm}
mkdir -p "$CACHE"
# One provisioning at a time: test/vm/run calls this before every boot, and
# several runs may start at once.
exec 9> "$CACHE/.provision.lock"
flock 9

# g++-aarch64-linux-gnu and qemu-user: the linux-arm64 prebuild and its test
# (scripts/prebuilds.sh, scripts/provision-arm64.sh).
PKGS="qemu-system-x86 busybox-static linux-headers-amd64 kmod cpio iproute2 tcpdump
      sparse rpm clang libclang-rt-14-dev llvm libbpf-dev bpftool python3 make gcc
      xz-utils zstd nginx libnginx-mod-stream libpcre2-dev zlib1g-dev libssl-dev
      dpkg-dev strace dwarves g++-aarch64-linux-gnu qemu-user rpmlint openssl"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "provision: installing$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	if [ ! -f "$CACHE/.apt-updated" ]; then
		apt-get update -qq
		touch "$CACHE/.apt-updated"
	fi
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# The kernels of the matrix: LINE, then the Debian suites that serve it
# ("host": the host's own apt, whose linux-headers-amd64 is installed above).
MATRIX="5.10:bullseye,bullseye-security 6.1:host 6.12:bookworm-backports"
DEFAULT_LINE=6.1

# apt through a private state folder, $APTDIR (empty: the host's apt): its own
# sources list, package lists and cache, and an empty dpkg status so that what
# the host has installed never becomes the candidate.
APTDIR=
kapt() {
	tool=$1
	shift
	if [ -z "$APTDIR" ]; then
		"$tool" "$@"
		return
	fi
	"$tool" -o Dir::Etc::sourcelist="$APTDIR/sources.list" -o Dir::Etc::sourceparts=/nonexistent \
		-o Dir::State::Lists="$APTDIR/lists" -o Dir::State::status="$APTDIR/status" \
		-o Dir::Cache="$APTDIR/cache" -o APT::Sandbox::User=root "$@"
}

# The host's archive addresses, from its own apt sources: where the suite of
# the host (e.g. bookworm) and its -security suite come from.
archive_uri() {
	apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 'Created-By: Packages' 2>/dev/null |
		awk -v suite="$1" '$2 == suite { print $1; exit }'
}
HOST_SUITE=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")

# Points APTDIR at the private state of LINE, serving SUITES (comma-separated);
# reads the package lists the first time.
private_apt() {
	APTDIR=$CACHE/apt-$1
	mkdir -p "$APTDIR/lists/partial" "$APTDIR/cache/archives/partial"
	[ -f "$APTDIR/status" ] || : > "$APTDIR/status"
	main=$(archive_uri "$HOST_SUITE")
	security=$(archive_uri "$HOST_SUITE-security")
	[ -n "$main" ] || { echo "provision: the host's apt sources name no $HOST_SUITE suite to take the archive's address from" >&2; exit 1; }
	for suite in $(echo "$2" | tr , ' '); do
		case $suite in
		*-security) uri=$security ;;
		*) uri=$main ;;
		esac
		[ -n "$uri" ] || continue
		echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $suite main"
	done > "$APTDIR/sources.list.$$"
	if ! cmp -s "$APTDIR/sources.list.$$" "$APTDIR/sources.list" 2>/dev/null; then
		mv "$APTDIR/sources.list.$$" "$APTDIR/sources.list"
		rm -f "$APTDIR/.updated"
	else
		rm -f "$APTDIR/sources.list.$$"
	fi
	[ -f "$APTDIR/.updated" ] || refresh_lists
}
refresh_lists() {
	echo "provision: reading the package lists of $(sed 's/.*] [^ ]* \([^ ]*\) main$/\1/' "$APTDIR/sources.list" | tr '\n' ' ')" >&2
	kapt apt-get -qq update && touch "$APTDIR/.updated"
}

# The kernel release that linux-headers-amd64 points at.
current_kver() {
	kapt apt-cache depends linux-headers-amd64 2>/dev/null |
		sed -n 's/.*Depends: linux-headers-\(.*\)$/\1/p' | head -n 1
}

# Downloads packages into the current folder.
download() {
	kapt apt-get -qq download "$@" >/dev/null
}

# The kernel image (and, through a private apt, its headers with their -common
# tree and kbuild tools) unpacked into $CACHE/kernel-KVER/root.
unpack_kernel() {
	line=$1 kver=$2 kdir=$CACHE/kernel-$2
	[ -f "$kdir/.done" ] && return 0
	echo "provision: unpacking Linux $kver ($line) into $kdir" >&2
	rm -rf "$kdir" && mkdir -p "$kdir/deb"
	pkgs="linux-image-$kver"
	if [ -n "$APTDIR" ]; then
		pkgs="$pkgs linux-headers-$kver $(kapt apt-cache depends "linux-headers-$kver" |
			sed -n 's/^ *|\{0,1\}Depends: \(linux-headers-[^ ]*-common\|linux-kbuild-[^ ]*\)$/\1/p' | sort -u | tr '\n' ' ')"
	fi
	# shellcheck disable=SC2086
	(cd "$kdir/deb" && download $pkgs) || return 1
	for deb in "$kdir"/deb/*.deb; do dpkg -x "$deb" "$kdir/root" || return 1; done
	depmod -b "$kdir/root" "$kver" || return 1
	rm -rf "$kdir/deb"
	if [ -n "$APTDIR" ]; then
		hdr=$kdir/root/usr/src/linux-headers-$kver
		[ -f "$hdr/Makefile" ] || { echo "provision: no headers in $hdr" >&2; return 1; }
		# The -amd64 tree includes the -common one by absolute path (/usr/src/...):
		# point it at the copy unpacked beside it. scripts/ and tools/ are
		# relative links into usr/lib/linux-kbuild-*, unpacked beside it too.
		sed -i "s|^include /usr/src/|include $kdir/root/usr/src/|" "$hdr/Makefile" || return 1
		# 5.10's headers name gcc-10, which Debian 12 does not have; its gcc
		# (12) builds modules for 5.10 without complaint.
		cc=$(sed -n 's/^CC = .*[) ]\(gcc-[0-9]*\)$/\1/p' "$hdr/.kernelvariables" 2>/dev/null)
		if [ -n "$cc" ] && ! command -v "$cc" >/dev/null; then
			echo "provision: $kver's headers build with $cc, not installed here: using gcc ($(gcc -dumpversion))" >&2
			sed -i "s/^\(CC = .*[) ]\)$cc\$/\1gcc/" "$hdr/.kernelvariables"
		fi
	fi
	touch "$kdir/.done"
}

# checkpatch.pl for `make -C kmod style`: Debian's headers do not ship it, so
# take it (and the two data files it reads) from the matching linux-source.
unpack_checkpatch() {
	line=$1 dir=$CACHE/checkpatch-$1
	[ -f "$dir/.done" ] && return 0
	echo "provision: extracting checkpatch.pl from linux-source-$line" >&2
	rm -rf "$dir" && mkdir -p "$dir/deb"
	(cd "$dir/deb" && download "linux-source-$line") || return 1
	dpkg-deb --fsys-tarfile "$dir"/deb/*.deb |
		tar -xO "./usr/src/linux-source-$line.tar.xz" |
		tar -xJ -C "$dir" --strip-components=1 \
			"linux-source-$line/scripts/checkpatch.pl" \
			"linux-source-$line/scripts/spelling.txt" \
			"linux-source-$line/scripts/const_structs.checkpatch" || return 1
	rm -rf "$dir/deb"
	touch "$dir/.done"
}

: > "$CACHE/kernels.$$"
for entry in $MATRIX; do
	line=${entry%%:*} suites=${entry#*:}
	if [ "$suites" = host ]; then APTDIR=; else private_apt "$line" "$suites"; fi
	kver=$(current_kver)
	[ -n "$kver" ] || { echo "provision: cannot tell the $line kernel's release" >&2; exit 1; }
	# An archive that has moved on serves the packages of lists read earlier
	# no more: read them again, once.
	if ! { unpack_kernel "$line" "$kver" && unpack_checkpatch "$line"; }; then
		[ -n "$APTDIR" ] || { echo "provision: cannot fetch Linux $kver" >&2; exit 1; }
		refresh_lists
		kver=$(current_kver)
		unpack_kernel "$line" "$kver" && unpack_checkpatch "$line" ||
			{ echo "provision: cannot fetch Linux $kver ($line)" >&2; exit 1; }
	fi
	case $suites in
	host) kerneldir=/usr/src/linux-headers-$kver ;;
	*) kerneldir=$CACHE/kernel-$kver/root/usr/src/linux-headers-$kver ;;
	esac
	[ -f "$kerneldir/Makefile" ] || { echo "provision: headers for $kver missing ($kerneldir)" >&2; exit 1; }
	cat > "$CACHE/kernel-$kver/kernel.env.$$" <<ENV
KVER=$kver
LINE=$line
VMLINUZ=$CACHE/kernel-$kver/root/boot/vmlinuz-$kver
MODROOT=$CACHE/kernel-$kver/root
KERNELDIR=$kerneldir
CHECKPATCH=$CACHE/checkpatch-$line/scripts/checkpatch.pl
ENV
	mv "$CACHE/kernel-$kver/kernel.env.$$" "$CACHE/kernel-$kver/kernel.env"
	echo "$kver" >> "$CACHE/kernels.$$"
	[ "$line" != "$DEFAULT_LINE" ] || cp "$CACHE/kernel-$kver/kernel.env" "$CACHE/kernel.env.$$"
done
mv "$CACHE/kernels.$$" "$CACHE/kernels"
mv "$CACHE/kernel.env.$$" "$CACHE/kernel.env"
echo "provision: kernels $(tr '\n' ' ' < "$CACHE/kernels")ready (default $(sed -n 's/^KVER=//p' "$CACHE/kernel.env"))" >&2
