#!/bin/sh
# SPDX-License-Identifier: MIT
# The operator CLI on a host with the module loaded (insmod $KGWTTM_KO, as
# test/build.sh built it for this kernel, trusting the test bed's LB networks): `kgwttm status`
# shows the version and counters,
# `kgwttm doctor` finds it healthy (exit 0), sees kgwttm answer the getsockopt
# and proves the whole path with its round trip (a fake load balancer in a
# network namespace of its own: 4to4, 6to4 and a connection without the
# option), as root and unprivileged; the round trip is reported as not run
# where it cannot run or would prove nothing, and fails for real reasons:
# kprobes disabled (which the loopback probe cannot see). A module that trusts
# no one fails the trust check. The host settings the LB's FAQ names are read
# from the real sysctls, set both ways (somaxconn 128 and 4096, keepalive 7200
# and 600), and a listener whose accept queue overflows while doctor runs
# fails it. After rmmod, status exits 3 again.
#
# The CLI runs as an operator installs it: test/run.ts packs the checkout and
# installs the tarball with `npm install --global` into KGWTTM_CLI_PREFIX, a
# folder under /tmp every user can read; not from the checkout, which user
# nobody cannot enter when it lies in a folder such as /root (mode 0700).
set -u
cd "$(dirname "$0")/../.."
# doctor's round trip starts Node in a namespace: in a TCG guest that shares
# the host's CPUs with another kernel's guest, that can take longer than 20 s.
export KGWTTM_ROUND_TRIP_TIMEOUT=180
. test/lib/tap.sh

VERSION=$(cat kmod/VERSION)
TRUSTED_NETS=$(cat test/lbsim/trusted_nets)
NODE=$(command -v node)
PREFIX=${KGWTTM_CLI_PREFIX:-}
[ -n "$PREFIX" ] || bail "KGWTTM_CLI_PREFIX is not set: run this suite through test/run.ts, which installs the packed CLI there"
CLI=$PREFIX/bin/kgwttm
# What the bin link points at, for running it with node by its full path.
MAIN=$(readlink -f "$CLI")
[ -x "$CLI" ] && [ -f "$MAIN" ] || bail "no installed CLI at $CLI"
[ "$MAIN" = "$(readlink -f "$PREFIX/lib/node_modules/kgwttm/$(node -p 'require("./package.json").bin.kgwttm')")" ] ||
	bail "$CLI does not link to the package's bin ($MAIN)"
KPROBES=/sys/kernel/debug/kprobes/enabled
SOMAXCONN=/proc/sys/net/core/somaxconn KEEPALIVE=/proc/sys/net/ipv4/tcp_keepalive_time
SOMAXCONN_WAS=$(cat $SOMAXCONN) KEEPALIVE_WAS=$(cat $KEEPALIVE)
trap '[ ! -w $KPROBES ] || echo 1 > $KPROBES; echo $SOMAXCONN_WAS > $SOMAXCONN; echo $KEEPALIVE_WAS > $KEEPALIVE; rmmod kgwttm 2>/dev/null' EXIT

KO=${KGWTTM_KO:-}
[ -f "$KO" ] || bail "no module built for $(uname -r) at '$KO' (KGWTTM_KO, set by test/vm/run; test/build.sh builds it)"
[ ! -d /sys/module/kgwttm ] || bail "kgwttm is already loaded: a previous suite did not unload it"
ip link set lo up 2>/dev/null
# The round trip needs /dev/net/tun: a guest without udev has it only once tun is loaded.
modprobe tun 2>/dev/null
[ -c /dev/net/tun ] || bail "no /dev/net/tun after modprobe tun"
insmod "$KO" trusted_nets="$TRUSTED_NETS" || bail "insmod $KO trusted_nets=$TRUSTED_NETS failed"

kgwttm() { "$CLI" "$@"; }

# Fails with the text when a JS condition over the JSON on stdin is false.
json_check() {
	node -e '
const text = require("fs").readFileSync(0, "utf8");
const holds = new Function("r", "return (" + process.argv[1] + ");");
if (!holds(JSON.parse(text))) { console.log(text); process.exit(1); }' "$1"
}

