#!/bin/sh
# The operator CLI on a host with the module loaded (insmod kmod/kgwttm.ko, as
# test/build.sh built it): `kgwttm status` shows the version and counters,
# `kgwttm doctor` finds it healthy (exit 0) and sees kgwttm answer the
# getsockopt; after rmmod, status exits 3 again.
set -u
cd "$(dirname "$0")/../.."
. test/lib/tap.sh

VERSION=$(cat kmod/VERSION)
BIN=$(node -p 'require("./package.json").bin.kgwttm')
trap 'rmmod kgwttm 2>/dev/null' EXIT

[ -f kmod/kgwttm.ko ] || bail "kmod/kgwttm.ko not built (test/build.sh)"
[ ! -d /sys/module/kgwttm ] || bail "kgwttm is already loaded: a previous suite did not unload it"
ip link set lo up 2>/dev/null
insmod kmod/kgwttm.ko || bail "insmod kmod/kgwttm.ko failed"

kgwttm() { node "$BIN" "$@"; }

# Fails with the text when a JS condition over the JSON on stdin is false.
json_check() {
	node -e '
const text = require("fs").readFileSync(0, "utf8");
const holds = new Function("r", "return (" + process.argv[1] + ");");
if (!holds(JSON.parse(text))) { console.log(text); process.exit(1); }' "$1"
}

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
	out=$(kgwttm doctor)
	rc=$?
	echo "$out"
	[ "$rc" = 0 ] && echo "$out" | grep -Eq '^\[ok  \] optname +getsockopt\(SOL_IP, 1345\) on a loopback connection: ENOENT: kgwttm answers'
}

doctor_json() {
	kgwttm doctor --json | json_check "r.healthy === true && r.exitCode === 0 && r.loaded === true && r.version === '$VERSION' &&
		r.checks.every((c) => c.status !== 'fail') && r.checks.some((c) => c.name === 'round-trip')"
}

status_after_rmmod() {
	rmmod kgwttm || return 1
	kgwttm status
	[ $? = 3 ]
}

check "kgwttm status: loaded, version $VERSION, parameters and counters (exit 0)" status_shows_version_and_counters
check "kgwttm status --json: version, every counter, the parameters" status_json
check "kgwttm doctor: exit 0, kgwttm answers getsockopt(SOL_IP, 1345) with ENOENT on loopback" doctor_is_healthy
check "kgwttm doctor --json: healthy, no failed check" doctor_json
check "after rmmod: kgwttm status exits 3" status_after_rmmod
tap_done
