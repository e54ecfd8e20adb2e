#!/bin/sh
# SPDX-License-Identifier: MIT
# test/lbsim/realstack/setup.sh up|down|status
#
# Real-stack face of the LB simulator: network namespace "lbsim" behind a veth
# pair, a cgroup2 group whose sockets get the sockops program that adds the
# client-address option to the handshake-completing ACK.  See README.md.
#
# Builds nothing: the BPF object comes from `make -C test/lbsim/realstack`.
# Idempotent.  `down` removes everything `up` made.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
OBJ=${LBSIM_OBJ:-$HERE/lbsim_sockops.bpf.o}
NETNS=${LBSIM_NETNS:-lbsim}
VETH_RS=${LBSIM_VETH_RS:-lbsim-rs}	# root namespace side (the RS)
VETH_LB=${LBSIM_VETH_LB:-lbsim-lb}	# netns side (the LB's lip)
PIN=${LBSIM_PIN:-/sys/fs/bpf/lbsim}
RS4=10.201.0.1 LIP4=10.201.0.2 RS6=fd00:201::1 LIP6=fd00:201::2

die() { echo "realstack/setup.sh: $*" >&2; exit 1; }

cgroup2_root() {
	awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts
}
if [ -n "${LBSIM_CGROUP:-}" ]; then
	CG=$LBSIM_CGROUP
else
	CGROOT=$(cgroup2_root)
	CG=${CGROOT:+$CGROOT/lbsim}
fi

bpffs_dir() {	# the bpffs mount that holds $PIN
	d=$(dirname "$PIN")
	awk -v d="$d" '$3 == "bpf" && $2 == d { f = 1 } END { exit !f }' /proc/mounts
}

up() {
	[ -f "$OBJ" ] || die "$OBJ missing: run 'make -C $HERE' on the host first"
	[ -n "$CG" ] || die "no cgroup2 mount found (mount -t cgroup2 none /sys/fs/cgroup)"
	command -v bpftool >/dev/null || die "bpftool not found"

	# network: netns + veth + addresses (nodad: usable at once)
	ip netns list | awk '{print $1}' | grep -qx "$NETNS" || ip netns add "$NETNS"
	if ! ip link show "$VETH_RS" >/dev/null 2>&1; then
		ip netns exec "$NETNS" ip link del "$VETH_LB" 2>/dev/null || true
		ip link add "$VETH_RS" type veth peer name "$VETH_LB" netns "$NETNS"
	fi
	ip addr replace "$RS4/24" dev "$VETH_RS"
	ip -6 addr replace "$RS6/64" dev "$VETH_RS" nodad
	ip link set "$VETH_RS" up
	ip netns exec "$NETNS" sh -eu -c "
		ip link set lo up
		ip addr replace $LIP4/24 dev $VETH_LB
		ip -6 addr replace $LIP6/64 dev $VETH_LB nodad
		ip link set $VETH_LB up
		# volume: many short connections from one source address
		sysctl -qw net.ipv4.ip_local_port_range='1024 65535'
		sysctl -qw net.ipv4.tcp_tw_reuse=1
	"

	# BPF: bpffs, program + maps pinned under $PIN, attached to the cgroup
	if ! bpffs_dir; then
		mkdir -p "$(dirname "$PIN")"
		mount -t bpf bpf "$(dirname "$PIN")"
	fi
	mkdir -p "$CG"
	# always reload: a rebuilt object replaces the old one
	rm -rf "$PIN"
	mkdir -p "$PIN"
	bpftool prog loadall "$OBJ" "$PIN/progs" type sockops pinmaps "$PIN/maps" ||
		die "loading $OBJ failed (see the verifier log above)"
	# no flags: replaces whatever sock_ops program this cgroup had
	bpftool cgroup attach "$CG" sock_ops pinned "$PIN/progs/lbsim_sockops" ||
		die "attaching to $CG failed"
	echo "realstack: up (netns $NETNS, $VETH_RS $RS4 $RS6 <-> $VETH_LB $LIP4 $LIP6, cgroup $CG, pins $PIN)"
}

down() {
	if [ -n "$CG" ] && [ -d "$CG" ]; then
		if [ -s "$CG/cgroup.procs" ]; then
			if [ -e "$CG/cgroup.kill" ]; then
				echo 1 >"$CG/cgroup.kill"
			else
				xargs -r kill -9 <"$CG/cgroup.procs" 2>/dev/null || true
			fi
			i=0
			while [ -s "$CG/cgroup.procs" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		fi
		bpftool cgroup detach "$CG" sock_ops pinned "$PIN/progs/lbsim_sockops" 2>/dev/null || true
		rmdir "$CG" || die "cannot remove $CG"
	fi
	rm -rf "$PIN"
	if ip netns list | awk '{print $1}' | grep -qx "$NETNS"; then
		ip netns del "$NETNS"
	fi
	ip link del "$VETH_RS" 2>/dev/null || true
	echo "realstack: down"
}

status() {
	ip netns list | awk '{print $1}' | grep -qx "$NETNS" && echo "netns $NETNS: present" || echo "netns $NETNS: absent"
	[ -n "$CG" ] && [ -d "$CG" ] && { echo "cgroup $CG:"; bpftool cgroup show "$CG"; } || echo "cgroup: absent"
	if [ -e "$PIN/maps/lbsim_stats" ]; then
		bpftool -j map dump pinned "$PIN/maps/lbsim_stats" |
			tr '{}' '\n\n' | sed -n 's/.*"key":\([0-9]\),"value":\([0-9]*\).*/\1 \2/p' |
			awk 'BEGIN { n[0] = "connect"; n[1] = "written"; n[2] = "failed" }
			     $1 in n { printf "%s%s=%s", sep, n[$1], $2; sep = " " } END { print "" }'
	fi
}

case "${1:-}" in
up) up ;;
down) down ;;
status) status ;;
*) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
