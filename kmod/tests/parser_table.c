// SPDX-License-Identifier: GPL-2.0-only
/*
 * Table test for toa_parse.c: one row per wire format and per malformed case,
 * each with its input bytes and the expected result. Prints one TAP point per
 * row ("ok N - description") and no plan: test/host/10-parser.test.sh adds the
 * fuzz point and the plan. Built with ASan and UBSan, so a read outside the
 * input fails the run.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../toa_parse.h"

/* Input bytes as a heap copy of exactly their length (ASan sees overreads). */
#define BYTES(...) (const u8[]){ __VA_ARGS__ }, sizeof((const u8[]){ __VA_ARGS__ })

#define V4_OPT(kind)	kind, 8, 0x1f, 0x90, 203, 0, 113, 7	/* 203.0.113.7:8080 */
#define V6_ADDR		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x07
#define V6_OPT(kind)	kind, 20, 0x01, 0xbb, V6_ADDR		/* [2001:db8::7]:443 */
#define TS_OPT		8, 10, 0, 0, 0, 1, 0, 0, 0, 2		/* timestamps */

struct parse_case {
	const char *desc;
	const char *formats;
	const u8 *in;
	size_t len;
	enum toa_reason want;
	int af;			/* for TOA_FOUND */
	unsigned int port;
	const char *addr;
};

