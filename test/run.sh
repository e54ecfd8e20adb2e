#!/bin/sh
# SPDX-License-Identifier: MIT
# npm test: set up (first run installs, later runs check), then run every host
# suite and every guest suite in one VM boot. Ends with `N passed, N failed`.
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
exec node --import tsx test/run.ts "$@"
