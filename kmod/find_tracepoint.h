/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef _KGWTTM_FIND_TRACEPOINT_H
#define _KGWTTM_FIND_TRACEPOINT_H

#include <linux/tracepoint.h>

/*
 * The kernel tracepoint called @name, or NULL. The networking tracepoints
 * kgwttm hooks are not exported to modules; the core kernel's are all
 * reachable by name, and tracepoint_probe_register() is exported.
 */
struct tracepoint *kgwttm_tracepoint(const char *name);

#endif /* _KGWTTM_FIND_TRACEPOINT_H */
