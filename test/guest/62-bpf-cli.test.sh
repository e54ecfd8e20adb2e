#!/bin/sh
# SPDX-License-Identifier: MIT
# The operator CLI with the BPF backend (issue 14) on a real kernel: `kgwttm
# bpf attach` runs the checkout's kgwttm-bpf (KGWTTM_BPF_LOADER, as
# test/build.sh built it) with the test bed's LB networks; `kgwttm status`
# names the backend and shows what kgwttm-bpf status and params print;
# `kgwttm doctor` finds it healthy, with the errno this kernel's backend gives
# a loopback connection (ENOENT from 5.18, ENOPROTOOPT before) and its round
# trip through the BPF programs; a second attach is refused; status tells an
# older kgwttm-bpf's attach (no live iterator) to attach again; `kgwttm bpf
# detach` leaves the guest as it was, and status exits 3 again.
#
# The CLI runs as installed in KGWTTM_CLI_PREFIX (test/guest/45-cli.test.sh
# says why).
set -u
cd "$(dirname "$0")/../.."
# doctor's round trip starts Node in a namespace: in a TCG guest that shares
# the host's CPUs with another kernel's guest, that can take longer than 20 s.
export KGWTTM_ROUND_TRIP_TIMEOUT=180
ROOT=$PWD
. test/lib/tap.sh

VERSION=$(cat kmod/VERSION)
TRUSTED_NETS=$(cat test/lbsim/trusted_nets)
PREFIX=${KGWTTM_CLI_PREFIX:-}
[ -n "$PREFIX" ] || bail "KGWTTM_CLI_PREFIX is not set: run this suite through test/run.ts, which installs the packed CLI there"
CLI=$PREFIX/bin/kgwttm
[ -x "$CLI" ] || bail "no installed CLI at $CLI"
export KGWTTM_BPF_LOADER="$ROOT/bpf/build/kgwttm-bpf"
[ -x "$KGWTTM_BPF_LOADER" ] || bail "no $KGWTTM_BPF_LOADER (test/build.sh builds it: make -C bpf)"
PIN=/sys/fs/bpf/kgwttm
[ ! -d /sys/module/kgwttm ] || bail "kgwttm.ko is loaded: a previous suite did not unload it"
[ ! -e $PIN ] || bail "$PIN exists: a previous suite did not detach"
trap '[ ! -e $PIN ] || "$KGWTTM_BPF_LOADER" detach' EXIT
ip link set lo up 2>/dev/null
modprobe tun 2>/dev/null

kgwttm() { "$CLI" "$@"; }

json_check() {
	node -e '
const text = require("fs").readFileSync(0, "utf8");
const holds = new Function("r", "return (" + process.argv[1] + ");");
if (!holds(JSON.parse(text))) { console.log(text); process.exit(1); }' "$1"
}

# What this kernel lets the programs answer for a connection without a client.
if "$KGWTTM_BPF_LOADER" verify 2>/dev/null | grep -q 'bpf_set_retval yes'; then
	NO_CLIENT=ENOENT SET_RETVAL=Y
else
	NO_CLIENT=ENOPROTOOPT SET_RETVAL=N
fi

attach() {
	out=$(kgwttm bpf attach --trusted-nets "$TRUSTED_NETS" 2>&1) || { echo "exit $?: $out"; return 1; }
	echo "$out"
	echo "$out" | grep -q "^kgwttm-bpf: attached to .*trusted_nets=$TRUSTED_NETS" && [ -d $PIN ]
}

status_names_the_backend() {
	out=$(kgwttm status) || { echo "exit $?: $out"; return 1; }
	echo "$out"
	echo "$out" | grep -qx "kgwttm: BPF backend attached ($PIN), version $VERSION" &&
		echo "$out" | grep -Eq "^  trusted_nets +$TRUSTED_NETS\$" &&
		echo "$out" | grep -Eq "^  set_retval +$SET_RETVAL\$" &&
		echo "$out" | grep -Eq '^  live +[0-9]+$'
}

status_json() {
	kgwttm status --json | json_check "r.backend === 'bpf' && r.loaded === true && r.version === '$VERSION' && r.pins === '$PIN' &&
		r.error === undefined &&
		['with_option', 'without_option', 'malformed', 'untrusted', 'nomem', 'missed', 'live', 'entry_bytes'].every((n) => typeof r.counters[n] === 'number') &&
		r.parameters.optname === '1345' && r.parameters.trusted_nets === '$TRUSTED_NETS' && r.parameters.set_retval === '$SET_RETVAL'"
}

doctor_is_healthy() {
	out=$(kgwttm doctor)
	rc=$?
	echo "$out"
	[ "$rc" = 0 ] &&
		echo "$out" | grep -Eq "^\[ok  \] loaded +the BPF backend $VERSION is attached" &&
		echo "$out" | grep -Eq "^\[ok  \] optname +getsockopt\(SOL_IP, 1345\) on a loopback connection: $NO_CLIENT" &&
		echo "$out" | grep -Eq "^\[ok  \] trust +options believed from $TRUSTED_NETS\$" &&
		echo "$out" | grep -Eq '^\[ok  \] round-trip +4to4: .*getRealPeer returned it, and so did remoteAddress; 6to4: .*getRealPeer returned it; a connection without the option: getRealPeer null'
}

doctor_json() {
	kgwttm doctor --json | json_check "r.backend === 'bpf' && r.loaded === true && r.healthy === true && r.exitCode === 0 &&
		r.checks.every((c) => c.status !== 'fail')"
}

second_attach_refused() {
	out=$(kgwttm bpf attach --trusted-nets "$TRUSTED_NETS" 2>&1)
	rc=$?
	echo "$out"
	[ "$rc" = 1 ] && echo "$out" | grep -q 'already attached'
}

# An attach by a kgwttm-bpf from before the live iterator has every pin but
# live: status says what to do instead of "not attached", and detach still
# takes the rest away (the next point).
older_attach() {
	rm $PIN/live || return 1
	out=$("$KGWTTM_BPF_LOADER" status 2>&1)
	rc=$?
	echo "$out"
	[ "$rc" = 1 ] && echo "$out" | grep -q "attached by an older kgwttm-bpf (no $PIN/live): run kgwttm-bpf detach, then attach"
}

detach() {
	kgwttm bpf detach || return 1
	[ ! -e $PIN ] || { echo "$PIN is still there"; return 1; }
	kgwttm status --json | json_check "r.backend === 'none' && r.loaded === false"
	kgwttm status >/dev/null
	[ $? = 3 ]
}

check "kgwttm bpf attach --trusted-nets (the test bed's LBs): kgwttm-bpf attached, pins in $PIN" attach
check "kgwttm status: BPF backend attached, version $VERSION, its settings (set_retval $SET_RETVAL) and counters" status_names_the_backend
check "kgwttm status --json: backend bpf, every counter, the settings" status_json
check "kgwttm doctor: exit 0, the backend loaded, $NO_CLIENT on loopback, its trust list, the round trip through the programs" doctor_is_healthy
check "kgwttm doctor --json: backend bpf, healthy, no failed check" doctor_json
check "a second kgwttm bpf attach: exit 1, already attached" second_attach_refused
check "kgwttm-bpf status after an attach without the live iterator (an older kgwttm-bpf): exit 1, detach then attach" older_attach
check "kgwttm bpf detach: the pins gone, status exits 3 with backend none" detach
tap_done
