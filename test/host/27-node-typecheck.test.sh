#!/bin/sh
# SPDX-License-Identifier: MIT
# `npm run typecheck` (tsc, strict) over lib/, the test suites, test/lib,
# test/run.ts (which decides pass and fail) and the TypeScript examples; and it
# passes before dist/ exists, as on a fresh clone: the package's own name
# resolves to lib/ through tsconfig's paths, checked here in a copy of the
# sources without dist/.
set -u
cd "$(dirname "$0")/../.."
. test/lib/tap.sh

TSC=$PWD/node_modules/.bin/tsc
[ -x "$TSC" ] || bail "no $TSC (npm ci)"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

typecheck_checkout() {
	"$TSC" -p tsconfig.json
}

typecheck_without_dist() {
	tar -cf - tsconfig.json package.json lib test/host test/guest test/lib test/run.ts examples/node | tar -xf - -C "$WORK" &&
		ln -s "$PWD/node_modules" "$WORK/node_modules" &&
		[ ! -e "$WORK/dist" ] &&
		(cd "$WORK" && "$TSC" -p tsconfig.json)
}

check "npm run typecheck: lib, tests, test/run.ts and examples under strict tsc" typecheck_checkout
check "the same on a fresh clone, before dist/ is built" typecheck_without_dist
tap_done
