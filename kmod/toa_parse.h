/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The TCP option parser: a pure function over bytes, built into the module
 * and into the userspace table test and fuzzer (kmod/tests/).
 */
#ifndef _KGWTTM_TOA_PARSE_H
#define _KGWTTM_TOA_PARSE_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdbool.h>
#include <stddef.h>
typedef unsigned char u8;
typedef unsigned short u16;
#endif

#include "uapi/kgwttm.h"

/*
 * Every (kind, length) pair some load balancer is known to send; the formats=
 * parameter picks a subset. Kinds 253/254 are RFC 6994 experimental kinds
 * shared with other experiments, so the length decides the layout and an
 * option is trusted only with a length that was accepted.
 */
#define TOA_FORMATS_KNOWN	"254:8,254:20,254:22,200:8,253:20"
#define TOA_FORMATS_MAX		5	/* pairs in TOA_FORMATS_KNOWN */
#define TOA_FORMATS_DEFAULT	"254:8,254:20,254:22"

struct toa_format {
	u8 kind;
	u8 len;
};

struct toa_formats {
	unsigned int n;
	struct toa_format f[TOA_FORMATS_MAX];
};

enum toa_reason {
	TOA_NONE,		/* no accepted kind: a connection without option */
	TOA_FOUND,		/* *out holds the client */
	TOA_WRONG_LEN,		/* an accepted kind with a length not accepted */
	TOA_BAD_FAMILY,		/* a 22-byte option whose af is neither 2 nor 10 */
	TOA_SHORT_OPTLEN,	/* an option length below 2 */
	TOA_OVERRUN,		/* an option runs past the end of the header */
	TOA_BAD_ADDR,		/* an address no remote client can have */
	TOA_BAD_PORT,		/* port 0 */
	TOA_DUPLICATE,		/* more than one accepted option */
	TOA_REASON_NR,
};

/*
 * Walk @len bytes of TCP options (the bytes after the 20-byte header) and
 * return TOA_FOUND with the one accepted option decoded into @out, or why
 * there is none: TOA_NONE, or the first malformed thing seen.
 *
 * The whole list is read. An ACK with two accepted options is malformed:
 * load balancers append their option without stripping the client's own
 * (which a client behind a trusted LB could otherwise get believed), so two
 * options mean one of them is forged, and there is no telling which. An
 * option whose address no client beyond the LB can have (unspecified,
 * loopback, link-local, multicast, broadcast) or whose port is 0 is
 * malformed too; an IPv4 client written in an IPv6 layout (::ffff:a.b.c.d)
 * is returned as the AF_INET client it is.
 */
enum toa_reason toa_parse(const u8 *opt, size_t len,
			  const struct toa_formats *fmts, struct ttm_peer *out);

/*
 * Parse a "kind:len,kind:len" list such as TOA_FORMATS_DEFAULT into @fmts.
 * Returns 0, or -1 for an empty list, a syntax error or a pair that is not
 * in TOA_FORMATS_KNOWN.
 */
int toa_formats_parse(const char *s, struct toa_formats *fmts);

const char *toa_reason_name(enum toa_reason r);

#endif /* _KGWTTM_TOA_PARSE_H */
