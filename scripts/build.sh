#!/bin/sh
# SPDX-License-Identifier: MIT
# npm run build: lib/ compiled into dist/. The whole folder is replaced, so
# that no file of a source since removed lingers in the package, and swapped
# in by renames, so that a process reading dist/ meanwhile (a test, the CLI)
# does not find it half written or missing for the length of a compile.
set -eu
cd "$(dirname "$0")/.."
NEXT=.cache/dist-next OLD=.cache/dist-old
mkdir -p .cache
rm -rf "$NEXT" "$OLD"
node_modules/.bin/tsc -p tsconfig.build.json --outDir "$NEXT"
[ ! -d dist ] || mv dist "$OLD"
mv "$NEXT" dist
rm -rf "$OLD"