static const struct parse_case parse_cases[] = {
	{ "254/8: IPv4 client", TOA_FORMATS_DEFAULT,
	  BYTES(V4_OPT(254)), TOA_FOUND, AF_INET, 8080, "203.0.113.7" },
	{ "254/20: IPv6 client", TOA_FORMATS_DEFAULT,
	  BYTES(V6_OPT(254)), TOA_FOUND, AF_INET6, 443, "2001:db8::7" },
	{ "254/22: af 2 big-endian, IPv4 in the first 4 bytes, rest zeroed", TOA_FORMATS_DEFAULT,
	  BYTES(254, 22, 0, 2, 0x30, 0x39, 198, 51, 100, 9, 0xaa, 0xbb, 0xcc, 0xdd,
		1, 2, 3, 4, 5, 6, 7, 8), TOA_FOUND, AF_INET, 12345, "198.51.100.9" },
	{ "254/22: af 2 little-endian", TOA_FORMATS_DEFAULT,
	  BYTES(254, 22, 2, 0, 0x30, 0x39, 198, 51, 100, 9, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0), TOA_FOUND, AF_INET, 12345, "198.51.100.9" },
	{ "254/22: af 10 big-endian", TOA_FORMATS_DEFAULT,
	  BYTES(254, 22, 0, 10, 0x01, 0xbb, V6_ADDR), TOA_FOUND, AF_INET6, 443, "2001:db8::7" },
	{ "254/22: af 10 little-endian", TOA_FORMATS_DEFAULT,
	  BYTES(254, 22, 10, 0, 0x01, 0xbb, V6_ADDR), TOA_FOUND, AF_INET6, 443, "2001:db8::7" },
	{ "200/8 when accepted (Tencent, UCloud, original FULLNAT)", "200:8",
	  BYTES(V4_OPT(200)), TOA_FOUND, AF_INET, 8080, "203.0.113.7" },
	{ "253/20 when accepted (Alibaba v6)", "253:20",
	  BYTES(V6_OPT(253)), TOA_FOUND, AF_INET6, 443, "2001:db8::7" },
	{ "behind NOPs and timestamps", TOA_FORMATS_DEFAULT,
	  BYTES(1, 1, TS_OPT, V4_OPT(254)), TOA_FOUND, AF_INET, 8080, "203.0.113.7" },
	{ "at the end of a full 40-byte option space", TOA_FORMATS_DEFAULT,
	  BYTES(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, TS_OPT, TS_OPT, V4_OPT(254)),
	  TOA_FOUND, AF_INET, 8080, "203.0.113.7" },
	{ "two accepted options (the client's own, then the LB's): malformed", TOA_FORMATS_DEFAULT,
	  BYTES(V4_OPT(254), 254, 8, 0, 80, 10, 9, 9, 9), TOA_DUPLICATE, 0, 0, NULL },
	{ "two accepted options in different formats (254/22, then 254/8): malformed",
	  TOA_FORMATS_DEFAULT,
	  BYTES(254, 22, 0, 2, 0x30, 0x39, 198, 51, 100, 9, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0, V4_OPT(254)), TOA_DUPLICATE, 0, 0, NULL },
	{ "two accepted options, the second with a bad address: still two", TOA_FORMATS_DEFAULT,
	  BYTES(V4_OPT(254), 254, 8, 0, 80, 127, 0, 0, 1), TOA_DUPLICATE, 0, 0, NULL },
	{ "an unaccepted kind beside the accepted one (200/8 by default): one option",
	  TOA_FORMATS_DEFAULT,
	  BYTES(V4_OPT(200), V4_OPT(254)), TOA_FOUND, AF_INET, 8080, "203.0.113.7" },
	{ "wrong length first, then a valid one: the valid one wins", TOA_FORMATS_DEFAULT,
	  BYTES(254, 4, 0xf9, 0x89, V4_OPT(254)), TOA_FOUND, AF_INET, 8080, "203.0.113.7" },
	{ "valid one, then a length-0 option: the list is broken, nothing is believed",
	  TOA_FORMATS_DEFAULT,
	  BYTES(V4_OPT(254), 5, 0), TOA_SHORT_OPTLEN, 0, 0, NULL },
	{ "valid one, then an option past the end: nothing is believed", TOA_FORMATS_DEFAULT,
	  BYTES(V4_OPT(254), 8, 10, 0, 0), TOA_OVERRUN, 0, 0, NULL },
	{ "no options at all", TOA_FORMATS_DEFAULT,
	  NULL, 0, TOA_NONE, 0, 0, NULL },
	{ "a plain ACK: NOP NOP timestamps", TOA_FORMATS_DEFAULT,
	  BYTES(1, 1, TS_OPT), TOA_NONE, 0, 0, NULL },
	{ "unaccepted kind: 200/8 with the default formats", TOA_FORMATS_DEFAULT,
	  BYTES(V4_OPT(200)), TOA_NONE, 0, 0, NULL },
	{ "unaccepted kind: 253/20 with the default formats", TOA_FORMATS_DEFAULT,
	  BYTES(V6_OPT(253)), TOA_NONE, 0, 0, NULL },
	{ "option after EOL is ignored", TOA_FORMATS_DEFAULT,
	  BYTES(0, V4_OPT(254)), TOA_NONE, 0, 0, NULL },
	{ "malformed: len 0", TOA_FORMATS_DEFAULT,
	  BYTES(254, 0, 0x1f, 0x90, 203, 0, 113, 7), TOA_SHORT_OPTLEN, 0, 0, NULL },
	{ "malformed: len 1", TOA_FORMATS_DEFAULT,
	  BYTES(1, 254, 1, 0x1f, 0x90, 203, 0, 113), TOA_SHORT_OPTLEN, 0, 0, NULL },
	{ "malformed: len 1 of an unrelated kind stops the walk", TOA_FORMATS_DEFAULT,
	  BYTES(30, 1, V4_OPT(254)), TOA_SHORT_OPTLEN, 0, 0, NULL },
	{ "malformed: overlong, runs past the end", TOA_FORMATS_DEFAULT,
	  BYTES(1, 1, 254, 8, 0x1f, 0x90, 203, 0), TOA_OVERRUN, 0, 0, NULL },
	{ "malformed: truncated at header end (kind, no length byte)", TOA_FORMATS_DEFAULT,
	  BYTES(1, 1, 1, 254), TOA_OVERRUN, 0, 0, NULL },
	{ "malformed: wrong length for kind (254/10)", TOA_FORMATS_DEFAULT,
	  BYTES(254, 10, 0x1f, 0x90, 203, 0, 113, 7, 0, 0), TOA_WRONG_LEN, 0, 0, NULL },
	{ "malformed: wrong length for kind (254/8 when only 254:20 is accepted)", "254:20",
	  BYTES(V4_OPT(254)), TOA_WRONG_LEN, 0, 0, NULL },
	{ "malformed: 254/22 with af 3", TOA_FORMATS_DEFAULT,
	  BYTES(254, 22, 0, 3, 0x01, 0xbb, V6_ADDR), TOA_BAD_FAMILY, 0, 0, NULL },
	{ "malformed: 254/22 with af 0x0a0a", TOA_FORMATS_DEFAULT,
	  BYTES(254, 22, 10, 10, 0x01, 0xbb, V6_ADDR), TOA_BAD_FAMILY, 0, 0, NULL },
	{ "malformed: the first malformed reason is kept", TOA_FORMATS_DEFAULT,
	  BYTES(254, 6, 0, 0, 0, 0, 1, 254), TOA_WRONG_LEN, 0, 0, NULL },
};

