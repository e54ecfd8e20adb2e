// SPDX-License-Identifier: GPL-2.0-only
/*
 * Capture: read the client from the ACK that completes the handshake and
 * attach it to the child socket that ACK creates.
 *
 * Two hooks inside the same tcp_v{4,6}_syn_recv_sock() call:
 * - a kprobe at its entry parses the ACK (argument 1; tcp_v4_rcv/tcp_v6_rcv
 *   have already pulled the whole TCP header into the linear area) and, for a
 *   client it will keep, gives the request sock (argument 2) a cookie, which
 *   inet_csk_clone_lock() copies into the child;
 * - the sock:inet_sock_set_state tracepoint fires when inet_csk_clone_lock()
 *   makes the child (LISTEN -> SYN_RECV, before the child is hashed or
 *   queued for accept), and attaches the client to it.
 * A per-CPU slot carries the result from one to the other. Both run on the
 * same CPU with nothing in between but the clone: in softirq, or for a
 * SYN-cookie ACK from a listener's backlog. Should a task be preempted and
 * moved between them, the child gets another connection's slot, whose
 * cookie and LB address do not match it: lookups then answer "no client",
 * never someone else's.
 *
 * A kretprobe, which sees the child as the return value, does the same with
 * one hook, but its return trampoline and instance pool cost more on every
 * handshake than the parse and the store together; a tracepoint probe is a
 * direct call.
 *
 * Both hooks run for SYN-cookie connections (cookie_v{4,6}_check go through
 * syn_recv_sock). For an IPv4 connection to a dual-stack listener,
 * tcp_v6_syn_recv_sock() calls tcp_v4_syn_recv_sock(): the v6 kprobe leaves
 * IPv4 skbs to the v4 one, so each connection is parsed once. A TCP Fast Open
 * child is made from the SYN (tcp_fastopen_create_child), so for those the
 * option is read from the SYN.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/kprobes.h>
#include <linux/net.h>
#include <linux/percpu.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <net/ipv6.h>
#include <net/sock.h>
#include <net/tcp_states.h>

#include "capture.h"
#include "find_tracepoint.h"
#include "stats.h"
#include "store.h"
#include "trust.h"

/* What the kprobe found, for the clone that follows it on this CPU. */
struct kgwttm_pending {
	bool valid;
	enum kgwttm_stat result;
	struct ttm_peer peer;
	struct kgwttm_owner owner;
};

static DEFINE_PER_CPU(struct kgwttm_pending, kgwttm_pending);

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

/* The ACK's source: the LB, which will be the child's peer. */
static void kgwttm_capture_owner(const struct sk_buff *skb, bool v6,
				 struct sock *req, struct kgwttm_owner *o)
{
	o->remote_port = tcp_hdr(skb)->source;
	if (v6)
		o->remote = ipv6_hdr(skb)->saddr;
	else
		ipv6_addr_set_v4mapped(ip_hdr(skb)->saddr, &o->remote);
	/* Generated on the request, inherited by the child (clone copies it). */
	sock_diag_save_cookie(req, o->cookie);
}

static void kgwttm_capture_ack(struct pt_regs *regs, bool v6)
{
	struct sk_buff *skb = (struct sk_buff *)kgwttm_regs_arg(regs, 1);
	struct sock *req = (struct sock *)kgwttm_regs_arg(regs, 2);
	struct kgwttm_pending *p = this_cpu_ptr(&kgwttm_pending);

	p->result = kgwttm_capture_skb(skb, v6, &p->peer);
	if (p->result == KGWTTM_STAT_WITH_OPTION)
		kgwttm_capture_owner(skb, v6, req, &p->owner);
	p->valid = true;
}

static int kgwttm_capture_v4(struct kprobe *kp, struct pt_regs *regs)
{
	const struct sk_buff *skb = (struct sk_buff *)kgwttm_regs_arg(regs, 1);

	if (skb->protocol == htons(ETH_P_IP))
		kgwttm_capture_ack(regs, false);
	return 0;
}

