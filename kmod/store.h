/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KGWTTM_STORE_H
#define _KGWTTM_STORE_H

#include <net/sock.h>

#include "uapi/kgwttm.h"

int kgwttm_store_init(void);
void kgwttm_store_exit(void);
int kgwttm_store_attach(struct sock *sk, const struct ttm_peer *peer);
void kgwttm_store_detach(const struct sock *sk);
bool kgwttm_store_get(struct sock *sk, struct ttm_peer *peer);
long kgwttm_store_live(void);
unsigned int kgwttm_store_entry_bytes(void);

#endif /* _KGWTTM_STORE_H */
