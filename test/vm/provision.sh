#!/bin/sh
# Installs what the VM test bed and the module build need, and unpacks Debian's
# current kernel image into a cache folder (never into /boot: the host's own kernel
# stays untouched). Idempotent: a second run only checks.
#
# Output: $KGWTTM_VM_CACHE/kernel.env, which names KVER, VMLINUZ, MODROOT.
set -eu

CACHE=${KGWTTM_VM_CACHE:-$(cd "$(dirname "$0")/../.." && pwd)/.cache/vm}
mkdir -p "$CACHE"

PKGS="qemu-system-x86 busybox-static linux-headers-amd64 kmod cpio iproute2 tcpdump
      sparse rpm clang libclang-rt-14-dev llvm libbpf-dev bpftool python3 make gcc
      xz-utils zstd nginx libnginx-mod-stream libpcre2-dev zlib1g-dev libssl-dev
      dpkg-dev strace"

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

# The kernel ABI the headers package points at is the one we boot.
KVER=$(apt-cache depends linux-headers-amd64 | sed -n 's/.*Depends: linux-headers-\(.*\)$/\1/p' | head -1)
[ -n "$KVER" ] || { echo "provision: cannot tell the kernel version" >&2; exit 1; }
[ -d "/lib/modules/$KVER/build" ] || [ -d "/usr/src/linux-headers-$KVER" ] || {
	echo "provision: headers for $KVER missing" >&2; exit 1; }

KDIR="$CACHE/kernel-$KVER"
if [ ! -f "$KDIR/.done" ]; then
	echo "provision: unpacking linux-image-$KVER into $KDIR" >&2
	rm -rf "$KDIR" && mkdir -p "$KDIR/deb"
	(cd "$KDIR/deb" && apt-get download -qq "linux-image-$KVER")
	dpkg -x "$KDIR"/deb/*.deb "$KDIR/root"
	depmod -b "$KDIR/root" "$KVER"
	rm -rf "$KDIR/deb"
	touch "$KDIR/.done"
fi

# checkpatch.pl for `make -C kmod style`: Debian's headers do not ship it, so
# take it (and the two data files it reads) from the matching linux-source.
SRCVER=$(echo "$KVER" | sed 's/^\([0-9]*\.[0-9]*\).*/\1/')
CHECKPATCH_DIR=$CACHE/checkpatch-$SRCVER
if [ ! -f "$CHECKPATCH_DIR/.done" ]; then
	echo "provision: extracting checkpatch.pl from linux-source-$SRCVER" >&2
	rm -rf "$CHECKPATCH_DIR" && mkdir -p "$CHECKPATCH_DIR/deb"
	(cd "$CHECKPATCH_DIR/deb" && apt-get download -qq "linux-source-$SRCVER" 2>/dev/null)
	dpkg-deb --fsys-tarfile "$CHECKPATCH_DIR"/deb/*.deb |
		tar -xO "./usr/src/linux-source-$SRCVER.tar.xz" |
		tar -xJ -C "$CHECKPATCH_DIR" --strip-components=1 \
			"linux-source-$SRCVER/scripts/checkpatch.pl" \
			"linux-source-$SRCVER/scripts/spelling.txt" \
			"linux-source-$SRCVER/scripts/const_structs.checkpatch"
	rm -rf "$CHECKPATCH_DIR/deb"
	touch "$CHECKPATCH_DIR/.done"
fi

cat > "$CACHE/kernel.env" <<ENV
KVER=$KVER
VMLINUZ=$KDIR/root/boot/vmlinuz-$KVER
MODROOT=$KDIR/root
KERNELDIR=/usr/src/linux-headers-$KVER
CHECKPATCH=$CHECKPATCH_DIR/scripts/checkpatch.pl
ENV
echo "provision: kernel $KVER ready" >&2
