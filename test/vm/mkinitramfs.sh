#!/bin/sh
# SPDX-License-Identifier: MIT
# Builds the VM's initramfs: busybox, the kernel modules that reach the host's
# root over virtio-9p (virtio_pci, 9pnet_virtio, 9p, overlay and their
# dependencies, in the order modules.dep gives; those the kernel has built in
# are left out), and test/vm/guest-init.sh as /init.
#
# usage: mkinitramfs.sh MODROOT KVER OUT
set -eu
MODROOT=$1 KVER=$2 OUT=$3
HERE=$(cd "$(dirname "$0")" && pwd)
MODDIR=$MODROOT/lib/modules/$KVER
WANT="virtio_pci 9pnet_virtio 9p overlay"

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$STAGE/bin" "$STAGE/proc" "$STAGE/sys" "$STAGE/dev" "$STAGE/mnt" \
	"$STAGE/lib/modules/$KVER"
cp /bin/busybox "$STAGE/bin/busybox"
for applet in poweroff sh mount mkdir modprobe insmod switch_root echo cat sleep; do
	ln -s busybox "$STAGE/bin/$applet"
done

# What the kernel has built in (6.12: virtio_pci) needs no loading; the rest,
# in /modules, is what guest-init.sh loads.
LOAD=
for m in $WANT; do
	grep -Eq "/$m\.ko$" "$MODDIR/modules.builtin" 2>/dev/null || LOAD="$LOAD $m"
done
echo $LOAD > "$STAGE/modules"

# The dependency closure of what we want, taken from the text modules.dep.
closure() {
	for m in "$@"; do
		line=$(grep -E "/$m\.ko(\.[a-z]+)?:" "$MODDIR/modules.dep") || {
			echo "mkinitramfs: $m not in modules.dep" >&2; exit 1; }
		echo "${line%%:*}"
		for dep in ${line#*:}; do echo "$dep"; done
	done | sort -u
}
# Compressed modules (6.12's .ko.xz) go in uncompressed: busybox insmod reads
# plain .ko files only; modules.dep then names them so.
: > "$STAGE/lib/modules/$KVER/modules.dep"
for rel in $(closure $LOAD); do
	mkdir -p "$STAGE/lib/modules/$KVER/$(dirname "$rel")"
	case $rel in
	*.ko.xz) xz -dc "$MODDIR/$rel" > "$STAGE/lib/modules/$KVER/${rel%.xz}" ;;
	*.ko.zst) zstd -qdc "$MODDIR/$rel" > "$STAGE/lib/modules/$KVER/${rel%.zst}" ;;
	*.ko.gz) gzip -dc "$MODDIR/$rel" > "$STAGE/lib/modules/$KVER/${rel%.gz}" ;;
	*) cp "$MODDIR/$rel" "$STAGE/lib/modules/$KVER/$rel" ;;
	esac
	grep -E "^$rel:" "$MODDIR/modules.dep" | sed -E 's/\.ko\.(xz|zst|gz)\b/.ko/g' >> "$STAGE/lib/modules/$KVER/modules.dep"
done

cp "$HERE/guest-init.sh" "$STAGE/init"
chmod +x "$STAGE/init"
(cd "$STAGE" && find . | cpio -o -H newc --quiet | gzip -1) > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