/* 254/8 carrying a.b.c.d:8080; 254/20 carrying the 16 bytes given:443. */
#define V4_AT(a, b, c, d)	BYTES(254, 8, 0x1f, 0x90, a, b, c, d)
#define V6_AT(...)		BYTES(254, 20, 0x01, 0xbb, __VA_ARGS__)
#define Z10			0, 0, 0, 0, 0, 0, 0, 0, 0, 0

/* Which clients are believed: addresses no client beyond an LB can have. */
static const struct parse_case address_cases[] = {
	{ "address: 0.0.0.0 is malformed", TOA_FORMATS_DEFAULT,
	  V4_AT(0, 0, 0, 0), TOA_BAD_ADDR, 0, 0, NULL },
	{ "address: 0.1.2.3 (this network, 0/8) is malformed", TOA_FORMATS_DEFAULT,
	  V4_AT(0, 1, 2, 3), TOA_BAD_ADDR, 0, 0, NULL },
	{ "address: 127.0.0.1 is malformed", TOA_FORMATS_DEFAULT,
	  V4_AT(127, 0, 0, 1), TOA_BAD_ADDR, 0, 0, NULL },
	{ "address: 127.255.255.254 (loopback /8) is malformed", TOA_FORMATS_DEFAULT,
	  V4_AT(127, 255, 255, 254), TOA_BAD_ADDR, 0, 0, NULL },
	{ "address: 169.254.1.1 (link-local) is malformed", TOA_FORMATS_DEFAULT,
	  V4_AT(169, 254, 1, 1), TOA_BAD_ADDR, 0, 0, NULL },
	{ "address: 224.0.0.1 (multicast) is malformed", TOA_FORMATS_DEFAULT,
	  V4_AT(224, 0, 0, 1), TOA_BAD_ADDR, 0, 0, NULL },
	{ "address: 239.255.255.250 (multicast) is malformed", TOA_FORMATS_DEFAULT,
	  V4_AT(239, 255, 255, 250), TOA_BAD_ADDR, 0, 0, NULL },
	{ "address: 240.0.0.1 (reserved) is malformed", TOA_FORMATS_DEFAULT,
	  V4_AT(240, 0, 0, 1), TOA_BAD_ADDR, 0, 0, NULL },
	{ "address: 255.255.255.255 (broadcast) is malformed", TOA_FORMATS_DEFAULT,
	  V4_AT(255, 255, 255, 255), TOA_BAD_ADDR, 0, 0, NULL },
	{ "address: 254/22 af 2 with 127.0.0.1 is malformed", TOA_FORMATS_DEFAULT,
	  BYTES(254, 22, 0, 2, 0x30, 0x39, 127, 0, 0, 1, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0), TOA_BAD_ADDR, 0, 0, NULL },
	{ "address: 1.0.0.1 is a client", TOA_FORMATS_DEFAULT,
	  V4_AT(1, 0, 0, 1), TOA_FOUND, AF_INET, 8080, "1.0.0.1" },
	{ "address: 126.255.255.255 is a client", TOA_FORMATS_DEFAULT,
	  V4_AT(126, 255, 255, 255), TOA_FOUND, AF_INET, 8080, "126.255.255.255" },
	{ "address: 169.253.255.255 is a client", TOA_FORMATS_DEFAULT,
	  V4_AT(169, 253, 255, 255), TOA_FOUND, AF_INET, 8080, "169.253.255.255" },
	{ "address: 223.255.255.255 is a client", TOA_FORMATS_DEFAULT,
	  V4_AT(223, 255, 255, 255), TOA_FOUND, AF_INET, 8080, "223.255.255.255" },
	{ "address: 10.1.2.3 (private: a client in the same VPC) is a client",
	  TOA_FORMATS_DEFAULT,
	  V4_AT(10, 1, 2, 3), TOA_FOUND, AF_INET, 8080, "10.1.2.3" },
	{ "address: :: is malformed", TOA_FORMATS_DEFAULT,
	  V6_AT(Z10, 0, 0, 0, 0, 0, 0), TOA_BAD_ADDR, 0, 0, NULL },
	{ "address: ::1 is malformed", TOA_FORMATS_DEFAULT,
	  V6_AT(Z10, 0, 0, 0, 0, 0, 1), TOA_BAD_ADDR, 0, 0, NULL },
	{ "address: ::203.0.113.7 (IPv4-compatible, deprecated) is malformed", TOA_FORMATS_DEFAULT,
	  V6_AT(Z10, 0, 0, 203, 0, 113, 7), TOA_BAD_ADDR, 0, 0, NULL },
	{ "address: fe80::1 (link-local) is malformed", TOA_FORMATS_DEFAULT,
	  V6_AT(0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1), TOA_BAD_ADDR, 0, 0, NULL },
	{ "address: febf::1 (link-local /10) is malformed", TOA_FORMATS_DEFAULT,
	  V6_AT(0xfe, 0xbf, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1), TOA_BAD_ADDR, 0, 0, NULL },
	{ "address: ff02::1 (multicast) is malformed", TOA_FORMATS_DEFAULT,
	  V6_AT(0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1), TOA_BAD_ADDR, 0, 0, NULL },
	{ "address: ::ffff:127.0.0.1 (v4-mapped loopback) is malformed", TOA_FORMATS_DEFAULT,
	  V6_AT(Z10, 0xff, 0xff, 127, 0, 0, 1), TOA_BAD_ADDR, 0, 0, NULL },
	{ "address: 254/22 af 10 with ::1 is malformed", TOA_FORMATS_DEFAULT,
	  BYTES(254, 22, 0, 10, 0x01, 0xbb, Z10, 0, 0, 0, 0, 0, 1), TOA_BAD_ADDR, 0, 0, NULL },
	{ "address: fec0::1 (old site-local, routable inside a site) is a client",
	  TOA_FORMATS_DEFAULT,
	  V6_AT(0xfe, 0xc0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1),
	  TOA_FOUND, AF_INET6, 443, "fec0::1" },
	{ "address: fd00::7 (ULA) is a client", TOA_FORMATS_DEFAULT,
	  V6_AT(0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7),
	  TOA_FOUND, AF_INET6, 443, "fd00::7" },
	{ "address: ::ffff:203.0.113.7 in 254/20 is the AF_INET client 203.0.113.7",
	  TOA_FORMATS_DEFAULT,
	  V6_AT(Z10, 0xff, 0xff, 203, 0, 113, 7), TOA_FOUND, AF_INET, 443, "203.0.113.7" },
	{ "address: ::ffff:203.0.113.7 in 254/22 af 10 is the AF_INET client 203.0.113.7",
	  TOA_FORMATS_DEFAULT,
	  BYTES(254, 22, 10, 0, 0x01, 0xbb, Z10, 0xff, 0xff, 203, 0, 113, 7),
	  TOA_FOUND, AF_INET, 443, "203.0.113.7" },
	{ "port: 0 in 254/8 is malformed", TOA_FORMATS_DEFAULT,
	  BYTES(254, 8, 0, 0, 203, 0, 113, 7), TOA_BAD_PORT, 0, 0, NULL },
	{ "port: 0 in 254/20 is malformed", TOA_FORMATS_DEFAULT,
	  BYTES(254, 20, 0, 0, V6_ADDR), TOA_BAD_PORT, 0, 0, NULL },
	{ "port: 0 in 254/22 is malformed", TOA_FORMATS_DEFAULT,
	  BYTES(254, 22, 0, 10, 0, 0, V6_ADDR), TOA_BAD_PORT, 0, 0, NULL },
	{ "port: 1 is a client", TOA_FORMATS_DEFAULT,
	  BYTES(254, 8, 0, 1, 203, 0, 113, 7), TOA_FOUND, AF_INET, 1, "203.0.113.7" },
};