with_option() { sed -n 's/^with_option //p' /proc/net/kgwttm; }

# What test/lbsim/trusted_nets (10.200.0.0/24 first: RS 10.200.0.1, LB
# 10.200.0.2) and the default formats give.
ROUND_TRIP_OK='^\[ok  \] round-trip +4to4: LB 10\.200\.0\.2 wrote 203\.0\.113\.7:4242 in a 254:8 option: getRealPeer returned it, and so did remoteAddress; 6to4: LB 10\.200\.0\.2 wrote \[2001:db8::7\]:4242 in a 254:20 option: getRealPeer returned it; a connection without the option: getRealPeer null \(with_option \+2\)$'

status_shows_version_and_counters() {
	out=$(kgwttm status) || { echo "exit $?: $out"; return 1; }
	echo "$out"
	echo "$out" | grep -qx "kgwttm: loaded, version $VERSION" &&
		echo "$out" | grep -Eq '^  live +[0-9]+$' &&
		echo "$out" | grep -Eq '^  optname +1345$'
}

status_json() {
	kgwttm status --json | json_check "r.loaded === true && r.version === '$VERSION' &&
		['with_option', 'without_option', 'malformed', 'untrusted', 'missed', 'live', 'entry_bytes'].every((n) => typeof r.counters[n] === 'number') &&
		r.parameters.optname === '1345' && r.parameters.rewrite_getname === 'Y'"
}

doctor_is_healthy() {
	before=$(with_option)
	out=$(kgwttm doctor)
	rc=$?
	after=$(with_option)
	echo "$out"
	echo "with_option $before -> $after"
	[ "$rc" = 0 ] &&
		echo "$out" | grep -Eq '^\[ok  \] optname +getsockopt\(SOL_IP, 1345\) on a loopback connection: ENOENT: kgwttm answers' &&
		echo "$out" | grep -Eq "$ROUND_TRIP_OK" &&
		[ "$after" -ge $((before + 2)) ]
}

doctor_json() {
	kgwttm doctor --json | json_check "r.healthy === true && r.exitCode === 0 && r.loaded === true && r.version === '$VERSION' &&
		r.checks.every((c) => c.status !== 'fail') &&
		r.checks.some((c) => c.name === 'round-trip' && c.status === 'ok') &&
		r.roundTrip.plan.lb === '10.200.0.2' && r.roundTrip.result.ran === true &&
		JSON.stringify(r.roundTrip.result.cases.map((c) => [c.name, c.got, c.remoteAddress])) === JSON.stringify([
			['4to4', { address: '203.0.113.7', port: 4242, family: 'IPv4' }, '203.0.113.7'],
			['6to4', { address: '2001:db8::7', port: 4242, family: 'IPv6' }, '10.200.0.2'],
			['none', null, '10.200.0.2']])"
}

# Unprivileged: unshare --user --map-root-user --net, where the kernel allows
# it (Debian's does); /dev/net/tun is 0600 without udev, 0666 on distributions.
doctor_unprivileged() {
	setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$NODE" ||
		{ echo "nobody cannot run $NODE: node must be installed where every user can run it"; return 1; }
	chmod 0666 /dev/net/tun || return 1
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/tmp "$CLI" doctor)
	rc=$?
	chmod 0600 /dev/net/tun
	echo "$out"
	[ "$rc" = 0 ] && echo "$out" | grep -Eq "$ROUND_TRIP_OK"
}

# PATH without unshare (node by its full path): a warning that says why, still exit 0.
doctor_without_unshare() {
	out=$(PATH=/nonexistent "$NODE" "$MAIN" doctor)
	rc=$?
	echo "$out"
	[ "$rc" = 0 ] && echo "$out" | grep -Eq '^\[WARN\] round-trip +not run: unshare \(util-linux\) is not installed$'
}

