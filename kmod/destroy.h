/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef _KGWTTM_DESTROY_H
#define _KGWTTM_DESTROY_H

int kgwttm_destroy_init(void);
void kgwttm_destroy_exit(void);

#endif /* _KGWTTM_DESTROY_H */
