// SPDX-License-Identifier: GPL-2.0-only
/*
 * TCP option parser for the client address a FULLNAT load balancer writes into
 * the ACK that completes the handshake.
 *
 * Wire formats, by (kind, length):
 *	x/8	port(2, network order) IPv4(4)		TOA v4 (254, 200)
 *	x/20	port(2) IPv6(16)			TOA v6 (254, 253)
 *	x/22	af(2) port(2) addr(16)			ttm_peer (254); af is 2 or
 *							10 in either byte order,
 *							IPv4 in the first 4 bytes
 *
 * The walker follows xt_TCPOPTSTRIP: EOL ends the list, NOP is one byte, any
 * other option has a length byte that must be at least 2 and stay inside the
 * header. Nothing here reads outside opt[0..len).
 */
#ifdef __KERNEL__
#include <linux/kernel.h>
#include <linux/string.h>
#include <linux/socket.h>
#else
#include <string.h>
#include <sys/socket.h>
#endif

#include "toa_parse.h"

#define TOA_OPT_EOL		0	/* RFC 9293: end of option list */
#define TOA_OPT_NOP		1	/* RFC 9293: no-operation (padding) */

/* The af field of the 22-byte layout, written in either byte order. */
static int toa_family(const u8 *af)
{
	if ((af[0] == 0 && af[1] == AF_INET) || (af[0] == AF_INET && af[1] == 0))
		return AF_INET;
	if ((af[0] == 0 && af[1] == AF_INET6) || (af[0] == AF_INET6 && af[1] == 0))
		return AF_INET6;
	return 0;
}

/* The first 12 bytes of an IPv4-mapped IPv6 address (::ffff:a.b.c.d). */
static const u8 toa_v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/*
 * Addresses a client beyond a load balancer cannot have: believing one would
 * let a forged option pass for this host itself, or for nobody. A service
 * that trusts 127.0.0.1 or ::1 must never see them come from the network.
 */
static bool toa_bad_v4(const u8 *a)
{
	return a[0] == 0 ||				/* 0.0.0.0/8: this network */
	       a[0] == 127 ||				/* loopback */
	       (a[0] == 169 && a[1] == 254) ||		/* link-local */
	       a[0] >= 224;				/* multicast, class E, broadcast */
}

static bool toa_bad_v6(const u8 *a)
{
	static const u8 zero[12];

	return !memcmp(a, zero, sizeof(zero)) ||	/* ::, ::1, IPv4-compatible */
	       (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) ||	/* fe80::/10 link-local */
	       a[0] == 0xff;				/* multicast */
}

/* Checks the decoded client; an IPv4-mapped one becomes the AF_INET client. */
static enum toa_reason toa_check(struct ttm_peer *out)
{
	u8 *a = (u8 *)out->all;

	if (out->af == AF_INET6 && !memcmp(a, toa_v4mapped, sizeof(toa_v4mapped))) {
		memmove(a, a + 12, 4);
		memset(a + 4, 0, 12);
		out->af = AF_INET;
	}
	if (out->af == AF_INET ? toa_bad_v4(a) : toa_bad_v6(a))
		return TOA_BAD_ADDR;
	if (!out->port)
		return TOA_BAD_PORT;
	return TOA_FOUND;
}

/* @o points at the kind byte of an option of length @optlen (8, 20 or 22). */
static enum toa_reason toa_decode(const u8 *o, u8 optlen, struct ttm_peer *out)
{
	memset(out, 0, sizeof(*out));
	switch (optlen) {
	case 8:
		out->af = AF_INET;
		memcpy(&out->port, o + 2, 2);
		memcpy(out->all, o + 4, 4);
		return toa_check(out);
	case 20:
		out->af = AF_INET6;
		memcpy(&out->port, o + 2, 2);
		memcpy(out->all, o + 4, 16);
		return toa_check(out);
	case 22:
		out->af = toa_family(o + 2);
		if (!out->af)
			return TOA_BAD_FAMILY;
		memcpy(&out->port, o + 4, 2);
		memcpy(out->all, o + 6, out->af == AF_INET ? 4 : 16);
		return toa_check(out);
	}
	return TOA_WRONG_LEN;
}

