// SPDX-License-Identifier: GPL-2.0-only
/*
 * Counters for operators, in /proc/net/kgwttm, one "name value" per line:
 * version, the per-connection outcomes of stats.h, missed (probe
 * misses: connections or getpeername calls the module did not see),
 * live (entries held now: back to 0 once every connection has closed) and
 * entry_bytes (the size of one entry). Per-CPU on the packet path.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/percpu.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <net/net_namespace.h>

#include "stats.h"

struct kgwttm_stats {
	unsigned long n[KGWTTM_STAT_NR];
};

static DEFINE_PER_CPU(struct kgwttm_stats, kgwttm_stats);
static const struct kgwttm_stats_sources *kgwttm_stats_src;

static const char *const kgwttm_stat_names[KGWTTM_STAT_NR] = {
	[KGWTTM_STAT_WITH_OPTION] = "with_option",
	[KGWTTM_STAT_WITHOUT_OPTION] = "without_option",
	[KGWTTM_STAT_MALFORMED] = "malformed",
	[KGWTTM_STAT_UNTRUSTED] = "untrusted",
	[KGWTTM_STAT_NOMEM] = "nomem",
};

void kgwttm_stats_inc(enum kgwttm_stat s)
{
	this_cpu_inc(kgwttm_stats.n[s]);
}

static int kgwttm_stats_show(struct seq_file *m, void *v)
{
	unsigned long sum[KGWTTM_STAT_NR] = { 0 };
	int cpu, i;

	for_each_possible_cpu(cpu)
		for (i = 0; i < KGWTTM_STAT_NR; i++)
			sum[i] += per_cpu(kgwttm_stats, cpu).n[i];

	seq_printf(m, "version %s\n", KGWTTM_VERSION);
	for (i = 0; i < KGWTTM_STAT_NR; i++)
		seq_printf(m, "%s %lu\n", kgwttm_stat_names[i], sum[i]);
	seq_printf(m, "missed %lu\n", kgwttm_stats_src->missed());
	seq_printf(m, "live %ld\n", kgwttm_stats_src->live());
	seq_printf(m, "entry_bytes %u\n", kgwttm_stats_src->entry_bytes());
	return 0;
}

int kgwttm_stats_init(const struct kgwttm_stats_sources *src)
{
	kgwttm_stats_src = src;
	if (!proc_create_net_single(KBUILD_MODNAME, 0444, init_net.proc_net,
				    kgwttm_stats_show, NULL)) {
		pr_err("cannot create /proc/net/%s\n", KBUILD_MODNAME);
		return -ENOMEM;
	}
	return 0;
}

void kgwttm_stats_exit(void)
{
	remove_proc_entry(KBUILD_MODNAME, init_net.proc_net);
}
