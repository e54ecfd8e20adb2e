// SPDX-License-Identifier: GPL-2.0-only
/*
 * kgwttm: the real client of connections that come through a FULLNAT layer-4
 * load balancer.
 *
 * Design note. The LB replaces the client's address with its own local IP
 * (lip) and writes the client into a TCP option of the ACK that completes
 * the handshake. This module reads that option (capture.c, parser in
 * toa_parse.c), believes it only from trusted_nets (trust.c), keeps it per
 * socket (store.c) until the socket is destroyed, and hands it out through
 * getsockopt(SOL_IP, optname) (sockopt.c) and, where the address fits,
 * accept()/getpeername() (getname.c). Counters are in /proc/net/kgwttm
 * (stats.c).
 *
 * Classic TOA modules patch inet_stream_ops and ipv4_specific in place, which
 * needs kallsyms_lookup_name and writes to read-only kernel data; it breaks
 * on every kernel that pins CR0.WP, unexports kallsyms or makes module data
 * RO, and it keeps the client in sk_user_data, which sockmap, kTLS and others
 * own. kgwttm uses only exported interfaces: kprobes, kretprobes and tracepoints on stable
 * functions, nf_register_sockopt, and its own RCU hash table. Unloading is
 * safe with connections open: probes go first, then the sockopt, then the
 * entries; the connections carry on without a recorded client.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/build_bug.h>
#include <linux/module.h>
#include <linux/moduleparam.h>

#include "capture.h"
#include "destroy.h"
#include "getname.h"
#include "sockopt.h"
#include "stats.h"
#include "store.h"
#include "toa_parse.h"
#include "trust.h"
#include "uapi/kgwttm.h"

static int optname = KGWTTM_SO_GET_PEER;
module_param(optname, int, 0444);
MODULE_PARM_DESC(optname,
		 "getsockopt(SOL_IP, N) returning struct ttm_peer (default 1345)");

static char *formats = TOA_FORMATS_DEFAULT;
module_param(formats, charp, 0444);
MODULE_PARM_DESC(formats,
		 "accepted kind:len options out of " TOA_FORMATS_KNOWN " (default "
		 TOA_FORMATS_DEFAULT ")");

/* Nothing by default, as nginx's set_real_ip_from: see trust.c. */
static char *trusted_nets = "";
module_param(trusted_nets, charp, 0444);
MODULE_PARM_DESC(trusted_nets,
		 "IPv4/IPv6 CIDRs of the load balancers' local IPs to believe, \"any\" for everyone (default: none)");

static bool rewrite_getname = true;
module_param(rewrite_getname, bool, 0444);
MODULE_PARM_DESC(rewrite_getname,
		 "accept()/getpeername() return the client where it fits (default Y)");

static unsigned long kgwttm_missed(void)
{
	return kgwttm_capture_missed() + kgwttm_getname_missed();
}

static const struct kgwttm_stats_sources kgwttm_stats_sources = {
	.missed = kgwttm_missed,
	.live = kgwttm_store_live,
	.entry_bytes = kgwttm_store_entry_bytes,
};

static int __init kgwttm_init(void)
{
	struct toa_formats fmts;
	int err;

	BUILD_BUG_ON(sizeof(struct ttm_peer) != 20);

	if (toa_formats_parse(formats, &fmts)) {
		pr_err("formats=%s: expected kind:len pairs out of %s\n",
		       formats, TOA_FORMATS_KNOWN);
		return -EINVAL;
	}
	err = kgwttm_trust_init(trusted_nets);
	if (err)
		goto err_trust;
	err = kgwttm_store_init();
	if (err)
		goto err_store;
	err = kgwttm_stats_init(&kgwttm_stats_sources);
	if (err)
		goto err_stats;
	/* No entry may outlive its socket: destroy is hooked before capture. */
	err = kgwttm_destroy_init();
	if (err)
		goto err_destroy;
	err = kgwttm_sockopt_init(optname);
	if (err)
		goto err_sockopt;
	err = kgwttm_getname_init(rewrite_getname);
	if (err)
		goto err_getname;
	err = kgwttm_capture_init(&fmts);
	if (err)
		goto err_capture;

	pr_info("%s loaded: getsockopt(SOL_IP, %d), formats=%s, trusted_nets=%s, rewrite_getname=%c\n",
		KGWTTM_VERSION, optname, formats, trusted_nets,
		rewrite_getname ? 'Y' : 'N');
	return 0;

err_capture:
	kgwttm_getname_exit();
err_getname:
	kgwttm_sockopt_exit();
err_sockopt:
	kgwttm_destroy_exit();
err_destroy:
	kgwttm_stats_exit();
err_stats:
	kgwttm_store_exit();
err_store:
	kgwttm_trust_exit();
err_trust:
	return err;
}

/*
 * The reverse of init: no new entries, then no readers (getpeername and
 * getsockopt), then no destroys, and only then are the entries freed.
 */
static void __exit kgwttm_exit(void)
{
	kgwttm_capture_exit();
	kgwttm_getname_exit();
	kgwttm_sockopt_exit();
	kgwttm_destroy_exit();
	kgwttm_stats_exit();
	kgwttm_store_exit();
	kgwttm_trust_exit();
}

module_init(kgwttm_init);
module_exit(kgwttm_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Real client address from a FULLNAT load balancer's TCP option (TOA)");
MODULE_VERSION(KGWTTM_VERSION);
