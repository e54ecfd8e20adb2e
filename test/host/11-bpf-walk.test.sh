#!/bin/sh
# SPDX-License-Identifier: MIT
# The BPF backend's option walk (bpf/toa_walk.c) against the module's parser
# (kmod/toa_parse.c), under ASan/UBSan: a million lists built from the pieces
# real ACKs carry, then libFuzzer for FUZZ_SECONDS (default 20). Both must
# give the same reason and the same client for every list (bpf/tests/walk_fuzz.c).
cd "$(dirname "$0")/../.." || exit 1
out=$(mktemp -d) || exit 1
trap 'rm -rf "$out"' EXIT

n=0
point() { # ok|not-ok description [log]
	n=$((n + 1))
	if [ "$1" = ok ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		[ -n "$3" ] && sed 's/^/  # /' "$3" | tail -n 40
	fi
}

if ! make -s -C bpf tests >"$out/build.log" 2>&1; then
	point not-ok "bpf walk: build the differential test and fuzzer (clang, ASan, UBSan, libFuzzer)" "$out/build.log"
	echo "1..$n"
	exit 1
fi

if bpf/build/walk_random 1000000 >"$out/random.log" 2>&1; then
	point ok "bpf walk: $(sed -n 's/^ok - //p' "$out/random.log")"
else
	point not-ok "bpf walk: the BPF walk and toa_parse() agree on lists built from real ACKs' pieces" "$out/random.log"
fi

mkdir -p "$out/corpus"
secs=${FUZZ_SECONDS:-20}
if bpf/build/walk_fuzz -max_total_time="$secs" -max_len=41 -print_final_stats=1 \
	"$out/corpus" >"$out/fuzz.log" 2>&1; then
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/fuzz.log")
	point ok "bpf walk: libFuzzer for ${secs}s, ${runs:-?} lists, the same reason and client as toa_parse()"
else
	point not-ok "bpf walk: libFuzzer found a list where the BPF walk and toa_parse() differ" "$out/fuzz.log"
fi
echo "1..$n"