struct formats_case {
	const char *desc;
	const char *in;
	int ok;
	unsigned int n;
};

static const struct formats_case formats_cases[] = {
	{ "formats: the default", TOA_FORMATS_DEFAULT, 1, 3 },
	{ "formats: every known pair", TOA_FORMATS_KNOWN, 1, TOA_FORMATS_MAX },
	{ "formats: a duplicate is stored once", "254:8,254:8", 1, 1 },
	{ "formats: trailing newline (sysfs)", "200:8\n", 1, 1 },
	{ "formats: empty", "", 0, 0 },
	{ "formats: unknown pair 254:9", "254:9", 0, 0 },
	{ "formats: unknown pair 200:20", "200:20", 0, 0 },
	{ "formats: no length", "254", 0, 0 },
	{ "formats: trailing comma", "254:8,", 0, 0 },
	{ "formats: number too long", "0254:8", 0, 0 },
	{ "formats: not a number", "toa:8", 0, 0 },
	{ "formats: spaces", "254:8, 200:8", 0, 0 },
};

static int tap_n;
static int failed;

static void tap(int ok, const char *desc, const char *why)
{
	printf("%sok %d - %s\n", ok ? "" : "not ", ++tap_n, desc);
	if (!ok) {
		printf("  # %s\n", why);
		failed = 1;
	}
}

