// SPDX-License-Identifier: GPL-2.0-only
/*
 * kgwttm without a kernel module: the same answers as kgwttm.ko from BPF
 * programs attached to a cgroup (the cgroup v2 root by default).
 *
 * Design note. Four programs, all on stable cgroup hooks (no kprobes):
 * - sockops, at BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB: the ACK that completes
 *   the handshake is in skops->skb_data (the whole TCP header, kernels 5.10+,
 *   also for SYN-cookie connections). Its options are copied into a per-CPU
 *   buffer and read with the module's own per-option rules (kmod/toa_parse.c,
 *   compiled in) by a walk shaped for the verifier (toa_walk.c), which a
 *   differential fuzzer holds to the module's toa_parse(): both backends
 *   accept and reject the same bytes. bpf_load_hdr_opt is no help here: for
 *   kinds 253 and 254 it can only search by an RFC 6994 magic, and TOA puts
 *   the port where the magic would be. A trusted client
 *   goes into socket local storage (BPF_MAP_TYPE_SK_STORAGE), which the
 *   kernel frees with the socket. Nothing else runs for the connection:
 *   no STATE_CB (three more sockops calls and a storage delete on every
 *   connection) to drop the entry as it closes; every reader checks
 *   instead that the socket's peer is still the LB the entry was made for,
 *   so a disconnected socket connected elsewhere has no client.
 * - iter/bpf_sk_storage_map counts the entries for `kgwttm-bpf status`
 *   (live): one byte per socket that still has one, read through its
 *   pinned link, so live costs nothing until someone asks.
 * - cgroup/getsockopt answers SOL_IP/optname, only when no kernel module
 *   answers it (the kernel said ENOPROTOOPT): the struct ttm_peer, EINVAL
 *   for a short buffer, ENOENT without a client. bpf_set_retval (5.18+) sets
 *   those errnos; before it a program can only leave the kernel's errno or
 *   reject with EPERM: no client then reads ENOPROTOOPT, which every
 *   consumer already takes as "no client", and a short buffer EPERM.
 * - cgroup/getpeername4 and getpeername6 rewrite what accept() and
 *   getpeername() return, with the module's table (kmod/getname.c): only a
 *   peer that is still the LB, never for a kernel thread where the kernel
 *   lets BPF see the task.
 * Configuration is read-only data set by the loader before the programs are
 * loaded, so the verifier sees it as constants (the format and network
 * loops have known lengths, and a feature switched off is dead code).
 */
#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "kgwttm_bpf.h"

/*
 * The module's option parser, unchanged (the shim folder in front of the
 * include path gives it <string.h> and <sys/socket.h>), and the walk that
 * uses its rules. Everything in them is inlined into its caller; the walk's
 * step is the one function the verifier checks on its own (below).
 */
__u32 kgwttm_walk_step(__u32 p, __u32 s, __u32 len);
#define TOA_WALK_STEP(opt, len, fmts, p, s) kgwttm_walk_step(p, s, len)
#define TOA_WALK_OPAQUE(x) barrier_var(x)
#define TOA_WALK_KIND_MAYBE(fmts, kind) kgwttm_bpf_kind_in(cfg_kinds, kind)
extern const volatile __u32 cfg_kinds[KGWTTM_BPF_KIND_WORDS];	/* below, with the settings */
#define TOA_WALK_LOAD(dst, opt, p) kgwttm_walk_load((__u64 *)(dst), opt, p)
static __always_inline void kgwttm_walk_load(__u64 *dst, const __u8 *opt, unsigned int p);

#pragma clang attribute push(__attribute__((always_inline)), apply_to = function)
#include "../kmod/toa_parse.c"
#include "toa_walk.c"
#pragma clang attribute pop

#define SOL_IP		0
#define SOCK_STREAM	1
#define ENOENT		2
#define EINVAL		22
#define ENOPROTOOPT	92
#define PF_KTHREAD	0x00200000	/* include/linux/sched.h, unchanged since 2.6 */
#define PAGE_SIZE	4096
#define TCP_HDR_MIN	20

/*
 * A context field read or written on its own: the verifier rejects the
 * computed context pointers and widened accesses the compiler makes when it
 * merges neighbouring fields.
 */
