/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every kernel-version difference kgwttm knows of, in one place; Kbuild
 * force-includes this header, so no other file tests LINUX_VERSION_CODE.
 *
 * Covered: 4.18 (RHEL 8), 5.14 (RHEL 9), 5.15 and 6.8 (Ubuntu LTS), 6.1+
 * (Debian 12). Only Debian's 6.1 is built and tested here; the other entries
 * come from the kernels' sources and changelogs.
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
 * - sock:inet_sock_set_state (4.16+) fires in inet_csk_clone_lock() as the
 *   child goes LISTEN -> SYN_RECV, and inet_csk_clone_lock() copies the
 *   request's cookie (ir_cookie) into the child on every supported version;
 *   capture.c relies on both. RHEL 8's 4.18 has them.
 * - syn_recv_sock(): Debian's 6.1.0-56 (and stable trees that took the same
 *   fix) pass a seventh argument, opt_child_init; the kprobes read arguments 1
 *   and 2 (skb, req) from registers, so the prototype never matters.
 * - tcp_v6_destroy_sock() calls tcp_v4_destroy_sock() up to 6.3 and is gone
 *   in 6.4+ (tcpv6_prot.destroy = tcp_v4_destroy_sock): the tcp_destroy_sock
 *   tracepoint at the top of tcp_v4_destroy_sock (4.15+) sees every TCP
 *   socket on all of them.
 * - sock_gen_cookie() is an inline over __sock_gen_cookie() since 5.12, and
 *   neither is exported to modules on any version; sock_diag_save_cookie()
 *   and sock_diag_check_cookie() are (GPL, since 4.x) and generate the cookie
 *   on first use, so store.c uses those everywhere.
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
#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 5, 0) || \
	(defined(CONFIG_X86_64) && LINUX_VERSION_CODE >= KERNEL_VERSION(4, 20, 0))
#define kgwttm_regs_arg(regs, n)	regs_get_kernel_argument(regs, n)
#elif defined(CONFIG_X86_64)
#include <asm/ptrace.h>
static inline unsigned long kgwttm_regs_arg(struct pt_regs *regs, unsigned int n)
{
	switch (n) {
	case 0: return regs->di;
	case 1: return regs->si;
	case 2: return regs->dx;
	case 3: return regs->cx;
	case 4: return regs->r8;
	case 5: return regs->r9;
	}
	return 0;
}
#elif defined(CONFIG_ARM64)
#include <asm/ptrace.h>
static inline unsigned long kgwttm_regs_arg(struct pt_regs *regs, unsigned int n)
{
	return n < 8 ? regs->regs[n] : 0;
}
#else
#error "kgwttm: no way to read kprobe arguments on this architecture"
#endif

#endif /* _KGWTTM_COMPAT_H */