# Kprobes disarmed system-wide: the module is loaded and answers getsockopt
# (the loopback check stays ok) but reads no connection; only the round trip
# can tell.
doctor_fails_without_kprobes() {
	[ -w $KPROBES ] || { echo "no $KPROBES (debugfs not mounted?)"; return 1; }
	echo 0 > $KPROBES
	out=$(kgwttm doctor)
	rc=$?
	echo 1 > $KPROBES
	echo "exit $rc"
	echo "$out"
	[ "$rc" = 1 ] &&
		echo "$out" | grep -Eq '^\[ok  \] optname +.*ENOENT: kgwttm answers' &&
		echo "$out" | grep -Eq '^\[FAIL\] round-trip +4to4: LB 10\.200\.0\.2 wrote 203\.0\.113\.7:4242 in a 254:8 option: getRealPeer returned null; 6to4: .*: getRealPeer returned null; .*counters did not move: its probes saw none of these connections'
}

reload() {
	rmmod kgwttm && insmod "$KO" "$@"
}

# trusted_nets= (empty, the module's default): the module believes no one; the
# trust check fails and says what to set, and no round trip that could only fail.
doctor_fails_trusting_no_one() {
	reload trusted_nets= || return 1
	out=$(kgwttm doctor)
	rc=$?
	echo "exit $rc"
	echo "$out"
	[ "$rc" = 1 ] &&
		echo "$out" | grep -Eq '^\[FAIL\] trust +trusted_nets is empty: the module believes no load balancer .*/etc/modprobe\.d/kgwttm\.conf' &&
		echo "$out" | grep -Eq '^\[WARN\] round-trip +not run: trusted_nets is empty'
}

# Other parameters move the plan: the first trusted IPv4 net, the formats accepted.
doctor_follows_parameters() {
	reload trusted_nets=fc00::/7,192.168.7.0/24 formats=200:8,254:22 || return 1
	out=$(kgwttm doctor)
	rc=$?
	echo "$out"
	[ "$rc" = 0 ] &&
		echo "$out" | grep -Eq '^\[ok  \] round-trip +4to4: LB 192\.168\.7\.2 wrote 203\.0\.113\.7:4242 in a 200:8 option: getRealPeer returned it, and so did remoteAddress; 6to4: LB 192\.168\.7\.2 wrote \[2001:db8::7\]:4242 in a 254:22 option: getRealPeer returned it;'
}

# No IPv4 source trusted: an IPv4 load balancer cannot be played; not run, exit 0.
doctor_ipv6_only_trust() {
	reload trusted_nets=fc00::/7 || return 1
	out=$(kgwttm doctor)
	rc=$?
	echo "$out"
	[ "$rc" = 0 ] && echo "$out" | grep -Eq '^\[WARN\] round-trip +not run: trusted_nets=fc00::/7 holds no IPv4 network'
}

# The FAQ's troubles: somaxconn 128 and the default keepalive time. Both warn
# with the value and the fix; warnings alone leave the exit code 0.
doctor_warns_on_faq_settings() {
	echo 128 > $SOMAXCONN && echo 7200 > $KEEPALIVE || return 1
	out=$(kgwttm doctor)
	rc=$?
	echo "$out"
	[ "$rc" = 0 ] &&
		echo "$out" | grep -Eq '^\[WARN\] somaxconn +net\.core\.somaxconn = 128 caps every listen\(\) backlog at 128: .*; fix: sysctl -w net\.core\.somaxconn=1024, ' &&
		echo "$out" | grep -Eq '^\[WARN\] keepalive +net\.ipv4\.tcp_keepalive_time = 7200 s: the load balancer resets connections idle for 900 s.*; fix: sysctl -w net\.ipv4\.tcp_keepalive_time=600, ' || return 1
	kgwttm doctor --json | json_check "(() => { const c = Object.fromEntries(r.checks.map((k) => [k.name, k]));
		return c.somaxconn.status === 'warn' && c.somaxconn.value === 128 && /^sysctl -w net.core.somaxconn=1024/.test(c.somaxconn.fix) &&
			c.keepalive.status === 'warn' && c.keepalive.value === 7200 && /^sysctl -w net.ipv4.tcp_keepalive_time=600/.test(c.keepalive.fix); })()"
}