#if IS_ENABLED(CONFIG_IPV6)
static int kgwttm_capture_v6(struct kprobe *kp, struct pt_regs *regs)
{
	const struct sk_buff *skb = (struct sk_buff *)kgwttm_regs_arg(regs, 1);

	/* IPv4 to a dual-stack listener: tcp_v4_syn_recv_sock()'s kprobe has it. */
	if (skb->protocol == htons(ETH_P_IPV6))
		kgwttm_capture_ack(regs, true);
	return 0;
}
#endif

/*
 * sock:inet_sock_set_state, for every state change of every socket: only a
 * TCP child being cloned from its listener is ours.
 */
static void kgwttm_capture_clone(void *data, const struct sock *sk,
				 int oldstate, int newstate)
{
	struct kgwttm_pending *p;
	enum kgwttm_stat result;

	if (newstate != TCP_SYN_RECV || oldstate != TCP_LISTEN ||
	    sk->sk_protocol != IPPROTO_TCP)
		return;
	p = this_cpu_ptr(&kgwttm_pending);
	if (!p->valid)
		return;
	p->valid = false;
	result = p->result;
	if (result == KGWTTM_STAT_WITH_OPTION &&
	    kgwttm_store_attach((struct sock *)sk, &p->peer, &p->owner))
		result = KGWTTM_STAT_NOMEM;
	kgwttm_stats_inc(result);
}

static struct kprobe kgwttm_syn_recv_v4 = {
	.symbol_name = "tcp_v4_syn_recv_sock",
	.pre_handler = kgwttm_capture_v4,
};

#if IS_ENABLED(CONFIG_IPV6)
static struct kprobe kgwttm_syn_recv_v6 = {
	.symbol_name = "tcp_v6_syn_recv_sock",
	.pre_handler = kgwttm_capture_v6,
};
#endif

static struct kprobe *kgwttm_syn_recv[] = {
	&kgwttm_syn_recv_v4,
#if IS_ENABLED(CONFIG_IPV6)
	&kgwttm_syn_recv_v6,
#endif
};

#define KGWTTM_CLONE_TRACEPOINT	"inet_sock_set_state"

static struct tracepoint *kgwttm_clone_tp;

/* Handshakes the kprobes missed (one hit while another ran on this CPU). */
unsigned long kgwttm_capture_missed(void)
{
	unsigned long n = 0;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(kgwttm_syn_recv); i++)
		n += kgwttm_syn_recv[i]->nmissed;
	return n;
}

int kgwttm_capture_init(const struct toa_formats *fmts)
{
	int err;

	kgwttm_formats = *fmts;
	kgwttm_clone_tp = kgwttm_tracepoint(KGWTTM_CLONE_TRACEPOINT);
	if (!kgwttm_clone_tp) {
		pr_err("no tracepoint sock:%s in this kernel\n", KGWTTM_CLONE_TRACEPOINT);
		return -ENOENT;
	}
	err = tracepoint_probe_register(kgwttm_clone_tp, kgwttm_capture_clone, NULL);
	if (err) {
		pr_err("cannot hook tracepoint sock:%s: %d\n", KGWTTM_CLONE_TRACEPOINT, err);
		return err;
	}
	err = register_kprobes(kgwttm_syn_recv, ARRAY_SIZE(kgwttm_syn_recv));
	if (err) {
		pr_err("cannot probe tcp_v4_syn_recv_sock/tcp_v6_syn_recv_sock: %d\n",
		       err);
		tracepoint_probe_unregister(kgwttm_clone_tp, kgwttm_capture_clone, NULL);
		tracepoint_synchronize_unregister();
		return err;
	}
	return 0;
}

/* After it, no capture runs: store.c may free every entry. */
void kgwttm_capture_exit(void)
{
	unregister_kprobes(kgwttm_syn_recv, ARRAY_SIZE(kgwttm_syn_recv));
	tracepoint_probe_unregister(kgwttm_clone_tp, kgwttm_capture_clone, NULL);
	tracepoint_synchronize_unregister();
}
