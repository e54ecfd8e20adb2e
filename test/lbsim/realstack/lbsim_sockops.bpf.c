// SPDX-License-Identifier: GPL-2.0-only
/*
 * kgwttm real-stack LB simulator: a sockops program that plays the FULLNAT
 * load balancer for ordinary TCP clients.  For every active-open connection
 * made from the attached cgroup it adds one TCP option, carrying a configured
 * client address, to the segment that completes the three-way handshake (the
 * pure ACK that answers the SYN-ACK), and to nothing else:
 *
 *   toa4: kind 254 len 8  = port(2, BE) + IPv4(4)
 *   toa6: kind 254 len 20 = port(2, BE) + IPv6(16)
 *   ttm4/ttm6: kind 254 len 22 = af(2, host order: 02 00 / 0a 00)
 *                                + port(2, BE) + addr(16, IPv4 in the first 4)
 *
 * The port is the connection's own local port, so a test computes the
 * expected client from its own socket.
 *
 * Cost model: the WRITE_HDR_OPT callback flag is enabled at TCP_CONNECT_CB and
 * cleared as soon as the option is written, so established flows pay nothing.
 * Only helpers present in Linux 5.10+ are used (the guest runs 6.1).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define FMT_NONE 0
#define FMT_TOA4 1
#define FMT_TOA6 2
#define FMT_TTM4 3
#define FMT_TTM6 4

#define TCPOPT_KIND 254
#define TCPHDR_SYN 0x02

struct lbsim_cfg {
	__u32 format;		/* FMT_* */
	__u8 addr[16];		/* client address, IPv4 in the first 4 bytes */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lbsim_cfg);
} lbsim_cfg SEC(".maps");

/* counters: see STAT_* */
#define STAT_CONNECT	0	/* active opens seen with a format configured */
#define STAT_WRITTEN	1	/* options written */
#define STAT_FAILED	2	/* reserve/store failed: option not written */
#define STAT_MAX	4

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} lbsim_stats SEC(".maps");

static __always_inline void stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&lbsim_stats, &idx);

	if (v)
		__sync_fetch_and_add(v, 1);
}

static __always_inline struct lbsim_cfg *get_cfg(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&lbsim_cfg, &zero);
}

static __always_inline int opt_len(__u32 format)
{
	switch (format) {
	case FMT_TOA4:
		return 8;
	case FMT_TOA6:
		return 20;
	case FMT_TTM4:
	case FMT_TTM6:
		return 22;
	}
	return 0;
}

static __always_inline void stop_writing(struct bpf_sock_ops *skops)
{
	bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags &
				  ~BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG);
}

static __always_inline void write_opt(struct bpf_sock_ops *skops,
				      struct lbsim_cfg *cfg)
{
	__u8 opt[24] = {};
	__u16 port = (__u16)skops->local_port;	/* host order */
	long err = -1;
	int i;

	opt[0] = TCPOPT_KIND;
	switch (cfg->format) {
	case FMT_TOA4:
		opt[1] = 8;
		opt[2] = port >> 8;
		opt[3] = port & 0xff;
		for (i = 0; i < 4; i++)
			opt[4 + i] = cfg->addr[i];
		err = bpf_store_hdr_opt(skops, opt, 8, 0);
		break;
	case FMT_TOA6:
		opt[1] = 20;
		opt[2] = port >> 8;
		opt[3] = port & 0xff;
		for (i = 0; i < 16; i++)
			opt[4 + i] = cfg->addr[i];
		err = bpf_store_hdr_opt(skops, opt, 20, 0);
		break;
	case FMT_TTM4:
	case FMT_TTM6:
		opt[1] = 22;
		/* af in host (little-endian) order, as the gateway's
		 * struct ttm_peer is laid out in memory on x86 */
		opt[2] = cfg->format == FMT_TTM4 ? 2 : 10;
		opt[3] = 0;
		opt[4] = port >> 8;
		opt[5] = port & 0xff;
		for (i = 0; i < 16; i++)
			opt[6 + i] = cfg->format == FMT_TTM4 && i >= 4 ?
				     0 : cfg->addr[i];
		err = bpf_store_hdr_opt(skops, opt, 22, 0);
		break;
	}
	stat_inc(err ? STAT_FAILED : STAT_WRITTEN);
}

SEC("sockops")
int lbsim_sockops(struct bpf_sock_ops *skops)
{
	struct lbsim_cfg *cfg;
	int len;

	switch (skops->op) {
	case BPF_SOCK_OPS_TCP_CONNECT_CB:
		/* active open, process context, before the SYN is built */
		cfg = get_cfg();
		if (!cfg || !opt_len(cfg->format))
			break;
		stat_inc(STAT_CONNECT);
		bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags |
					  BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG);
		break;

	case BPF_SOCK_OPS_HDR_OPT_LEN_CB:
		cfg = get_cfg();
		len = cfg ? opt_len(cfg->format) : 0;
		if (!len) {
			stop_writing(skops);
			break;
		}
		/* tcp_current_mss() asks without a segment: keep the MSS
		 * conservative until the option has gone out. */
		if (skops->args[0] == BPF_WRITE_HDR_TCP_CURRENT_MSS) {
			bpf_reserve_hdr_opt(skops, len, 0);
			break;
		}
		/* the SYN (and its retransmissions): nothing */
		if (skops->skb_tcp_flags & TCPHDR_SYN)
			break;
		if (skops->state != BPF_TCP_ESTABLISHED) {
			/* e.g. an RST in SYN_SENT: nothing, and stop */
			stop_writing(skops);
			break;
		}
		/* first segment after the SYN-ACK: the handshake-completing
		 * ACK (a pure ACK for any ordinary connect()) */
		if (bpf_reserve_hdr_opt(skops, len, 0)) {
			stat_inc(STAT_FAILED);
			stop_writing(skops);
		}
		break;

	case BPF_SOCK_OPS_WRITE_HDR_OPT_CB:
		cfg = get_cfg();
		if (cfg && !(skops->skb_tcp_flags & TCPHDR_SYN) &&
		    skops->state == BPF_TCP_ESTABLISHED)
			write_opt(skops, cfg);
		stop_writing(skops);
		break;
	}
	return 1;
}

char _license[] SEC("license") = "GPL";
