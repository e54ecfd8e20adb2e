/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef _KGWTTM_TRUST_H
#define _KGWTTM_TRUST_H

#include <linux/in6.h>
#include <linux/types.h>

int kgwttm_trust_init(const char *nets);
void kgwttm_trust_exit(void);
bool kgwttm_trusted_v4(__be32 addr);
bool kgwttm_trusted_v6(const struct in6_addr *addr);

#endif /* _KGWTTM_TRUST_H */
