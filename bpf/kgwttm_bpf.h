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
#include "../kmod/toa_parse.h"

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

/*
 * Each CPU's block: its counters (the loader sums them), and the room its
 * captures copy an ACK's options to (the whole option space, and the three
 * words the walk reads from where the accepted option starts).
 */
#define KGWTTM_BPF_OPT_WORDS	8
struct kgwttm_bpf_percpu {
	__s64 stats[KGWTTM_BPF_STAT_NR];
	__u64 opt[KGWTTM_BPF_OPT_WORDS];
};

/*
 * The client of one connection, in its socket's local storage. Aligned for
 * 64-bit words: the capture writes it in five.
 */
struct kgwttm_bpf_entry {
	struct ttm_peer peer;
	__u32 lb[4];		/* the peer the kernel reports: the LB, IPv4 as ::ffff:a.b.c.d */
	__u16 lb_port;		/* network order */
	__u16 reserved;
} __attribute__((aligned(8)));

/*
 * The kinds a formats list accepts, a bit each: the walk tests an option's
 * kind against them before toa_accepted() goes through the formats one by
 * one (the loader sets them with the formats; walk_fuzz checks the two agree).
 */
#define KGWTTM_BPF_KIND_WORDS	(256 / 32)

static inline void kgwttm_bpf_kinds(const struct toa_formats *f,
				    __u32 kinds[KGWTTM_BPF_KIND_WORDS])
{
	unsigned int k;

	for (k = 0; k < KGWTTM_BPF_KIND_WORDS; k++)
		kinds[k] = 0;
	for (k = 0; k < f->n && k < TOA_FORMATS_MAX; k++)
		kinds[f->f[k].kind / 32] |= 1u << (f->f[k].kind % 32);
}

/* Whether @kind is in @kinds (volatile: the program's are its loader's). */
static inline bool kgwttm_bpf_kind_in(const volatile __u32 *kinds, __u8 kind)
{
	return kinds[kind / 32] & (1u << (kind % 32));
}

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
