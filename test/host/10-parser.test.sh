#!/bin/sh
# SPDX-License-Identifier: MIT
# The TCP option parser (kmod/toa_parse.c) in userspace: the table test under
# ASan/UBSan, one TAP point per row, then the libFuzzer target for a bounded
# time (FUZZ_SECONDS, default 20) as one more point.
cd "$(dirname "$0")/../.." || exit 1
out=$(mktemp -d) || exit 1
trap 'rm -rf "$out"' EXIT

n=0
failed=0
point() { # ok|not-ok description [log]
	n=$((n + 1))
	if [ "$1" = ok ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=1
		[ -n "$3" ] && sed 's/^/  # /' "$3" | tail -n 40
	fi
}

if ! make -s -C kmod tests >"$out/build.log" 2>&1; then
	point not-ok "parser: build the table test and fuzzer with clang (ASan, UBSan, libFuzzer)" "$out/build.log"
	echo "1..$n"
	exit 1
fi

kmod/tests/build/parser_table >"$out/table.tap" 2>"$out/table.err"
rc=$?
cat "$out/table.tap"
n=$(grep -c '^\(not \)\?ok ' "$out/table.tap")
[ $rc -eq 0 ] || point not-ok "parser: table test exited $rc (sanitizer report?)" "$out/table.err"

mkdir -p "$out/corpus"
secs=${FUZZ_SECONDS:-20}
if kmod/tests/build/parser_fuzz -max_total_time="$secs" -max_len=64 \
	-print_final_stats=1 "$out/corpus" >"$out/fuzz.log" 2>&1; then
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/fuzz.log")
	point ok "parser: libFuzzer for ${secs}s, ${runs:-?} inputs, no crash, leak or sanitizer report"
else
	point not-ok "parser: libFuzzer found a failing input" "$out/fuzz.log"
fi

echo "1..$n"
grep -q '^not ok' "$out/table.tap" && failed=1
exit $failed
