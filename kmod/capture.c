// SPDX-License-Identifier: GPL-2.0
/*
 * Capture: read the client from the ACK that completes the handshake and
 * attach it to the child socket that ACK creates.
 *
 * kretprobes on tcp_v4_syn_recv_sock() and tcp_v6_syn_recv_sock(): the entry
 * handler sees the ACK (argument 1; tcp_v4_rcv/tcp_v6_rcv have already pulled
 * the whole TCP header into the linear area) and parses its options, the
 * return handler sees the child. Both run for SYN-cookie connections too
 * (cookie_v4_check/cookie_v6_check go through syn_recv_sock). For an IPv4
 * connection to a dual-stack listener, tcp_v6_syn_recv_sock() calls
 * tcp_v4_syn_recv_sock(): the v6 probe leaves IPv4 skbs to the v4 one, so each
 * connection is captured once. A TCP Fast Open child is made from the SYN
 * (tcp_fastopen_create_child), so for those the option is read from the SYN.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/kprobes.h>
#include <linux/net.h>
#include <linux/tcp.h>
#include <net/sock.h>

#include "capture.h"
#include "stats.h"
#include "store.h"
#include "trust.h"

/*
 * syn_recv_sock() never sleeps; besides softirq, a task can run it from the
 * listener's backlog with BHs off, so a few instances per CPU are plenty.
 */
#define KGWTTM_CAPTURE_PER_CPU	4

/* What the entry handler found, for the return handler (ri->data). */
struct kgwttm_capture {
	struct ttm_peer peer;
	enum kgwttm_stat result;
};

static struct toa_formats kgwttm_formats __read_mostly;

static enum kgwttm_stat kgwttm_capture_skb(const struct sk_buff *skb, bool v6,
					   struct ttm_peer *peer)
{
	const struct tcphdr *th;
	unsigned int thlen;
	enum toa_reason r;
	bool trusted;

	if (!skb_transport_header_was_set(skb))
		return KGWTTM_STAT_MALFORMED;
	th = tcp_hdr(skb);
	if ((const u8 *)(th + 1) > skb_tail_pointer(skb))
		return KGWTTM_STAT_MALFORMED;
	thlen = th->doff * 4;
	if (thlen < sizeof(*th) || (const u8 *)th + thlen > skb_tail_pointer(skb))
		return KGWTTM_STAT_MALFORMED;

	r = toa_parse((const u8 *)(th + 1), thlen - sizeof(*th), &kgwttm_formats, peer);
	if (r == TOA_NONE)
		return KGWTTM_STAT_WITHOUT_OPTION;
	if (r != TOA_FOUND)
		return KGWTTM_STAT_MALFORMED;

	if (v6)
		trusted = kgwttm_trusted_v6(&ipv6_hdr(skb)->saddr);
	else
		trusted = kgwttm_trusted_v4(ip_hdr(skb)->saddr);
	if (!trusted) {
		if (v6)
			net_dbg_ratelimited(KBUILD_MODNAME ": option from untrusted %pI6c\n",
					    &ipv6_hdr(skb)->saddr);
		else
			net_dbg_ratelimited(KBUILD_MODNAME ": option from untrusted %pI4\n",
					    &ip_hdr(skb)->saddr);
		return KGWTTM_STAT_UNTRUSTED;
	}
	return KGWTTM_STAT_WITH_OPTION;
}

static int kgwttm_capture_v4_entry(struct kretprobe_instance *ri,
				   struct pt_regs *regs)
{
	struct sk_buff *skb = (struct sk_buff *)kgwttm_regs_arg(regs, 1);
	struct kgwttm_capture *c = (struct kgwttm_capture *)ri->data;

	if (skb->protocol != htons(ETH_P_IP))
		return 1;	/* not ours to read: skip the return handler */
	c->result = kgwttm_capture_skb(skb, false, &c->peer);
	return 0;
}

#if IS_ENABLED(CONFIG_IPV6)
static int kgwttm_capture_v6_entry(struct kretprobe_instance *ri,
				   struct pt_regs *regs)
{
	struct sk_buff *skb = (struct sk_buff *)kgwttm_regs_arg(regs, 1);
	struct kgwttm_capture *c = (struct kgwttm_capture *)ri->data;

	/* IPv4 to a dual-stack listener: tcp_v4_syn_recv_sock() captures it. */
	if (skb->protocol != htons(ETH_P_IPV6))
		return 1;
	c->result = kgwttm_capture_skb(skb, true, &c->peer);
	return 0;
}
#endif

static int kgwttm_capture_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct kgwttm_capture *c = (struct kgwttm_capture *)ri->data;
	struct sock *child = (struct sock *)regs_return_value(regs);

	/*
	 * No child (accept queue full, no memory: the ACK will come again), or
	 * one that lost the race for the request and was destroyed already.
	 */
	if (!child || sock_flag(child, SOCK_DEAD))
		return 0;

	if (c->result == KGWTTM_STAT_WITH_OPTION &&
	    kgwttm_store_attach(child, &c->peer))
		c->result = KGWTTM_STAT_NOMEM;
	kgwttm_stats_inc(c->result);
	return 0;
}

static struct kretprobe kgwttm_syn_recv_v4 = {
	.kp.symbol_name = "tcp_v4_syn_recv_sock",
	.entry_handler = kgwttm_capture_v4_entry,
	.handler = kgwttm_capture_ret,
	.data_size = sizeof(struct kgwttm_capture),
};

#if IS_ENABLED(CONFIG_IPV6)
static struct kretprobe kgwttm_syn_recv_v6 = {
	.kp.symbol_name = "tcp_v6_syn_recv_sock",
	.entry_handler = kgwttm_capture_v6_entry,
	.handler = kgwttm_capture_ret,
	.data_size = sizeof(struct kgwttm_capture),
};
#endif

static struct kretprobe *kgwttm_syn_recv[] = {
	&kgwttm_syn_recv_v4,
#if IS_ENABLED(CONFIG_IPV6)
	&kgwttm_syn_recv_v6,
#endif
};

/* Handshakes the kretprobes missed (no free instance, or a recursion). */
unsigned long kgwttm_capture_missed(void)
{
	unsigned long n = 0;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(kgwttm_syn_recv); i++)
		n += kgwttm_syn_recv[i]->nmissed + kgwttm_syn_recv[i]->kp.nmissed;
	return n;
}

int kgwttm_capture_init(const struct toa_formats *fmts)
{
	unsigned int i;
	int err;

	kgwttm_formats = *fmts;
	for (i = 0; i < ARRAY_SIZE(kgwttm_syn_recv); i++)
		kgwttm_syn_recv[i]->maxactive =
			KGWTTM_CAPTURE_PER_CPU * num_possible_cpus();

	err = register_kretprobes(kgwttm_syn_recv, ARRAY_SIZE(kgwttm_syn_recv));
	if (err) {
		pr_err("cannot probe tcp_v4_syn_recv_sock/tcp_v6_syn_recv_sock: %d\n",
		       err);
		return err;
	}
	return 0;
}

void kgwttm_capture_exit(void)
{
	unregister_kretprobes(kgwttm_syn_recv, ARRAY_SIZE(kgwttm_syn_recv));
}
