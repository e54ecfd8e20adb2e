#!/bin/sh
# SPDX-License-Identifier: MIT
# PID 1 of the VM's initramfs (busybox). Mounts the host's root read-only over
# virtio-9p under a tmpfs overlay, mounts the run folder (read-write, where the
# command file is and results go), and hands over to test/vm/guest-stage2.sh in
# the new root. Everything the test needs runs from the host's own binaries.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev

fail() {
	echo "guest-init: $*" > /dev/ttyS0
	exec poweroff -f
}

# The modules mkinitramfs.sh put in (the ones this kernel has not built in).
for m in $(cat /modules); do
	modprobe "$m" || fail "modprobe $m"
done

mkdir -p /mnt/lower /mnt/rw /mnt/root
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 \
	hostroot /mnt/lower || fail "mount hostroot"
mount -t tmpfs -o size=75% tmpfs /mnt/rw || fail "mount tmpfs"
mkdir -p /mnt/rw/upper /mnt/rw/work
mount -t overlay overlay \
	-o lowerdir=/mnt/lower,upperdir=/mnt/rw/upper,workdir=/mnt/rw/work \
	/mnt/root || fail "mount overlay"
mkdir -p /mnt/root/kgwttm-vm
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 \
	run /mnt/root/kgwttm-vm || fail "mount run folder"

STAGE2=$(cat /mnt/root/kgwttm-vm/stage2)
exec switch_root /mnt/root /bin/sh "$STAGE2"
