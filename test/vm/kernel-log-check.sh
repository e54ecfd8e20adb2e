#!/bin/sh
# SPDX-License-Identifier: MIT
# Fails (exit 1, printing the lines) when a guest kernel log shows a kernel bug:
# BUG/WARNING/Oops, a general protection fault, SLUB debug reports (slub_debug is
# on), list or refcount corruption, a hung task or a lockup.
# usage: kernel-log-check.sh DMESG_FILE
set -eu
PATTERN='BUG:|WARNING:|Oops|general protection fault|kernel BUG|Kernel panic|\bslab_err\b|Redzone|Poison overwritten|Object padding|Freepointer corrupt|Left Redzone|list_add corruption|list_del corruption|refcount_t:|KASAN|UBSAN|INFO: task .* blocked|soft lockup|hard LOCKUP|RCU stall|rcu_sched self-detected|Call Trace:'
if grep -E -n "$PATTERN" "$1" > /dev/null; then
	echo "kernel-log-check: the guest kernel reported a problem:"
	grep -E -n -B2 -A25 "$PATTERN" "$1" | head -n 120
	exit 1
fi
exit 0