static void run_parse_case(const struct parse_case *c)
{
	struct toa_formats fmts;
	struct ttm_peer got, want;
	char why[160] = "";
	enum toa_reason r;
	u8 *in;

	if (toa_formats_parse(c->formats, &fmts)) {
		tap(0, c->desc, "bad formats in the table");
		return;
	}
	in = malloc(c->len ? c->len : 1);	/* exact size for ASan */
	if (c->len)
		memcpy(in, c->in, c->len);
	memset(&got, 0x5a, sizeof(got));
	r = toa_parse(c->len ? in : NULL, c->len, &fmts, &got);
	free(in);

	if (r != c->want) {
		snprintf(why, sizeof(why), "got %s, want %s",
			 toa_reason_name(r), toa_reason_name(c->want));
		tap(0, c->desc, why);
		return;
	}
	if (r == TOA_FOUND) {
		memset(&want, 0, sizeof(want));
		want.af = (u16)c->af;
		want.port = htons((u16)c->port);
		inet_pton(c->af, c->addr, want.all);
		if (memcmp(&got, &want, sizeof(got))) {
			char a[INET6_ADDRSTRLEN] = "?";

			inet_ntop(got.af == AF_INET6 ? AF_INET6 : AF_INET, got.all, a, sizeof(a));
			snprintf(why, sizeof(why), "got af %u port %u addr %s (or nonzero padding)",
				 got.af, ntohs(got.port), a);
			tap(0, c->desc, why);
			return;
		}
	}
	tap(1, c->desc, NULL);
}

static void run_formats_case(const struct formats_case *c)
{
	struct toa_formats fmts;
	int ok = toa_formats_parse(c->in, &fmts) == 0;
	char why[80];

	snprintf(why, sizeof(why), "got ok=%d n=%u, want ok=%d n=%u",
		 ok, ok ? fmts.n : 0, c->ok, c->n);
	tap(ok == c->ok && (!ok || fmts.n == c->n), c->desc, why);
}

int main(void)
{
	size_t i;

	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++)
		run_parse_case(&parse_cases[i]);
	for (i = 0; i < sizeof(address_cases) / sizeof(address_cases[0]); i++)
		run_parse_case(&address_cases[i]);
	for (i = 0; i < sizeof(formats_cases) / sizeof(formats_cases[0]); i++)
		run_formats_case(&formats_cases[i]);
	return failed;
}
