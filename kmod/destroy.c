// SPDX-License-Identifier: GPL-2.0-only
/*
 * Destroy: drop a socket's entry when the socket is destroyed.
 *
 * The tcp:tcp_destroy_sock tracepoint fires at the top of
 * tcp_v4_destroy_sock() (since 4.15), which destroys IPv4 and IPv6 TCP
 * sockets alike, so it sees every socket a kprobe there would; but a
 * tracepoint probe is a direct call, where a kprobe goes through ftrace and
 * saves a whole register frame, and this runs for every TCP socket the host
 * closes, tracked or not. It is found by name (find_tracepoint.c).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <net/sock.h>

#include "destroy.h"
#include "find_tracepoint.h"
#include "store.h"

#define KGWTTM_DESTROY_TRACEPOINT	"tcp_destroy_sock"

static struct tracepoint *kgwttm_destroy_tp;

/* The probe of tcp:tcp_destroy_sock: TP_PROTO(struct sock *sk). */
static void kgwttm_destroy_probe(void *data, struct sock *sk)
{
	kgwttm_store_detach(sk);
}

int kgwttm_destroy_init(void)
{
	int err;

	kgwttm_destroy_tp = kgwttm_tracepoint(KGWTTM_DESTROY_TRACEPOINT);
	if (!kgwttm_destroy_tp) {
		pr_err("no tracepoint tcp:%s in this kernel\n", KGWTTM_DESTROY_TRACEPOINT);
		return -ENOENT;
	}
	err = tracepoint_probe_register(kgwttm_destroy_tp, kgwttm_destroy_probe, NULL);
	if (err)
		pr_err("cannot hook tracepoint tcp:%s: %d\n", KGWTTM_DESTROY_TRACEPOINT, err);
	return err;
}

/* Waits for running probes: after it, store.c may free every entry. */
void kgwttm_destroy_exit(void)
{
	tracepoint_probe_unregister(kgwttm_destroy_tp, kgwttm_destroy_probe, NULL);
	tracepoint_synchronize_unregister();
}
