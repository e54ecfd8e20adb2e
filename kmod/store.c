// SPDX-License-Identifier: GPL-2.0-only
/*
 * Per-socket storage: the client of each connection, in a module-owned
 * rhashtable keyed by the struct sock pointer, entries from a module-owned
 * kmem_cache. Lookups run under RCU; an entry is freed when its socket is
 * destroyed (destroy.c's tcp:tcp_destroy_sock probe).
 *
 * The cache is SLAB_TYPESAFE_BY_RCU: a freed entry goes straight back to the
 * cache instead of through call_rcu() (which the instruction-clock profile
 * put at about 0.3 us per connection, the largest cost of the module's own),
 * and its memory stays an entry for as long as a reader may hold it. So a
 * reader can find an entry that is being reused for another socket; it
 * copies the client out first and checks the owner after (the writer sets the
 * owner before the client), so what it keeps is always its own socket's.
 * rhashtable's lookup restarts when an entry moved to another chain under it.
 *
 * No field of struct sock is written (sk_user_data belongs to sockmap, kTLS,
 * SMC, L2TP and sunrpc); the socket's cookie is generated through sock_diag,
 * as ss and BPF programs do. A struct sock is reused once the socket is freed,
 * so an entry also records the socket's cookie and its peer (the LB's
 * address and port): a lookup that finds an entry whose socket is not the
 * one asking, because a destroy was missed or the socket was disconnected
 * and reconnected, answers "no client" rather than someone else's. The peer
 * is kept as an IPv6 address: inet_daddr of a native IPv6 socket is a
 * constant (LOOPBACK4_IPV6), so only sk_v6_daddr tells its peers apart.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hash.h>
#include <linux/rhashtable.h>
#include <linux/slab.h>
#include <linux/sock_diag.h>
#include <net/inet_sock.h>
#include <net/ipv6.h>

#include "store.h"

/*
 * Whom an entry belongs to: what its socket had when the entry was made. A
 * lookup from a socket that does not match (another socket at a reused
 * address, or this one reconnected elsewhere) answers "no client".
 */
struct kgwttm_owner {
	u32 cookie[2];			/* the socket's cookie, as sock_diag keeps it */
	__be16 remote_port;		/* the LB's port */
	struct in6_addr remote;		/* the LB; IPv4 as ::ffff:a.b.c.d */
};

struct kgwttm_entry {
	struct rhash_head node;
	const struct sock *sk;		/* the key */
	struct kgwttm_owner owner;
	struct ttm_peer peer;
};

/*
 * The key is a slab pointer: one multiplication spreads it (hash_64 keeps the
 * high bits, where the product of the pointer's bits lands), where
 * rhashtable's default jhash2 takes a few dozen instructions on every
 * insert, lookup and removal. The table's random seed still goes in.
 */
static u32 kgwttm_store_hash(const void *data, u32 len, u32 seed)
{
	return hash_64((u64)(uintptr_t)*(const struct sock *const *)data ^ seed, 32);
}

static const struct rhashtable_params kgwttm_store_params = {
	.head_offset = offsetof(struct kgwttm_entry, node),
	.key_offset = offsetof(struct kgwttm_entry, sk),
	.key_len = sizeof(const struct sock *),
	.hashfn = kgwttm_store_hash,
	.automatic_shrinking = true,
	/*
	 * Below this many buckets the table neither shrinks nor grows: a
	 * server with a few dozen connections in flight would otherwise
	 * resize (a kworker rehashing every entry, new bucket arrays freed
	 * through RCU) over and over as they come and go. 8 KiB of buckets.
	 */
	.min_size = 1024,
};

static struct rhashtable kgwttm_store;
static struct kmem_cache *kgwttm_entry_cache;
static atomic_long_t kgwttm_live = ATOMIC_LONG_INIT(0);

/* The socket's peer, IPv4 ones as ::ffff:a.b.c.d (as an AF_INET6 socket has them). */
static void kgwttm_remote(const struct sock *sk, struct in6_addr *a)
{
#if IS_ENABLED(CONFIG_IPV6)
	if (sk->sk_family == AF_INET6) {
		*a = sk->sk_v6_daddr;
		return;
	}
#endif
	ipv6_addr_set_v4mapped(inet_sk(sk)->inet_daddr, a);
}

static bool kgwttm_entry_owned_by(const struct kgwttm_entry *e, struct sock *sk)
{
	struct in6_addr remote;

	if (e->owner.remote_port != inet_sk(sk)->inet_dport)
		return false;
	kgwttm_remote(sk, &remote);
	/*
	 * A socket with an entry has its cookie (attach generated it), and a
	 * cookie never changes once set: a plain read, not
	 * sock_diag_check_cookie(), which would try to generate one.
	 */
	return atomic64_read(&sk->sk_cookie) ==
		((u64)e->owner.cookie[1] << 32 | e->owner.cookie[0]) &&
	       ipv6_addr_equal(&e->owner.remote, &remote);
}