#define CTX(field)	(*(volatile typeof(field) *)&(field))

/*
 * Where even volatile is not enough: clang reads neighbouring fields from one
 * base it has moved into the structure (pointer arithmetic on a socket or a
 * context, which the verifier refuses), and fields read on two branches from
 * one pointer it has chosen between them. One load at the field's own offset
 * from the structure itself.
 */
#define FIELD_LOAD(size, type, p, field) ({					\
	__##size __v;								\
	asm volatile("%0 = *(" #size " *)(%1 + %2)" : "=r"(__v)		\
		     : "r"(p), "i"(__builtin_offsetof(type, field)));		\
	__v;									\
})
#define SK_LOAD(size, sk, field)	FIELD_LOAD(size, struct bpf_sock, sk, field)
#define SKOPS_LOAD(skops, field)	FIELD_LOAD(u32, struct bpf_sock_ops, skops, field)

/* Set by the loader (kgwttm-bpf.c) before load; read-only afterwards. */
const volatile struct toa_formats cfg_formats = {
	.n = 3, .f = { { 254, 8 }, { 254, 20 }, { 254, 22 } },
};
const volatile __u32 cfg_kinds[KGWTTM_BPF_KIND_WORDS] = {	/* cfg_formats' kinds */
	[254 / 32] = 1u << (254 % 32),
};
const volatile __u32 cfg_nets_n;		/* 0: nothing is trusted */
const volatile struct kgwttm_bpf_net cfg_nets[KGWTTM_BPF_NETS_MAX];
const volatile __s32 cfg_optname = KGWTTM_SO_GET_PEER;
const volatile bool cfg_rewrite_getname = true;
const volatile bool cfg_has_set_retval;	/* bpf_set_retval in getsockopt (5.18+) */
const volatile bool cfg_has_task_btf;	/* bpf_get_current_task_btf in getpeername */
/* As the operator wrote them, for `kgwttm-bpf params`. */
const volatile char cfg_trusted_nets[KGWTTM_BPF_PARAM_LEN];
const volatile char cfg_formats_str[KGWTTM_BPF_PARAM_LEN];

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct kgwttm_bpf_entry);
} kgwttm_clients SEC(".maps");

/*
 * Each CPU's counters, and the room its captures copy an ACK's options to:
 * one lookup per connection serves both. The options are in a map value
 * because toa_walk_step() indexes them with a variable offset (which the
 * stack allows only from 5.12) and the step cannot take pointers. A capture
 * runs in softirq, so never twice at once on one CPU.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kgwttm_bpf_percpu);
} kgwttm_percpu SEC(".maps");

/* TOA_WALK_LOAD: @opt is the per-CPU block's, and p < TOA_OPT_SPACE. */
static __always_inline void kgwttm_walk_load(__u64 *dst, const __u8 *opt, unsigned int p)
{
	/* The verifier lets x86, arm64 and the other efficient-unaligned
	 * architectures read a map value unaligned. */
	dst[0] = *(const __u64 *)(opt + p);
	dst[1] = *(const __u64 *)(opt + p + 8);
	dst[2] = *(const __u64 *)(opt + p + 16);
}

_Static_assert(sizeof(((struct kgwttm_bpf_percpu *)0)->opt) >= TOA_OPT_SPACE + 3 * 8,
	       "the walk reads 3 words from where the accepted option starts");

/*
 * The formats table as toa_parse.c takes it (not volatile). The compiler must
 * not see through the pointer: it would fold the loads into the defaults
 * above. The verifier does see through it, and reads the loader's values as
 * the constants they are (a frozen, read-only map).
 */
static __always_inline const struct toa_formats *formats_cfg(void)
{
	const struct toa_formats *f = (const struct toa_formats *)&cfg_formats;

	barrier_var(f);
	return f;
}

/*
 * One step of toa_walk(), as a global function: the verifier checks it once
 * for any position and state (5.10 takes scalars only, hence the map), and
 * the walk that calls it is a loop over one opaque number.
 */
