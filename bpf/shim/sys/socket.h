/* SPDX-License-Identifier: GPL-2.0-only */
/* <sys/socket.h> for kmod/toa_parse.c on the BPF target: the two families. */
#ifndef _KGWTTM_BPF_SHIM_SYS_SOCKET_H
#define _KGWTTM_BPF_SHIM_SYS_SOCKET_H

#define AF_INET		2
#define AF_INET6	10

#endif /* _KGWTTM_BPF_SHIM_SYS_SOCKET_H */
