// SPDX-License-Identifier: GPL-2.0
/*
 * getsockopt(fd, SOL_IP, optname, &peer, &len): the stored client, modelled on
 * getorigdst() (SO_ORIGINAL_DST). ip_getsockopt() hands optnames it does not
 * know to nf_getsockopt(), for AF_INET sockets and (via ipv6_getsockopt's
 * SOL_IP path) AF_INET6 ones, so one PF_INET registration serves both.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/in.h>
#include <linux/mroute.h>
#include <linux/module.h>
#include <linux/netfilter.h>
#include <linux/uaccess.h>
#include <net/sock.h>

#include "sockopt.h"
#include "store.h"

/* Below 64 are the IP_* options themselves; ip_getsockopt never passes them on. */
#define KGWTTM_OPTNAME_MIN	64

static int kgwttm_sockopt_get(struct sock *sk, int optval, void __user *user,
			      int *len)
{
	struct ttm_peer peer;

	if (*len < 0 || (unsigned int)*len < sizeof(peer))
		return -EINVAL;
	if (sk->sk_protocol != IPPROTO_TCP || !kgwttm_store_get(sk, &peer))
		return -ENOENT;
	if (copy_to_user(user, &peer, sizeof(peer)))
		return -EFAULT;
	*len = sizeof(peer);
	return 0;
}

static struct nf_sockopt_ops kgwttm_sockopt_ops = {
	.pf = PF_INET,
	.get = kgwttm_sockopt_get,
	.owner = THIS_MODULE,
};

int kgwttm_sockopt_init(int optname)
{
	int err;

	if (optname < KGWTTM_OPTNAME_MIN || optname == INT_MAX ||
	    ip_mroute_opt(optname)) {
		pr_err("optname=%d: must be at least %d and not a multicast-routing option\n",
		       optname, KGWTTM_OPTNAME_MIN);
		return -EINVAL;
	}
	kgwttm_sockopt_ops.get_optmin = optname;
	kgwttm_sockopt_ops.get_optmax = optname + 1;
	err = nf_register_sockopt(&kgwttm_sockopt_ops);
	if (err == -EBUSY)
		pr_err("getsockopt(SOL_IP, %d) is already registered by another module (Alibaba's vtoa holds 1344-1347): unload it, or load kgwttm with optname=<free number> and use that number in applications\n",
		       optname);
	else if (err)
		pr_err("nf_register_sockopt(%d): %d\n", optname, err);
	return err;
}

void kgwttm_sockopt_exit(void)
{
	nf_unregister_sockopt(&kgwttm_sockopt_ops);
}
