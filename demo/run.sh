#!/bin/sh
# SPDX-License-Identifier: MIT
# npm run demo: set up (first run installs the VM test bed and builds), boot
# the VM, load kgwttm, and show a Node HTTP server printing the real clients
# of 4to4, 6to4 and 6to6 connections made through the simulated load balancer.
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
exec test/vm/run --timeout 600 -- sh demo/guest.sh
