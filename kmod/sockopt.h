/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef _KGWTTM_SOCKOPT_H
#define _KGWTTM_SOCKOPT_H

int kgwttm_sockopt_init(int optname);
void kgwttm_sockopt_exit(void);

#endif /* _KGWTTM_SOCKOPT_H */
