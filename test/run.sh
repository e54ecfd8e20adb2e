#!/bin/sh
# npm test: provision the VM test bed (first run installs, later runs check),
# build, then run every host suite and every guest suite in one VM boot.
# Ends with the line `N passed, N failed`.
set -eu
cd "$(dirname "$0")/.."
t0=$(date +%s)
test/vm/provision.sh
t1=$(date +%s)
sh test/build.sh
t2=$(date +%s)
echo "# provision $((t1 - t0)) s, build $((t2 - t1)) s" >&2
exec node --import tsx test/run.ts "$@"