/*
 * Called from the handshake (softirq, or a listener's backlog) with the new
 * child socket locked (bh_lock_sock), before accept() can take it: inet_accept
 * locks the child, so it waits for this. The child's addresses are set; its
 * cookie is generated here (it inherited none from its request).
 */
int kgwttm_store_attach(struct sock *sk, const struct ttm_peer *peer)
{
	struct kgwttm_entry *e, *old;
	int err = 0;

	e = kmem_cache_alloc(kgwttm_entry_cache, GFP_ATOMIC);
	if (!e)
		return -ENOMEM;
	e->sk = sk;
	/* Generates the cookie: sock_gen_cookie() is not exported. */
	sock_diag_save_cookie(sk, e->owner.cookie);
	e->owner.remote_port = inet_sk(sk)->inet_dport;
	kgwttm_remote(sk, &e->owner.remote);
	/*
	 * A reader of this memory's previous life checks the owner after it
	 * has copied the client: the new owner must be there first (pairs
	 * with the smp_rmb() in kgwttm_store_get()).
	 */
	smp_wmb();
	e->peer = *peer;

	rcu_read_lock();
	old = rhashtable_lookup_get_insert_fast(&kgwttm_store, &e->node,
						kgwttm_store_params);
	if (IS_ERR(old)) {
		err = PTR_ERR(old);
	} else if (old) {
		/* A dead socket's entry at this address: its destroy was missed. */
		err = rhashtable_replace_fast(&kgwttm_store, &old->node,
					      &e->node, kgwttm_store_params);
		if (!err)
			kmem_cache_free(kgwttm_entry_cache, old);
	} else {
		atomic_long_inc(&kgwttm_live);
	}
	rcu_read_unlock();

	if (err)
		kmem_cache_free(kgwttm_entry_cache, e);
	return err;
}

void kgwttm_store_detach(const struct sock *sk)
{
	struct kgwttm_entry *e;

	if (!kgwttm_store_may_hold(sk))
		return;
	rcu_read_lock();
	e = rhashtable_lookup(&kgwttm_store, &sk, kgwttm_store_params);
	if (e && !rhashtable_remove_fast(&kgwttm_store, &e->node,
					 kgwttm_store_params)) {
		atomic_long_dec(&kgwttm_live);
		kmem_cache_free(kgwttm_entry_cache, e);
	}
	rcu_read_unlock();
}

bool kgwttm_store_get(struct sock *sk, struct ttm_peer *peer)
{
	struct kgwttm_entry *e;
	bool found = false;

	if (!kgwttm_store_may_hold(sk))
		return false;
	rcu_read_lock();
	e = rhashtable_lookup(&kgwttm_store, &sk, kgwttm_store_params);
	if (e) {
		/*
		 * The client, then whose it is: the entry may be reused under
		 * us (SLAB_TYPESAFE_BY_RCU), and attach writes the owner first.
		 */
		*peer = e->peer;
		smp_rmb();	/* pairs with the smp_wmb() in kgwttm_store_attach() */
		found = READ_ONCE(e->sk) == sk && kgwttm_entry_owned_by(e, sk);
	}
	rcu_read_unlock();
	return found;
}

long kgwttm_store_live(void)
{
	return atomic_long_read(&kgwttm_live);
}

unsigned int kgwttm_store_entry_bytes(void)
{
	return kmem_cache_size(kgwttm_entry_cache);
}

int kgwttm_store_init(void)
{
	int err;

	kgwttm_entry_cache = KMEM_CACHE(kgwttm_entry, SLAB_TYPESAFE_BY_RCU);
	if (!kgwttm_entry_cache)
		return -ENOMEM;
	err = rhashtable_init(&kgwttm_store, &kgwttm_store_params);
	if (err)
		kmem_cache_destroy(kgwttm_entry_cache);
	return err;
}

static void kgwttm_entry_free_now(void *ptr, void *arg)
{
	atomic_long_dec(&kgwttm_live);
	kmem_cache_free(kgwttm_entry_cache, ptr);
}

/*
 * Every user is gone by now: the probes are unregistered (which waits for
 * running handlers) and so is the sockopt (whose callers hold a module
 * reference). Entries of sockets still open are freed here; those sockets
 * keep working, without a recorded client.
 */
void kgwttm_store_exit(void)
{
	synchronize_rcu();
	rhashtable_free_and_destroy(&kgwttm_store, kgwttm_entry_free_now, NULL);
	kmem_cache_destroy(kgwttm_entry_cache);	/* waits for RCU readers itself */
}
