// SPDX-License-Identifier: GPL-2.0-only
/*
 * The BPF backend's floor: programs at the four attach points bpf/ uses, doing
 * no work of their own but the one thing every capture must do, make the
 * socket's storage. What a connection costs with these attached is what the
 * kernel's side costs (three sockops dispatches on the passive side, the
 * storage's allocation and its free with the socket, the getpeername and
 * getsockopt dispatches), whatever a program does: the BPF counterpart of the
 * tracer's empty probes on the module's hooks (bench/guest/tracer.py).
 * bench/guest/backend.py loads and attaches it with bpftool (bench/c/Makefile
 * builds it).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define PAGE_SIZE	4096

/* The size of bpf/'s entry (struct kgwttm_bpf_entry): 40 bytes. */
struct floor_entry {
	__u32 words[10];
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct floor_entry);
} floor_clients SEC(".maps");

SEC("sockops")
int floor_sockops(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk;

	if (skops->op != BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
		return 1;
	sk = skops->sk;
	if (sk)
		bpf_sk_storage_get(&floor_clients, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	return 1;
}

SEC("cgroup/getsockopt")
int floor_getsockopt(struct bpf_sockopt *ctx)
{
	/* the kernel's rule for optval beyond a page, as bpf/ has it */
	if (ctx->optlen > PAGE_SIZE)
		ctx->optlen = 0;
	return 1;
}

SEC("cgroup/getpeername4")
int floor_getpeername4(struct bpf_sock_addr *ctx)
{
	return 1;
}

SEC("cgroup/getpeername6")
int floor_getpeername6(struct bpf_sock_addr *ctx)
{
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