__attribute__((noinline)) __u32 kgwttm_walk_step(__u32 p, __u32 s, __u32 len)
{
	const struct toa_formats *formats;
	struct kgwttm_bpf_percpu *pc;
	__u32 zero = 0;

	formats = formats_cfg();
	pc = bpf_map_lookup_elem(&kgwttm_percpu, &zero);
	if (!pc || p >= TOA_OPT_SPACE)
		return toa_walk_stop(TOA_OVERRUN);
	return toa_walk_step((const __u8 *)pc->opt, len, formats, p, s);
}

/* Just enough of the kernel's task_struct for CO-RE to find its flags. */
struct task_struct {
	unsigned int flags;
} __attribute__((preserve_access_index));

static __always_inline bool net_match(const volatile struct kgwttm_bpf_net *n,
				      __u32 af, const __u32 *a)
{
	if (n->af != af)
		return false;
	if (af == AF_INET)
		return (a[0] & n->mask[0]) == n->addr[0];
	return (a[0] & n->mask[0]) == n->addr[0] && (a[1] & n->mask[1]) == n->addr[1] &&
	       (a[2] & n->mask[2]) == n->addr[2] && (a[3] & n->mask[3]) == n->addr[3];
}

static __always_inline bool trusted(__u32 af, const __u32 *a)
{
	for (__u32 i = 0; i < KGWTTM_BPF_NETS_MAX; i++) {
		if (i >= cfg_nets_n)
			break;
		if (net_match(&cfg_nets[i], af, a))
			return true;
	}
	return false;
}

/*
 * What the handshake-completing ACK says; *peer holds a client if FOUND.
 * The options go through @pc's room.
 */
static __always_inline enum kgwttm_bpf_stat read_ack(struct bpf_sock_ops *skops,
						     struct kgwttm_bpf_percpu *pc,
						     struct ttm_peer *peer)
{
	const __u8 *th = (const __u8 *)(long)skops->skb_data;
	const __u8 *end = (const __u8 *)(long)skops->skb_data_end;
	__u8 *opt = (__u8 *)pc->opt;
	enum toa_reason r;
	__u32 len, i;

	if (th + TCP_HDR_MIN > end)
		return KGWTTM_BPF_MALFORMED;
	len = (th[12] >> 4) * 4;
	/* skb_data_end is where the header ends (doff): this cannot fail */
	if (len < TCP_HDR_MIN || th + len > end)
		return KGWTTM_BPF_MALFORMED;
	len -= TCP_HDR_MIN;
	/*
	 * Every option byte there is; the walk reads only len of them. Eight
	 * at a time (five loads for a full option space), and the option
	 * space is whole words of four, so at most one of four is left: this
	 * runs for every connection.
	 */
	for (i = 0; i + 8 <= TOA_OPT_SPACE; i += 8) {
		if (th + TCP_HDR_MIN + i + 8 > end)
			break;
		/* One 64-bit load: the verifier lets x86, arm64 and the other
		 * efficient-unaligned architectures read packet data unaligned. */
		pc->opt[i / 8] = *(const __u64 *)(th + TCP_HDR_MIN + i);
	}
	if (i < TOA_OPT_SPACE && th + TCP_HDR_MIN + i + 4 <= end)
		*(__u32 *)(opt + i) = *(const __u32 *)(th + TCP_HDR_MIN + i);
	r = toa_walk(opt, len, formats_cfg(), peer);
	if (r == TOA_NONE)
		return KGWTTM_BPF_WITHOUT_OPTION;
	if (r != TOA_FOUND)
		return KGWTTM_BPF_MALFORMED;
	return KGWTTM_BPF_WITH_OPTION;
}

static __always_inline bool v4mapped(const __u32 *a)
{
	return a[0] == 0 && a[1] == 0 && a[2] == bpf_htonl(0xffff);
}

/*
 * The new connection's ACK, once: keep a trusted client with the socket. A
 * function of its own, so that the other sockops calls (three more per
 * passive connection) do not pay for its registers and stack.
 */
