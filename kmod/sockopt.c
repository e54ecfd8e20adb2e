// SPDX-License-Identifier: GPL-2.0-only
/*
 * getsockopt(fd, SOL_IP, optname, &peer, &len): the stored client, modelled on
 * getorigdst() (SO_ORIGINAL_DST). ip_getsockopt() hands optnames it does not
 * know to nf_getsockopt(), for AF_INET sockets and (via ipv6_getsockopt's
 * SOL_IP path) AF_INET6 ones, so one PF_INET registration serves both.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/in.h>
#include <linux/kernel.h>
#include <linux/mroute.h>
#include <linux/module.h>
#include <linux/netfilter.h>
#include <linux/uaccess.h>
#include <net/sock.h>

#include "sockopt.h"
#include "store.h"

/* Below 64 are the IP_* options themselves; ip_getsockopt never passes them on. */
#define KGWTTM_OPTNAME_MIN	64

/*
 * PF_INET optnames the kernel's own modules register with
 * nf_register_sockopt(). Whichever module loads first takes the range and
 * the other fails with -EBUSY, so a kgwttm loaded early at boot would break
 * the firewall: these are refused outright. (ip6tables registers PF_INET6
 * and does not collide.)
 */
static const struct {
	int min, max;		/* inclusive */
	const char *owner;
} kgwttm_kernel_optnames[] = {
	{ 64, 67, "iptables (IPT_SO_*)" },
	{ 80, 80, "conntrack (SO_ORIGINAL_DST)" },
	{ 96, 99, "arptables (ARPT_SO_*)" },
	{ 128, 131, "ebtables (EBT_SO_*)" },
	{ 1152, 1167, "IPVS (IP_VS_SO_*)" },
};

static const char *kgwttm_optname_owner(int optname)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(kgwttm_kernel_optnames); i++)
		if (optname >= kgwttm_kernel_optnames[i].min &&
		    optname <= kgwttm_kernel_optnames[i].max)
			return kgwttm_kernel_optnames[i].owner;
	if (ip_mroute_opt(optname))
		return "multicast routing (MRT_*)";
	return NULL;
}

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
	const char *owner;
	int err;

	if (optname < KGWTTM_OPTNAME_MIN || optname == INT_MAX) {
		pr_err("optname=%d: must be at least %d (below are the IP_* options)\n",
		       optname, KGWTTM_OPTNAME_MIN);
		return -EINVAL;
	}
	owner = kgwttm_optname_owner(optname);
	if (owner) {
		pr_err("optname=%d belongs to %s: pick a number outside the kernel's own ranges (the default is %d)\n",
		       optname, owner, KGWTTM_SO_GET_PEER);
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
