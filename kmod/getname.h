/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef _KGWTTM_GETNAME_H
#define _KGWTTM_GETNAME_H

#include <linux/types.h>

int kgwttm_getname_init(bool enabled);
void kgwttm_getname_exit(void);
unsigned long kgwttm_getname_missed(void);

#endif /* _KGWTTM_GETNAME_H */
