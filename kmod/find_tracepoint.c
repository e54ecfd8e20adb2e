// SPDX-License-Identifier: GPL-2.0-only
/* Finding a core-kernel tracepoint by name (see find_tracepoint.h). */
#include <linux/string.h>

#include "find_tracepoint.h"

struct kgwttm_tracepoint_query {
	const char *name;
	struct tracepoint *found;
};

static void kgwttm_tracepoint_match(struct tracepoint *tp, void *priv)
{
	struct kgwttm_tracepoint_query *q = priv;

	if (!strcmp(tp->name, q->name))
		q->found = tp;
}

struct tracepoint *kgwttm_tracepoint(const char *name)
{
	struct kgwttm_tracepoint_query q = { .name = name };

	for_each_kernel_tracepoint(kgwttm_tracepoint_match, &q);
	return q.found;
}