static __attribute__((noinline)) int capture(struct bpf_sock_ops *skops)
{
	struct kgwttm_bpf_entry e = {};
	struct kgwttm_bpf_percpu *pc;
	enum kgwttm_bpf_stat result;
	struct bpf_sock *sk;
	__u32 src[4] = {}, zero = 0;

	pc = bpf_map_lookup_elem(&kgwttm_percpu, &zero);
	if (!pc)
		return 0;	/* cannot be: an array's only element */
	result = read_ack(skops, pc, &e.peer);
	if (result == KGWTTM_BPF_WITH_OPTION) {
		/* The ACK's source is the child's peer: the LB. */
		if (SKOPS_LOAD(skops, family) == AF_INET6) {
			e.lb[0] = SKOPS_LOAD(skops, remote_ip6[0]);
			e.lb[1] = SKOPS_LOAD(skops, remote_ip6[1]);
			e.lb[2] = SKOPS_LOAD(skops, remote_ip6[2]);
			e.lb[3] = SKOPS_LOAD(skops, remote_ip6[3]);
		} else {
			e.lb[2] = bpf_htonl(0xffff);
			e.lb[3] = SKOPS_LOAD(skops, remote_ip4);
		}
		e.lb_port = bpf_htons((__u16)bpf_ntohl(skops->remote_port));
		if (v4mapped(e.lb)) {
			src[0] = e.lb[3];
			if (!trusted(AF_INET, src))
				result = KGWTTM_BPF_UNTRUSTED;
		} else if (!trusted(AF_INET6, e.lb)) {
			result = KGWTTM_BPF_UNTRUSTED;
		}
	}
	if (result == KGWTTM_BPF_WITH_OPTION) {
		struct kgwttm_bpf_entry *stored = NULL;

		sk = skops->sk;
		if (sk)
			stored = bpf_sk_storage_get(&kgwttm_clients, sk, 0,
						    BPF_SK_STORAGE_GET_F_CREATE);
		if (stored)
			*stored = e;
		else
			result = KGWTTM_BPF_NOMEM;
	}
	if (result < KGWTTM_BPF_STAT_NR)
		pc->stats[result]++;	/* this CPU's: no other writer */
	return 0;
}