# The FAQ's fixes applied: both ok.
doctor_content_with_fixed_settings() {
	echo 4096 > $SOMAXCONN && echo 600 > $KEEPALIVE || return 1
	out=$(kgwttm doctor)
	rc=$?
	echo "$out"
	[ "$rc" = 0 ] &&
		echo "$out" | grep -Eq '^\[ok  \] somaxconn +net\.core\.somaxconn = 4096: ' &&
		echo "$out" | grep -Eq "^\\[ok  \\] keepalive +net\\.ipv4\\.tcp_keepalive_time = 600 s: sockets with SO_KEEPALIVE probe before the load balancer's 900 s idle timeout$"
}

# Connections to a loopback listener that never accepts (backlog 1), for $1
# seconds: its accept queue is full, so the kernel drops their SYNs and counts
# ListenOverflows and ListenDrops.
overflow_accept_queue() {
	/usr/bin/python3 - "$1" <<'PY'
import socket, sys, time
srv = socket.socket()
srv.bind(('127.0.0.1', 0))
srv.listen(1)
end = time.time() + float(sys.argv[1])
clients = []
while time.time() < end:
    c = socket.socket()
    c.setblocking(False)
    try:
        c.connect(srv.getsockname())
    except BlockingIOError:
        pass
    clients.append(c)
    time.sleep(0.02)
PY
}

# Drops while doctor reads the counters: listen-queue FAILs (exit 1); once they
# stop, the counts since boot only warn.
doctor_fails_on_listen_drops_now() {
	overflow_accept_queue 12 &
	flood=$!
	sleep 1
	out=$(kgwttm doctor)
	rc=$?
	wait $flood
	echo "exit $rc"
	echo "$out"
	[ "$rc" = 1 ] &&
		echo "$out" | grep -Eq '^\[FAIL\] listen-queue +ListenOverflows [0-9]+, ListenDrops [0-9]+ since boot, \+[1-9][0-9]* and \+[1-9][0-9]* in the last [0-9.]+ s: accept queues are overflowing now.*; fix: ' || return 1
	out=$(kgwttm doctor)
	rc=$?
	echo "afterwards: exit $rc"
	echo "$out"
	[ "$rc" = 0 ] &&
		echo "$out" | grep -Eq '^\[WARN\] listen-queue +ListenOverflows [1-9][0-9]*, ListenDrops [1-9][0-9]* since boot \(none in the last [0-9.]+ s\)'
}

status_after_rmmod() {
	rmmod kgwttm || return 1
	kgwttm status
	[ $? = 3 ]
}

check "kgwttm status: loaded, version $VERSION, parameters and counters (exit 0)" status_shows_version_and_counters
check "kgwttm status --json: version, every counter, the parameters" status_json
check "kgwttm doctor: exit 0, ENOENT on loopback, the round trip ok for 4to4, 6to4 and no option, with_option +2" doctor_is_healthy
check "kgwttm doctor --json: healthy, no failed check, the round trip's plan and results" doctor_json
check "kgwttm doctor as nobody: the round trip in an unprivileged user namespace" doctor_unprivileged
check "kgwttm doctor without unshare on PATH: round trip not run, says why, exit 0" doctor_without_unshare
check "kgwttm doctor with kprobes disabled: loopback probe ok, round trip FAIL, exit 1" doctor_fails_without_kprobes
check "kgwttm doctor with trusted_nets= empty: trust FAIL, round trip not run, exit 1" doctor_fails_trusting_no_one
check "kgwttm doctor with trusted_nets=fc00::/7,192.168.7.0/24 formats=200:8,254:22: LB and formats follow" doctor_follows_parameters
check "kgwttm doctor with only IPv6 trusted: round trip not run, says why, exit 0" doctor_ipv6_only_trust
check "kgwttm doctor with somaxconn 128 and keepalive 7200 s: both WARN with value and fix, exit 0" doctor_warns_on_faq_settings
check "kgwttm doctor with somaxconn 4096 and keepalive 600 s: both ok" doctor_content_with_fixed_settings
check "kgwttm doctor while an accept queue overflows: listen-queue FAIL, exit 1; afterwards WARN, exit 0" doctor_fails_on_listen_drops_now
check "after rmmod: kgwttm status exits 3" status_after_rmmod
tap_done
