/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Every kernel-version difference kgwttm knows of, in one place; Kbuild
 * force-includes this header, so no other file tests LINUX_VERSION_CODE.
 *
 * Built and tested (W=1, sparse, checkpatch; every guest suite in a VM booted
 * on it): Debian's 5.10 (bullseye), 6.1 (bookworm) and 6.12
 * (bookworm-backports). On paper only, from the kernels' sources and
 * changelogs: 4.18 (RHEL 8) and 5.14 (RHEL 9), the floor below.
 *
 * What kgwttm uses, and the first mainline kernel that has it:
 *
 *   kprobes: register_kprobes(), .symbol_name,        2.6.x
 *     .pre_handler, .nmissed
 *   kretprobes: register_kretprobes(),                2.6.30
 *     .entry_handler, .data_size, ri->data,
 *     .maxactive, regs_return_value()
 *   probe target tcp_child_process (args 1, 2:        2.6.x
 *     child, skb)
 *   probe targets inet_getname, inet6_getname,        4.17
 *     returning the address length
 *   regs_get_kernel_argument()                        x86 4.20, arm64 5.5
 *   for_each_kernel_tracepoint(),                     3.15
 *     tracepoint_probe_register/unregister(tp, ...),
 *     tracepoint_synchronize_unregister()
 *   tracepoint tcp:tcp_destroy_sock (struct sock *)   4.15 (const sk in 4.15)
 *   sk->sk_cookie                                     4.1
 *   sock_diag_save_cookie(), sock_diag_check_cookie() 4.1 (struct sock *)
 *   nf_register_sockopt(), nf_sockopt_ops.get         2.6.x (unchanged)
 *   ip_mroute_opt()                                   2.6.x
 *   rhashtable_lookup(),                              4.10
 *     rhashtable_lookup_get_insert_fast()
 *   rhashtable_init/replace_fast/remove_fast/         4.5 and older
 *     free_and_destroy, .automatic_shrinking
 *   proc_create_net_single()                          4.18
 *   KMEM_CACHE(), kmem_cache_size(),                  2.6.x
 *     synchronize_rcu()
 *   SLAB_TYPESAFE_BY_RCU (SLAB_DESTROY_BY_RCU before)  4.12
 *   in4_pton(), in6_pton(), kstrtouint(), strim(),    2.6.39 (kstrtouint)
 *     strsep(), kstrdup()
 *   sk_v6_daddr, ipv6_addr_set_v4mapped()             3.13
 *   net_dbg_ratelimited(), %pI4, %pI6c                3.x
 *
 * So 4.18 (RHEL 8) has all of it but regs_get_kernel_argument(): the
 * fallback below reads the argument registers itself (RHEL 8 may have
 * backported the helper; the fallback does not mind). KGWTTM_COMPAT_OLDEST
 * builds every fallback on a newer kernel, as test/host/15-kmod-lint does, so
 * the 4.18 branch at least compiles here. 5.14 (RHEL 9) has all of it.
 *
 * Differences that need no code, recorded so nobody adds a branch for them:
 * - /proc: proc_create_net_single() exists since 4.18, so stats.c never sees
 *   the proc_ops (5.6+) vs file_operations split.
 * - nf_sockopt_ops.get has kept (sk, optval, void __user *, int *) since
 *   2.6; only .set moved to sockptr_t (5.9), and kgwttm registers no .set.
 * - inet_getname()/inet6_getname() return the address length since 4.17
 *   (before, they wrote *uaddr_len and returned 0); getname.c relies on it.
 * - kretprobes: since 5.19 (x86) instances come from rethook and since 5.11
 *   the probe is found with get_kretprobe(); kgwttm's handlers use only
 *   ri->data, the registers and regs_return_value(), which mean the same on
 *   every version, and read .nmissed, which every version has.
 * - tcp_child_process(parent, child, skb) (exported, 2.6+; 6.x returns a
 *   drop reason, the arguments are the same) runs once per child made from
 *   an ACK, with the child bh-locked. capture.c probes it.
 * - tracepoint_synchronize_unregister() waits for SRCU as well since 4.20
 *   (synchronize_sched() alone before): the same promise to the caller.
 * - tcp_v6_destroy_sock() calls tcp_v4_destroy_sock() up to 6.3 and is gone
 *   in 6.4+ (tcpv6_prot.destroy = tcp_v4_destroy_sock): the tcp_destroy_sock
 *   tracepoint at the top of tcp_v4_destroy_sock (4.15+) sees every TCP
 *   socket on all of them.
 * - sock_gen_cookie() is an inline over __sock_gen_cookie() since 5.12, and
 *   neither is exported to modules on any version; sock_diag_save_cookie()
 *   and sock_diag_check_cookie() are (GPL, since 4.x) and generate the cookie
 *   on first use, so store.c uses those everywhere.
 * - 6.12 modules carry BTF (pahole) and its modules are .ko.xz; 5.10's
 *   headers name gcc-10: the build of kgwttm itself does not change.
 */
#ifndef _KGWTTM_COMPAT_H
#define _KGWTTM_COMPAT_H

#include <linux/kconfig.h>
#include <linux/version.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(4, 18, 0)
#error "kgwttm needs Linux 4.18 or later (RHEL 8)"
#endif

#ifndef CONFIG_KRETPROBES
#error "kgwttm needs CONFIG_KRETPROBES"
#endif

#ifndef CONFIG_TRACEPOINTS
#error "kgwttm needs CONFIG_TRACEPOINTS (tcp:tcp_destroy_sock)"
#endif

#ifndef CONFIG_NETFILTER
#error "kgwttm needs CONFIG_NETFILTER (nf_register_sockopt)"
#endif

/*
 * regs_get_kernel_argument(): x86 since 4.20, arm64 since 5.5 (RHEL 8's 4.18
 * has neither). The fallback reads the first argument registers by hand.
 */
#if !defined(KGWTTM_COMPAT_OLDEST) && \
	(LINUX_VERSION_CODE >= KERNEL_VERSION(5, 5, 0) || \
	 (defined(CONFIG_X86_64) && LINUX_VERSION_CODE >= KERNEL_VERSION(4, 20, 0)))
#define kgwttm_regs_arg(regs, n)	regs_get_kernel_argument(regs, n)
#elif defined(CONFIG_X86_64)
/*
 * Macros, not inline functions: struct pt_regs is complete only once the
 * file has included its headers, and this header comes before any of them
 * (including <asm/ptrace.h> here would define pr_fmt before the files do).
 */
#define kgwttm_regs_arg(pt, n) ({					\
	const struct pt_regs *__regs = (pt);				\
	unsigned int __n = (n);						\
	__n == 0 ? __regs->di : __n == 1 ? __regs->si :			\
	__n == 2 ? __regs->dx : __n == 3 ? __regs->cx :			\
	__n == 4 ? __regs->r8 : __n == 5 ? __regs->r9 : 0UL;		\
})
#elif defined(CONFIG_ARM64)
#define kgwttm_regs_arg(pt, n) ({					\
	const struct pt_regs *__regs = (pt);				\
	unsigned int __n = (n);						\
	__n < 8 ? __regs->regs[__n] : 0UL;				\
})
#else
#error "kgwttm: no way to read kprobe arguments on this architecture"
#endif

#endif /* _KGWTTM_COMPAT_H */
