/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef _KGWTTM_STORE_H
#define _KGWTTM_STORE_H

#include <linux/in6.h>
#include <net/sock.h>

#include "uapi/kgwttm.h"

/*
 * Whether @sk may have an entry. attach generates the socket's cookie, and a
 * new socket has none (sk_clone_lock clears it): a socket whose cookie was
 * never generated has no entry, and that is most sockets (only sock_diag,
 * SO_COOKIE and BPF programs ask for one). Their destroy, getpeername and
 * getsockopt skip the hash lookup.
 */
static inline bool kgwttm_store_may_hold(const struct sock *sk)
{
	return atomic64_read(&sk->sk_cookie) != 0;
}

int kgwttm_store_init(void);
void kgwttm_store_exit(void);
int kgwttm_store_attach(struct sock *sk, const struct ttm_peer *peer);
void kgwttm_store_detach(const struct sock *sk);
bool kgwttm_store_get(struct sock *sk, struct ttm_peer *peer);
long kgwttm_store_live(void);
unsigned int kgwttm_store_entry_bytes(void);

#endif /* _KGWTTM_STORE_H */
