// SPDX-License-Identifier: GPL-2.0-only
/*
 * Which sources may speak for a client: the trusted_nets= CIDR list. An ACK
 * from anywhere else could come from the client itself, so its option is
 * ignored (and counted as untrusted). The list is parsed once at load and
 * only read afterwards.
 *
 * The list is empty unless the operator sets it, as nginx's realip trusts
 * nobody until set_real_ip_from: the probes see every network namespace and
 * the list is host-wide, so a default such as "every private network" would
 * let a container on this host, or any other VM in the VPC, write a client
 * address into every TCP server here, 127.0.0.1 included.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/inet.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/socket.h>
#include <linux/string.h>

#include "trust.h"

/* More LB subnets than any deployment has; keeps the per-ACK scan short. */
#define KGWTTM_TRUST_MAX	32

/*
 * A network as the words an address is compared with: the address under
 * the mask equals addr. Every ACK with an option checks its source against
 * each network in turn, so a match is one AND and one compare per 32 bits,
 * not a byte-wise memcmp() of the prefix.
 */
struct kgwttm_net {
	u8 af;
	__be32 addr[4];			/* host bits zero; IPv4 in addr[0] */
	__be32 mask[4];
};

static struct kgwttm_net kgwttm_nets[KGWTTM_TRUST_MAX] __read_mostly;
static unsigned int kgwttm_nets_n __read_mostly;

bool kgwttm_trusted_v4(__be32 addr)
{
	unsigned int i;

	for (i = 0; i < kgwttm_nets_n; i++) {
		const struct kgwttm_net *n = &kgwttm_nets[i];

		if (n->af == AF_INET && (addr & n->mask[0]) == n->addr[0])
			return true;
	}
	return false;
}

bool kgwttm_trusted_v6(const struct in6_addr *addr)
{
	const __be32 *a = addr->s6_addr32;
	unsigned int i;

	for (i = 0; i < kgwttm_nets_n; i++) {
		const struct kgwttm_net *n = &kgwttm_nets[i];

		if (n->af == AF_INET6 &&
		    (a[0] & n->mask[0]) == n->addr[0] && (a[1] & n->mask[1]) == n->addr[1] &&
		    (a[2] & n->mask[2]) == n->addr[2] && (a[3] & n->mask[3]) == n->addr[3])
			return true;
	}
	return false;
}

/*
 * "a.b.c.d/n", "x::y/n" or a bare address (a host route) into @n.
 * Returns 1 for a /0 (every source of that family), 0, or -EINVAL.
 */
static int kgwttm_parse_net(const char *s, struct kgwttm_net *n)
{
	const char *slash = strchr(s, '/');
	int len = slash ? slash - s : strlen(s);
	unsigned int plen, max, w;
	const char *end;

	memset(n, 0, sizeof(*n));
	if (memchr(s, ':', len)) {
		n->af = AF_INET6;
		max = 128;
		if (!in6_pton(s, len, (u8 *)n->addr, -1, &end) || end != s + len)
			return -EINVAL;
	} else {
		n->af = AF_INET;
		max = 32;
		if (!in4_pton(s, len, (u8 *)n->addr, -1, &end) || end != s + len)
			return -EINVAL;
	}
	if (!slash)
		plen = max;
	else if (kstrtouint(slash + 1, 10, &plen) || plen > max)
		return -EINVAL;

	for (w = 0; w < max / 32; w++) {
		unsigned int bits = clamp_t(int, (int)plen - 32 * (int)w, 0, 32);

		n->mask[w] = bits ? htonl(~0U << (32 - bits)) : 0;
		/* Bits past the prefix are a typo for another network ("10.1.0.0/8"). */
		if (n->addr[w] & ~n->mask[w])
			return -EINVAL;
	}
	return plen == 0;
}

static int kgwttm_trust_add(const char *net, bool *everyone)
{
	int r;

	if (kgwttm_nets_n == KGWTTM_TRUST_MAX) {
		pr_err("trusted_nets: more than %d networks\n", KGWTTM_TRUST_MAX);
		return -EINVAL;
	}
	r = kgwttm_parse_net(net, &kgwttm_nets[kgwttm_nets_n]);
	if (r < 0) {
		pr_err("trusted_nets: \"%s\" is not an IPv4 or IPv6 CIDR (a.b.c.d/n or x:y::/n, no host bits set)\n",
		       net);
		return r;
	}
	*everyone |= r;
	kgwttm_nets_n++;
	return 0;
}

int kgwttm_trust_init(const char *nets)
{
	bool everyone = false;
	char *copy, *p, *tok;
	int err = 0;

	copy = kstrdup(nets, GFP_KERNEL);
	if (!copy)
		return -ENOMEM;
	kgwttm_nets_n = 0;
	p = copy;
	while (!err && (tok = strsep(&p, ",")) != NULL) {
		tok = strim(tok);
		if (!*tok)
			continue;
		if (!strcmp(tok, "any"))
			err = kgwttm_trust_add("0.0.0.0/0", &everyone) ?:
			      kgwttm_trust_add("::/0", &everyone);
		else
			err = kgwttm_trust_add(tok, &everyone);
	}
	kfree(copy);
	if (err)
		return err;
	if (!kgwttm_nets_n)
		pr_warn("trusted_nets is empty: every client address option is ignored; set trusted_nets=<your load balancers' local-IP networks> (e.g. in /etc/modprobe.d/kgwttm.conf)\n");
	if (everyone)
		pr_warn("trusted_nets=%s trusts every source address: a client that reaches this host directly can forge its address\n",
			nets);
	return 0;
}

void kgwttm_trust_exit(void)
{
	kgwttm_nets_n = 0;
}
