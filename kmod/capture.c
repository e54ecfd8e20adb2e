// SPDX-License-Identifier: GPL-2.0-only
/*
 * Capture: read the client from the ACK that completes the handshake and
 * attach it to the child socket that ACK has made.
 *
 * One kprobe, at the entry of tcp_child_process(parent, child, skb): the
 * receive path calls it once per new connection, right after
 * tcp_check_req() (or, for a SYN-cookie ACK, cookie_v{4,6}_check()) has made
 * the child from that ACK and queued it for accept(). Both the child and the
 * ACK are its arguments, so nothing has to be carried from one hook to
 * another, and sockets that never get that far (a child discarded because
 * another CPU won the request, an accept queue overflow) are never seen.
 * The child is still bh-locked from its clone until tcp_child_process()
 * returns, and inet_accept() locks it: no application can ask for the
 * client before it is stored. tcp_v4_rcv() and tcp_v6_rcv() both call it
 * (an IPv4 connection to a dual-stack listener comes through tcp_v4_rcv),
 * so each connection is parsed once whatever the listener's family.
 *
 * The entry kprobe sits on the ftrace call site (no breakpoint, no single
 * step) and runs once per accepted connection. The hooks it replaces, a
 * kprobe on tcp_v{4,6}_syn_recv_sock and the sock:inet_sock_set_state
 * tracepoint to find the clone, cost a tracepoint call on every TCP state
 * change of every socket, about ten per connection.
 *
 * A TCP Fast Open child is made from the SYN (tcp_fastopen_create_child)
 * and never goes through tcp_child_process(): it is not captured (not
 * counted; getsockopt says ENOENT). The functions that see it with its SYN
 * are either inlined into tcp_try_fastopen() (tcp_fastopen_add_skb, on
 * Debian's 5.10, 6.1 and 6.12 alike: no call site left) or run for every
 * connection (syn_recv_sock, tcp_init_transfer), so hooking them would make
 * every handshake pay for a mode that a FULLNAT LB's clients rarely get
 * through to the backend (kmod/README.md, "Not covered").
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/kprobes.h>
#include <linux/net.h>
#include <linux/tcp.h>
#include <net/ipv6.h>
#include <net/sock.h>
#include <net/tcp_states.h>

#include "capture.h"
#include "stats.h"
#include "store.h"
#include "trust.h"

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

/*
 * tcp_child_process(struct sock *parent, struct sock *child, struct sk_buff *skb):
 * @child was made by @skb, the handshake's final ACK; attach the client it
 * carries.
 */
static int kgwttm_capture_ack(struct kprobe *kp, struct pt_regs *regs)
{
	struct sock *child = (struct sock *)kgwttm_regs_arg(regs, 1);
	const struct sk_buff *skb = (const struct sk_buff *)kgwttm_regs_arg(regs, 2);
	enum kgwttm_stat result;
	struct ttm_peer peer;

	if (child->sk_state != TCP_SYN_RECV || child->sk_protocol != IPPROTO_TCP)
		return 0;
	result = kgwttm_capture_skb(skb, skb->protocol == htons(ETH_P_IPV6), &peer);
	if (result == KGWTTM_STAT_WITH_OPTION && kgwttm_store_attach(child, &peer))
		result = KGWTTM_STAT_NOMEM;
	kgwttm_stats_inc(result);
	return 0;
}

static struct kprobe kgwttm_child_process = {
	.symbol_name = "tcp_child_process",
	.pre_handler = kgwttm_capture_ack,
};

/* Handshakes the kprobe missed (one hit while another ran on this CPU). */
unsigned long kgwttm_capture_missed(void)
{
	return kgwttm_child_process.nmissed;
}

int kgwttm_capture_init(const struct toa_formats *fmts)
{
	int err;

	kgwttm_formats = *fmts;
	err = register_kprobe(&kgwttm_child_process);
	if (err)
		pr_err("cannot probe tcp_child_process: %d\n", err);
	return err;
}

/* After it, no capture runs: store.c may free every entry. */
void kgwttm_capture_exit(void)
{
	unregister_kprobe(&kgwttm_child_process);
}
