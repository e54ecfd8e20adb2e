# SPDX-License-Identifier: MIT
# TAP for sh suites (test/README.md): source it, then one `check` per test point,
# and `tap_done` last (prints the plan; exits 1 if a point failed).
#
#   . test/lib/tap.sh
#   check "the RPM holds the module" rpm_holds_module     # a command or function
#   tap_done
#
# A check passes when its command exits 0; its output is shown, indented as TAP
# diagnostics, only when it fails. `bail` stops the suite (nothing after makes sense).

TAP_COUNT=0
TAP_FAILED=0

check() {
	_tap_name=$1
	shift
	TAP_COUNT=$((TAP_COUNT + 1))
	if _tap_out=$("$@" 2>&1); then
		echo "ok $TAP_COUNT - $_tap_name"
	else
		TAP_FAILED=$((TAP_FAILED + 1))
		echo "not ok $TAP_COUNT - $_tap_name"
		printf '%s\n' "$_tap_out" | tail -n 40 | sed 's/^/  # /'
	fi
}

bail() {
	echo "Bail out! $*"
	exit 1
}

tap_done() {
	echo "1..$TAP_COUNT"
	[ "$TAP_FAILED" = 0 ]
}