SEC("sockops")
int kgwttm_sockops(struct bpf_sock_ops *skops)
{
	if (skops->op == BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
		capture(skops);
	return 1;
}

/*
 * Whether the entry belongs to the connection the socket has now: its peer is
 * still the LB the entry was made for (a socket disconnected with
 * connect(AF_UNSPEC) and connected elsewhere keeps its storage). The module
 * checks the same (kmod/store.c), with the cookie on top.
 */
static __always_inline bool entry_current(const struct kgwttm_bpf_entry *e,
					  struct bpf_sock *sk)
{
	if (SK_LOAD(u16, sk, dst_port) != e->lb_port)
		return false;
	if (SK_LOAD(u32, sk, family) == AF_INET)
		return v4mapped(e->lb) && SK_LOAD(u32, sk, dst_ip4) == e->lb[3];
	return SK_LOAD(u32, sk, dst_ip6[0]) == e->lb[0] &&
	       SK_LOAD(u32, sk, dst_ip6[1]) == e->lb[1] &&
	       SK_LOAD(u32, sk, dst_ip6[2]) == e->lb[2] &&
	       SK_LOAD(u32, sk, dst_ip6[3]) == e->lb[3];
}

/* Reject this getsockopt with -err where the kernel lets BPF pick it. */
static __always_inline int sockopt_error(struct bpf_sockopt *ctx, int err)
{
	if (cfg_has_set_retval) {
		bpf_set_retval(-err);
		return 0;
	}
	if (err == EINVAL)
		return 0;		/* EPERM */
	ctx->optlen = 0;		/* the kernel's ENOPROTOOPT, buffer untouched */
	return 1;
}

SEC("cgroup/getsockopt")
int kgwttm_getsockopt(struct bpf_sockopt *ctx)
{
	struct kgwttm_bpf_entry *e;
	struct bpf_sock *sk;
	__u8 *p, *end;

	if (ctx->level != SOL_IP || ctx->optname != cfg_optname ||
	    ctx->retval != -ENOPROTOOPT) {
		/* Not ours, or a module answers it: leave the kernel's answer
		 * (the kernel's documented rule for optval beyond a page). */
		if (ctx->optlen > PAGE_SIZE)
			ctx->optlen = 0;
		return 1;
	}
	p = ctx->optval;
	end = ctx->optval_end;
	if (ctx->optlen < (int)sizeof(struct ttm_peer) || p + sizeof(struct ttm_peer) > end)
		return sockopt_error(ctx, EINVAL);
	sk = ctx->sk;
	if (!sk || sk->protocol != IPPROTO_TCP)
		return sockopt_error(ctx, ENOENT);
	e = bpf_sk_storage_get(&kgwttm_clients, sk, 0, 0);
	if (!e || !entry_current(e, sk))
		return sockopt_error(ctx, ENOENT);
	__builtin_memcpy(p, &e->peer, sizeof(struct ttm_peer));
	CTX(ctx->optlen) = sizeof(struct ttm_peer);
	CTX(ctx->retval) = 0;
	return 1;
}

/*
 * The client of a getpeername() or accept() that may be rewritten: a user
 * task asks, and the socket has a client.
 */
static __always_inline struct kgwttm_bpf_entry *getname_entry(struct bpf_sock_addr *ctx)
{
	struct bpf_sock *sk;

	if (!cfg_rewrite_getname)
		return NULL;
	if (cfg_has_task_btf) {
		struct task_struct *task = bpf_get_current_task_btf();

		/* nfsd and OCFS2 decide access on kernel_getpeername() */
		if (task->flags & PF_KTHREAD)
			return NULL;
	}
	sk = ctx->sk;
	if (!sk || ctx->type != SOCK_STREAM)
		return NULL;
	return bpf_sk_storage_get(&kgwttm_clients, sk, 0, 0);
}

SEC("cgroup/getpeername4")
int kgwttm_getpeername4(struct bpf_sock_addr *ctx)
{
	struct kgwttm_bpf_entry *e = getname_entry(ctx);

	/* An IPv6 client does not fit a sockaddr_in: the LB stays. */
	if (!e || e->peer.af != AF_INET)
		return 1;
	if (ctx->user_ip4 != e->lb[3] || (__u16)ctx->user_port != e->lb_port)
		return 1;	/* no longer the LB this entry was made for */
	ctx->user_ip4 = e->peer.ip;
	ctx->user_port = e->peer.port;
	return 1;
}

SEC("cgroup/getpeername6")
int kgwttm_getpeername6(struct bpf_sock_addr *ctx)
{
	struct kgwttm_bpf_entry *e = getname_entry(ctx);

	if (!e)
		return 1;
	if (ctx->user_ip6[0] != e->lb[0] || ctx->user_ip6[1] != e->lb[1] ||
	    ctx->user_ip6[2] != e->lb[2] || ctx->user_ip6[3] != e->lb[3] ||
	    (__u16)ctx->user_port != e->lb_port)
		return 1;
	if (e->peer.af == AF_INET) {
		ctx->user_ip6[0] = 0;
		ctx->user_ip6[1] = 0;
		ctx->user_ip6[2] = bpf_htonl(0xffff);
		ctx->user_ip6[3] = e->peer.ip;
	} else if (v4mapped(e->lb)) {
		/* An IPv6 client of an IPv4 connection: keep its family. */
		return 1;
	} else {
		ctx->user_ip6[0] = e->peer.ip6[0];
		ctx->user_ip6[1] = e->peer.ip6[1];
		ctx->user_ip6[2] = e->peer.ip6[2];
		ctx->user_ip6[3] = e->peer.ip6[3];
	}
	ctx->user_port = e->peer.port;
	return 1;
}

/* Just enough of the iterator's context for CO-RE (include/linux/bpf.h). */
struct seq_file;
struct sock;
struct bpf_map;

struct bpf_iter_meta {
	struct seq_file *seq;
} __attribute__((preserve_access_index));

struct bpf_iter__bpf_sk_storage_map {
	struct bpf_iter_meta *meta;
	struct bpf_map *map;
	struct sock *sk;
	void *value;
} __attribute__((preserve_access_index));

/* live: one byte per socket with an entry (the loader counts them). */
SEC("iter/bpf_sk_storage_map")
int kgwttm_live(struct bpf_iter__bpf_sk_storage_map *ctx)
{
	char mark = '.';

	if (ctx->sk && ctx->value)
		bpf_seq_write(ctx->meta->seq, &mark, sizeof(mark));
	return 0;
}

char _license[] SEC("license") = "GPL";
