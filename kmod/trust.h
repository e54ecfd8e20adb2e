/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KGWTTM_TRUST_H
#define _KGWTTM_TRUST_H

#include <linux/in6.h>
#include <linux/types.h>

/*
 * A load balancer's local IPs are private VPC addresses (RFC 1918, RFC 6598
 * shared space, IPv6 ULA); a client on the internet that reaches the host
 * directly cannot send from them, so it cannot forge its address.
 */
#define KGWTTM_TRUSTED_NETS_DEFAULT \
	"10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,100.64.0.0/10,fc00::/7"

int kgwttm_trust_init(const char *nets);
void kgwttm_trust_exit(void);
bool kgwttm_trusted_v4(__be32 addr);
bool kgwttm_trusted_v6(const struct in6_addr *addr);

#endif /* _KGWTTM_TRUST_H */
