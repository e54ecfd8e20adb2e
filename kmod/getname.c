// SPDX-License-Identifier: GPL-2.0-only
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
 * leaves the probes unregistered. Kernel threads (nfsd, OCFS2) always get
 * the connection's own peer.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/in.h>
#include <linux/in6.h>
#include <linux/kprobes.h>
#include <linux/net.h>
#include <linux/sched.h>
#include <net/inet_sock.h>
#include <net/ipv6.h>

#include "getname.h"
#include "store.h"

/*
 * The entry handlers decide, with the real lookup, and take an instance past
 * them only for a connection whose peer they will rewrite: inet_getname()
 * sleeps in lock_sock(), and an instance held across that sleep for every
 * caller would let a flood of getpeername() calls on untracked sockets (any
 * user can give one a cookie with SO_COOKIE) use them all up. A miss returns
 * the LB's address (and is counted).
 */
#define KGWTTM_GETNAME_PER_CPU	32
#define KGWTTM_GETNAME_MIN	256

struct kgwttm_getname_call {
	struct sockaddr *uaddr;
	struct ttm_peer peer;		/* what to write */
	struct in6_addr lb;		/* the peer the kernel should write: the LB */
	__be16 lb_port;
};

static bool kgwttm_getname_enabled;

/*
 * Whether this call asks a user task for the peer of a connection with a
 * client; if so, c->peer holds it. Kernel threads see the true peer: nfsd
 * (svc_tcp_accept) and OCFS2 decide access on kernel_getpeername().
 */
static bool kgwttm_getname_wanted(struct pt_regs *regs,
				  struct kgwttm_getname_call *c)
{
	struct socket *sock = (struct socket *)kgwttm_regs_arg(regs, 0);

	/* peer is an int: getsockname() passes 0, and the upper half is junk. */
	if (!(int)kgwttm_regs_arg(regs, 2) || (current->flags & PF_KTHREAD))
		return false;
	if (sock->type != SOCK_STREAM || !sock->sk ||
	    !kgwttm_store_get(sock->sk, &c->peer))
		return false;
	c->uaddr = (struct sockaddr *)kgwttm_regs_arg(regs, 1);
	c->lb_port = inet_sk(sock->sk)->inet_dport;
	return true;
}

static int kgwttm_getname4_entry(struct kretprobe_instance *ri,
				 struct pt_regs *regs)
{
	struct kgwttm_getname_call *c = (struct kgwttm_getname_call *)ri->data;
	struct socket *sock = (struct socket *)kgwttm_regs_arg(regs, 0);

	/* An IPv6 client does not fit a sockaddr_in: the LB stays. */
	if (!kgwttm_getname_wanted(regs, c) || c->peer.af != AF_INET)
		return 1;	/* skip the return handler, free the instance */
	ipv6_addr_set_v4mapped(inet_sk(sock->sk)->inet_daddr, &c->lb);
	return 0;
}

/*
 * The socket may have been disconnected and reconnected while inet_getname()
 * slept: rewrite only an answer that is still the LB the entry handler saw.
 */
static int kgwttm_getname4_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct kgwttm_getname_call *c = (struct kgwttm_getname_call *)ri->data;
	struct sockaddr_in *sin = (struct sockaddr_in *)c->uaddr;

	if ((int)regs_return_value(regs) < (int)sizeof(*sin))
		return 0;	/* -ENOTCONN */
	if (sin->sin_port != c->lb_port || sin->sin_addr.s_addr != c->lb.s6_addr32[3])
		return 0;
	sin->sin_addr.s_addr = c->peer.ip;
	sin->sin_port = c->peer.port;
	return 0;
}

#if IS_ENABLED(CONFIG_IPV6)
static int kgwttm_getname6_entry(struct kretprobe_instance *ri,
				 struct pt_regs *regs)
{
	struct kgwttm_getname_call *c = (struct kgwttm_getname_call *)ri->data;
	struct socket *sock = (struct socket *)kgwttm_regs_arg(regs, 0);

	if (!kgwttm_getname_wanted(regs, c))
		return 1;
	c->lb = sock->sk->sk_v6_daddr;
	/* An IPv6 client of an IPv4 connection: keep the connection's family. */
	if (c->peer.af == AF_INET6 && ipv6_addr_v4mapped(&c->lb))
		return 1;
	return 0;
}

static int kgwttm_getname6_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct kgwttm_getname_call *c = (struct kgwttm_getname_call *)ri->data;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)c->uaddr;

	if ((int)regs_return_value(regs) < (int)sizeof(*sin6))
		return 0;
	if (sin6->sin6_port != c->lb_port || !ipv6_addr_equal(&sin6->sin6_addr, &c->lb))
		return 0;
	if (c->peer.af == AF_INET)
		ipv6_addr_set_v4mapped(c->peer.ip, &sin6->sin6_addr);
	else
		memcpy(&sin6->sin6_addr, c->peer.ip6, sizeof(sin6->sin6_addr));
	sin6->sin6_port = c->peer.port;
	sin6->sin6_scope_id = 0;	/* the client is not on our link */
	return 0;
}
#endif

static struct kretprobe kgwttm_getname4 = {
	.kp.symbol_name = "inet_getname",
	.entry_handler = kgwttm_getname4_entry,
	.handler = kgwttm_getname4_ret,
	.data_size = sizeof(struct kgwttm_getname_call),
};

#if IS_ENABLED(CONFIG_IPV6)
static struct kretprobe kgwttm_getname6 = {
	.kp.symbol_name = "inet6_getname",
	.entry_handler = kgwttm_getname6_entry,
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
