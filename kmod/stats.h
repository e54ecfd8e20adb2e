/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef _KGWTTM_STATS_H
#define _KGWTTM_STATS_H

/*
 * One count per connection the module saw complete its handshake; the first
 * five partition them: with_option + without_option + malformed + untrusted
 * + nomem = connections accepted while the module was loaded.
 */
enum kgwttm_stat {
	KGWTTM_STAT_WITH_OPTION,	/* client stored */
	KGWTTM_STAT_WITHOUT_OPTION,	/* no accepted option in the ACK */
	KGWTTM_STAT_MALFORMED,		/* an accepted kind, but broken */
	KGWTTM_STAT_UNTRUSTED,		/* valid option from outside trusted_nets */
	KGWTTM_STAT_NOMEM,		/* valid and trusted, but no memory to keep it */
	KGWTTM_STAT_NR,
};

/*
 * The other lines of /proc/net/kgwttm, read when the file is: main.c hands
 * in its owners' numbers, so stats.c depends on nothing but this header.
 */
struct kgwttm_stats_sources {
	unsigned long (*missed)(void);		/* probe misses */
	long (*live)(void);			/* entries held now */
	unsigned int (*entry_bytes)(void);	/* the size of one entry */
};

void kgwttm_stats_inc(enum kgwttm_stat s);
int kgwttm_stats_init(const struct kgwttm_stats_sources *src);
void kgwttm_stats_exit(void);

#endif /* _KGWTTM_STATS_H */
