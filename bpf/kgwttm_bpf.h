/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the BPF programs (kgwttm.bpf.c) and their loader (kgwttm-bpf.c) share:
 * the counters' order, the per-socket entry and the trusted networks as the
 * programs read them. The ABI towards applications is kmod/uapi/kgwttm.h.
 */
#ifndef _KGWTTM_BPF_H
#define _KGWTTM_BPF_H

#include <linux/types.h>

#include "../kmod/uapi/kgwttm.h"

/*
 * Counters, in /proc/net/kgwttm's order; the loader prints them with the
 * module's names. Each counts connections, once. live is not a counter: the
 * loader counts the entries there are (the kgwttm_live iterator).
 */
enum kgwttm_bpf_stat {
	KGWTTM_BPF_WITH_OPTION,
	KGWTTM_BPF_WITHOUT_OPTION,
	KGWTTM_BPF_MALFORMED,
	KGWTTM_BPF_UNTRUSTED,
	KGWTTM_BPF_NOMEM,
	KGWTTM_BPF_STAT_NR,
};

/* The client of one connection, in its socket's local storage. */
struct kgwttm_bpf_entry {
	struct ttm_peer peer;
	__u32 lb[4];		/* the peer the kernel reports: the LB, IPv4 as ::ffff:a.b.c.d */
	__u16 lb_port;		/* network order */
	__u16 reserved;
};

/* More LB subnets than any deployment has (as the module's trust.c). */
#define KGWTTM_BPF_NETS_MAX	32

/* One trusted_nets entry: a source matches when (src & mask) == addr. */
struct kgwttm_bpf_net {
	__u32 af;		/* AF_INET (address in addr[0]) or AF_INET6 */
	__u32 addr[4];		/* network order, host bits cleared */
	__u32 mask[4];
};

/* The operator's own strings, kept as given so `params` prints them back. */
#define KGWTTM_BPF_PARAM_LEN	512

#endif /* _KGWTTM_BPF_H */
