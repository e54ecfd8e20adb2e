#!/bin/sh
# SPDX-License-Identifier: MIT
# The module as the RPM ships it: the .ko taken out of this kernel's kmod-kgwttm
# (one per kernel, built on the host by kmod/build.sh, run by test/build.sh into
# .cache/build/rpm/) with rpm2cpio, loaded into this kernel, answers getsockopt(SOL_IP, 1345) and counts in /proc/net/kgwttm;
# the modprobe.d file kgwttm-kmod-common installs states the module's real defaults, and
# its trusted_nets line, once filled in, is one the module takes.
set -u
cd "$(dirname "$0")/../.."
. test/lib/tap.sh

VERSION=$(cat kmod/VERSION)
WORK=$(mktemp -d)
trap 'rmmod kgwttm 2>/dev/null; rm -rf "$WORK"' EXIT

# This kernel's package: the kmod-kgwttm of this version whose files hold
# /lib/modules/$(uname -r), whatever its name says.
RPM=
RPMS=$PWD/.cache/build/rpm
for rpm in "$RPMS"/kmod-kgwttm-"$VERSION"-*.rpm; do
	[ -f "$rpm" ] && rpm -qlp "$rpm" 2>/dev/null | grep -qx "/lib/modules/$(uname -r)/extra/kgwttm.ko" && RPM=$rpm
done
[ -n "$RPM" ] || bail "no kmod-kgwttm-$VERSION for $(uname -r) in $RPMS (test/build.sh builds it)"
echo "# $RPM"
[ ! -d /sys/module/kgwttm ] || bail "kgwttm is already loaded: a previous suite did not unload it"
ip link set lo up 2>/dev/null

# errno name of getsockopt(SOL_IP, 1345) on the accepted side of a loopback connection
probe() {
	/usr/bin/python3 -c '
import errno, socket
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(1)
cli = socket.create_connection(srv.getsockname()); conn, _ = srv.accept()
try:
    conn.getsockopt(socket.SOL_IP, 1345, 20); print("answered")
except OSError as e:
    print(errno.errorcode[e.errno])
'
}

# Its /etc files come in kgwttm-kmod-common, which kmod-kgwttm requires.
COMMON=$(ls "$RPMS"/kgwttm-kmod-common-"$VERSION"-*.noarch.rpm 2>/dev/null | head -n 1)
[ -n "$COMMON" ] || bail "no kgwttm-kmod-common-$VERSION in $RPMS (test/build.sh builds it)"

before=$(probe)
(cd "$WORK" && rpm2cpio "$RPM" | cpio -id --quiet && rpm2cpio "$COMMON" | cpio -id --quiet)
KO=$WORK/lib/modules/$(uname -r)/extra/kgwttm.ko

ko_is_for_this_kernel() {
	[ -f "$KO" ] || { echo "no $KO in the RPM:"; ls -R "$WORK"; return 1; }
	modinfo -F vermagic "$KO" | grep -q "^$(uname -r) "
}

insmod_loads_it() {
	insmod "$KO" && grep -qw kgwttm /proc/modules
}

proc_counters() {
	cat /proc/net/kgwttm
	grep -qx "version $VERSION" /proc/net/kgwttm || return 1
	for name in with_option without_option malformed untrusted missed live entry_bytes; do
		grep -Eq "^$name [0-9]+$" /proc/net/kgwttm || { echo "no $name counter"; return 1; }
	done
}

getsockopt_answers_enoent() {
	after=$(probe)
	echo "before insmod: $before; after: $after"
	[ "$before" = ENOPROTOOPT ] && [ "$after" = ENOENT ]
}

modprobe_conf_states_the_defaults() {
	conf=$WORK/etc/modprobe.d/kgwttm.conf
	n=0
	while IFS='=' read -r key value; do
		name=${key#\#options kgwttm }
		actual=$(cat "/sys/module/kgwttm/parameters/$name") || return 1
		[ "$actual" = "$value" ] || { echo "$name: modprobe.d says $value, the module has $actual"; return 1; }
		n=$((n + 1))
	done <<EOF
$(grep '^#options kgwttm ' "$conf")
EOF
	[ "$n" = "$(ls /sys/module/kgwttm/parameters | wc -l)" ] || { echo "$n defaults listed, $(ls /sys/module/kgwttm/parameters | wc -l) parameters"; return 1; }
}

# The line the operator edits: trusted_nets= filled in with the LB networks and
# uncommented; the module loads with what modprobe would pass from the file.
edited_trusted_nets_loads() {
	nets=$(cat test/lbsim/trusted_nets)
	sed "s|^#options kgwttm trusted_nets=\$|options kgwttm trusted_nets=$nets|" "$WORK/etc/modprobe.d/kgwttm.conf" > "$WORK/edited.conf"
	opts=$(sed -n 's/^options kgwttm //p' "$WORK/edited.conf")
	[ "$opts" = "trusted_nets=$nets" ] || { echo "options in the edited file: '$opts'"; return 1; }
	# shellcheck disable=SC2086 # one word per option, as modprobe splits them
	rmmod kgwttm && insmod "$KO" $opts || return 1
	[ "$(cat /sys/module/kgwttm/parameters/trusted_nets)" = "$nets" ]
}

rmmod_unloads_it() {
	rmmod kgwttm && [ ! -e /proc/net/kgwttm ] && [ "$(probe)" = ENOPROTOOPT ]
}

check "the .ko out of the RPM (rpm2cpio) has this kernel's vermagic" ko_is_for_this_kernel
check "insmod loads it" insmod_loads_it
check "/proc/net/kgwttm: version $VERSION and every counter" proc_counters
check "getsockopt(SOL_IP, 1345) on a loopback connection: ENOPROTOOPT before, ENOENT with the module" getsockopt_answers_enoent
check "the RPM's modprobe.d file states the module's real defaults (trusted_nets: empty)" modprobe_conf_states_the_defaults
check "its trusted_nets line, filled in with test/lbsim/trusted_nets and uncommented, loads" edited_trusted_nets_loads
check "rmmod unloads it: /proc/net/kgwttm gone, ENOPROTOOPT again" rmmod_unloads_it
tap_done