/* Whether (kind, optlen) is accepted; *kind_seen says the kind alone was. */
static bool toa_accepted(const struct toa_formats *fmts, u8 kind, u8 optlen,
			 bool *kind_seen)
{
	unsigned int k;

	for (k = 0; k < fmts->n; k++) {
		if (fmts->f[k].kind != kind)
			continue;
		*kind_seen = true;
		if (fmts->f[k].len == optlen)
			return true;
	}
	return false;
}

enum toa_reason toa_parse(const u8 *opt, size_t len,
			  const struct toa_formats *fmts, struct ttm_peer *out)
{
	enum toa_reason bad = TOA_NONE;
	const u8 *found = NULL;
	size_t i = 0;

	while (i < len) {
		bool kind_seen = false;
		u8 optlen;

		if (opt[i] == TOA_OPT_EOL)	/* the rest is padding */
			break;
		if (opt[i] == TOA_OPT_NOP) {
			i++;
			continue;
		}
		/* A broken list: nothing in it is believed. */
		if (len - i < 2)		/* no room for the length byte */
			return bad != TOA_NONE ? bad : TOA_OVERRUN;
		optlen = opt[i + 1];
		if (optlen < 2)			/* would not advance */
			return bad != TOA_NONE ? bad : TOA_SHORT_OPTLEN;
		if (optlen > len - i)		/* runs past the header */
			return bad != TOA_NONE ? bad : TOA_OVERRUN;

		if (toa_accepted(fmts, opt[i], optlen, &kind_seen)) {
			if (found)
				return TOA_DUPLICATE;
			found = opt + i;
		} else if (kind_seen && bad == TOA_NONE) {
			/* Another RFC 6994 experiment may share the kind. */
			bad = TOA_WRONG_LEN;
		}
		i += optlen;
	}
	return found ? toa_decode(found, found[1], out) : bad;
}

/* Reads a decimal number below 1000 at *s; advances *s past it. */
static int toa_number(const char **s, unsigned int *v)
{
	const char *p = *s;

	*v = 0;
	while (*p >= '0' && *p <= '9' && p - *s < 3)
		*v = *v * 10 + (unsigned int)(*p++ - '0');
	if (p == *s || (*p >= '0' && *p <= '9'))
		return -1;
	*s = p;
	return 0;
}

/* Whether (kind, len) is one of TOA_FORMATS_KNOWN. */
static bool toa_known_format(unsigned int kind, unsigned int len)
{
	const char *s = TOA_FORMATS_KNOWN;
	unsigned int k, l;

	while (!toa_number(&s, &k) && *s++ == ':' && !toa_number(&s, &l)) {
		if (k == kind && l == len)
			return true;
		if (*s++ != ',')
			break;
	}
	return false;
}

int toa_formats_parse(const char *s, struct toa_formats *fmts)
{
	unsigned int kind, len, k;

	fmts->n = 0;
	for (;;) {
		bool dup = false;

		if (toa_number(&s, &kind) || *s++ != ':' || toa_number(&s, &len))
			return -1;
		if (!toa_known_format(kind, len))
			return -1;
		for (k = 0; k < fmts->n; k++)
			dup |= fmts->f[k].kind == kind && fmts->f[k].len == len;
		if (!dup) {
			if (fmts->n == TOA_FORMATS_MAX)
				return -1;
			fmts->f[fmts->n].kind = (u8)kind;
			fmts->f[fmts->n].len = (u8)len;
			fmts->n++;
		}
		if (*s == '\0' || *s == '\n')	/* sysfs writes end in \n */
			return 0;
		if (*s++ != ',')
			return -1;
	}
}

const char *toa_reason_name(enum toa_reason r)
{
	switch (r) {
	case TOA_NONE:
		return "none";
	case TOA_FOUND:
		return "found";
	case TOA_WRONG_LEN:
		return "wrong-length";
	case TOA_BAD_FAMILY:
		return "bad-family";
	case TOA_SHORT_OPTLEN:
		return "short-optlen";
	case TOA_OVERRUN:
		return "overrun";
	case TOA_BAD_ADDR:
		return "bad-address";
	case TOA_BAD_PORT:
		return "bad-port";
	case TOA_DUPLICATE:
		return "duplicate";
	case TOA_REASON_NR:
		break;
	}
	return "?";
}
