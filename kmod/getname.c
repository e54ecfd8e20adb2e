// SPDX-License-Identifier: GPL-2.0
/*
 * accept() and getpeername() return the client: kretprobes on inet_getname()
 * and inet6_getname() rewrite the address the kernel has just written, when
 * the socket has a client and the caller asked for the peer (getsockname,
 * peer == 0, is never touched).
 *
 *	socket     connection       client  result
 *	AF_INET    IPv4 LB->RS      IPv4    client
 *	AF_INET    IPv4 LB->RS      IPv6    LB (a sockaddr_in cannot hold it)
 *	AF_INET6   v4-mapped        IPv4    ::ffff:client
 *	AF_INET6   v4-mapped        IPv6    LB (keeps the connection's family)
 *	AF_INET6   IPv6 LB->RS      IPv4    ::ffff:client
 *	AF_INET6   IPv6 LB->RS      IPv6    client
 *
 * getsockopt(SOL_IP, optname) answers in every case. rewrite_getname=0
 * leaves the probes unregistered.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/in.h>
#include <linux/in6.h>
#include <linux/kprobes.h>
#include <linux/net.h>
#include <net/ipv6.h>

#include "getname.h"
#include "store.h"

/*
 * inet_getname() sleeps in lock_sock(), so every task inside it holds an
 * instance; a miss returns the LB's address (and is counted).
 */
#define KGWTTM_GETNAME_PER_CPU	32
#define KGWTTM_GETNAME_MIN	256

struct kgwttm_getname_call {
	struct socket *sock;
	struct sockaddr *uaddr;
};

static bool kgwttm_getname_enabled;

static int kgwttm_getname_entry(struct kretprobe_instance *ri,
				struct pt_regs *regs)
{
	struct kgwttm_getname_call *c = (struct kgwttm_getname_call *)ri->data;
	struct socket *sock = (struct socket *)kgwttm_regs_arg(regs, 0);

	/*
	 * getsockname(), not a stream socket, or a socket that cannot have a
	 * client: skip the return handler.
	 */
	if (!kgwttm_regs_arg(regs, 2) || sock->type != SOCK_STREAM ||
	    !sock->sk || !kgwttm_store_may_hold(sock->sk))
		return 1;
	c->sock = sock;
	c->uaddr = (struct sockaddr *)kgwttm_regs_arg(regs, 1);
	return 0;
}

static int kgwttm_getname4_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct kgwttm_getname_call *c = (struct kgwttm_getname_call *)ri->data;
	struct sockaddr_in *sin = (struct sockaddr_in *)c->uaddr;
	struct ttm_peer peer;

	if ((int)regs_return_value(regs) < (int)sizeof(*sin))
		return 0;	/* -ENOTCONN */
	if (!kgwttm_store_get(c->sock->sk, &peer) || peer.af != AF_INET)
		return 0;
	sin->sin_addr.s_addr = peer.ip;
	sin->sin_port = peer.port;
	return 0;
}

static int kgwttm_getname6_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct kgwttm_getname_call *c = (struct kgwttm_getname_call *)ri->data;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)c->uaddr;
	struct ttm_peer peer;

	if ((int)regs_return_value(regs) < (int)sizeof(*sin6))
		return 0;
	if (!kgwttm_store_get(c->sock->sk, &peer))
		return 0;
	if (peer.af == AF_INET)
		ipv6_addr_set_v4mapped(peer.ip, &sin6->sin6_addr);
	else if (!ipv6_addr_v4mapped(&sin6->sin6_addr))
		memcpy(&sin6->sin6_addr, peer.ip6, sizeof(sin6->sin6_addr));
	else
		return 0;
	sin6->sin6_port = peer.port;
	sin6->sin6_scope_id = 0;	/* the client is not on our link */
	return 0;
}

static struct kretprobe kgwttm_getname4 = {
	.kp.symbol_name = "inet_getname",
	.entry_handler = kgwttm_getname_entry,
	.handler = kgwttm_getname4_ret,
	.data_size = sizeof(struct kgwttm_getname_call),
};

#if IS_ENABLED(CONFIG_IPV6)
static struct kretprobe kgwttm_getname6 = {
	.kp.symbol_name = "inet6_getname",
	.entry_handler = kgwttm_getname_entry,
	.handler = kgwttm_getname6_ret,
	.data_size = sizeof(struct kgwttm_getname_call),
};
#endif

static struct kretprobe *kgwttm_getname[] = {
	&kgwttm_getname4,
#if IS_ENABLED(CONFIG_IPV6)
	&kgwttm_getname6,
#endif
};

unsigned long kgwttm_getname_missed(void)
{
	unsigned long n = 0;
	unsigned int i;

	if (!kgwttm_getname_enabled)
		return 0;
	for (i = 0; i < ARRAY_SIZE(kgwttm_getname); i++)
		n += kgwttm_getname[i]->nmissed + kgwttm_getname[i]->kp.nmissed;
	return n;
}

int kgwttm_getname_init(bool enabled)
{
	unsigned int i;
	int err;

	if (!enabled)
		return 0;
	for (i = 0; i < ARRAY_SIZE(kgwttm_getname); i++)
		kgwttm_getname[i]->maxactive =
			max_t(int, KGWTTM_GETNAME_MIN,
			      KGWTTM_GETNAME_PER_CPU * num_possible_cpus());
	err = register_kretprobes(kgwttm_getname, ARRAY_SIZE(kgwttm_getname));
	if (err) {
		pr_err("cannot probe inet_getname/inet6_getname: %d\n", err);
		return err;
	}
	kgwttm_getname_enabled = true;
	return 0;
}

void kgwttm_getname_exit(void)
{
	if (!kgwttm_getname_enabled)
		return;
	unregister_kretprobes(kgwttm_getname, ARRAY_SIZE(kgwttm_getname));
	kgwttm_getname_enabled = false;
}
