#!/bin/sh
# SPDX-License-Identifier: MIT
# PID 1 in the VM's overlay root (the host's Debian userland). Sets up the
# system the tests expect, runs /kgwttm-vm/cmd with stdout on ttyS1 and stderr
# on ttyS2, saves the kernel log and the exit code into /kgwttm-vm, powers off.
RUN=/kgwttm-vm
. "$RUN/env"

# busybox is one static file: much faster to start over 9p than mount(8).
mount() { busybox mount "$@"; }
mount -t proc proc /proc
# Marks in the kernel log time the stages (see .cache/vm/last-dmesg.log).
mark() { echo "stage2: $*" > /dev/kmsg; }
mark start
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
# /tmp stays the host's (through the overlay, so writes stay in the guest):
# a checkout under /tmp must be visible to the command.
mount -t tmpfs tmpfs /run
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t bpf bpf /sys/fs/bpf
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null

# The guest kernel's own module tree, unpacked on the host by provision.sh.
mkdir -p "/lib/modules/$KVER"
mount --bind "$MODROOT/lib/modules/$KVER" "/lib/modules/$KVER"

mark mounts
hostname kgwttm-vm
ip link set lo up
for tty in /dev/ttyS1 /dev/ttyS2; do stty -F "$tty" raw -echo 2>/dev/null; done

# Through pipes, not the ttys themselves: programs must not think they print
# to a terminal (no colours, no progress bars in test output).
mkfifo /run/out /run/err
cat /run/out > /dev/ttyS1 &
outpid=$!
cat /run/err > /dev/ttyS2 &
errpid=$!
mark cmd
(cd / && exec sh "$RUN/cmd" > /run/out 2> /run/err < /dev/null)
code=$?
wait $outpid $errpid

mark done; dmesg > "$RUN/dmesg.log" 2>&1
echo "$code" > "$RUN/exit"
sync
# busybox calls reboot(2) itself: no init system to ask.
exec busybox poweroff -f
