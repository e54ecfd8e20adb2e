/* SPDX-License-Identifier: (GPL-2.0-only WITH Linux-syscall-note) OR MIT */
/*
 * kgwttm userspace ABI: the real client of a connection that came through a
 * FULLNAT load balancer.
 *
 *	struct ttm_peer peer;
 *	socklen_t len = sizeof(peer);
 *
 *	getsockopt(fd, SOL_IP, TTM_SO_GET_PEER, &peer, &len);
 *
 * Errors: ENOPROTOOPT the module is not loaded (or listens on another optname,
 * see its optname= parameter); ENOENT the connection carried no trusted client
 * address; EINVAL the buffer is shorter than 20 bytes.
 *
 * The layout is fixed: deployed applications read it as C (this struct) or as
 * Python's struct.Struct('!bbH4s12s') on little-endian hosts.
 */
#ifndef _UAPI_KGWTTM_H
#define _UAPI_KGWTTM_H

#include <linux/types.h>

/* 64 + 1024 + 64 + 64 + 64 + 64 + 1, as existing applications spell it. */
#define KGWTTM_BASE_CTL		(64 + 1024 + 64 + 64 + 64 + 64)
#define KGWTTM_SO_GET_PEER	(KGWTTM_BASE_CTL + 1)	/* 1345 */
#define TTM_BASE_CTL		KGWTTM_BASE_CTL
#define TTM_SO_GET_PEER		KGWTTM_SO_GET_PEER

struct ttm_peer {
	__u16 af;		/* host byte order: AF_INET (2) or AF_INET6 (10) */
	__be16 port;		/* network byte order */
	union {
		__u32 all[4];
		__be32 ip;	/* AF_INET: the first 4 bytes, the rest zero */
		__be32 ip6[4];	/* AF_INET6 */
	};
};

#endif /* _UAPI_KGWTTM_H */
