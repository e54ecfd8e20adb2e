// SPDX-License-Identifier: GPL-2.0-only
/*
 * The BPF backend's walk (bpf/toa_walk.c) against the module's parser
 * (kmod/toa_parse.c): for every option list up to the 40 bytes a TCP header
 * holds, and every set of accepted formats, both give the same reason and,
 * for a client, the same 20 bytes. Built twice, with ASan and UBSan:
 * - as a libFuzzer target (byte 0 picks the formats, bits 0-4 of
 *   TOA_FORMATS_KNOWN; the rest is the option list);
 * - with -DWALK_RANDOM_MAIN, as a program that checks N lists built from the
 *   pieces real ACKs have (NOP, EOL, timestamps, each layout with good and
 *   bad addresses, wrong lengths, truncation) and prints one TAP point.
 * A difference aborts, with the input in hex.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../kmod/toa_parse.c"
#include "../kgwttm_bpf.h"

/* The kind test the BPF program makes, from the bitmap its loader sets. */
static bool walk_kind_maybe(const struct toa_formats *fmts, u8 kind)
{
	__u32 kinds[KGWTTM_BPF_KIND_WORDS];

	kgwttm_bpf_kinds(fmts, kinds);
	return kgwttm_bpf_kind_in(kinds, kind);
}
#define TOA_WALK_KIND_MAYBE(fmts, kind) walk_kind_maybe(fmts, kind)
#include "../toa_walk.c"

static struct toa_formats formats_from(unsigned int bits)
{
	struct toa_formats all, f = { 0 };
	unsigned int k;

	if (toa_formats_parse(TOA_FORMATS_KNOWN, &all) || all.n != TOA_FORMATS_MAX)
		abort();
	for (k = 0; k < all.n; k++)
		if (bits & (1u << k))
			f.f[f.n++] = all.f[k];
	return f;
}

static void differ(const char *what, const uint8_t *opt, size_t len, unsigned int bits,
		   int want, int got)
{
	size_t i;

	fprintf(stderr, "walk_fuzz: %s differ (formats bits 0x%x): toa_parse %d, toa_walk %d; options:",
		what, bits, want, got);
	for (i = 0; i < len; i++)
		fprintf(stderr, " %02x", opt[i]);
	fputc('\n', stderr);
	abort();
}

/* Checks one list; the walk reads its input from a buffer of the BPF size. */
static void check(const uint8_t *opt, size_t len, unsigned int bits)
{
	struct toa_formats f = formats_from(bits);
	uint8_t buf[TOA_OPT_SPACE + TOA_OPT_LONGEST];
	struct ttm_peer want, got;
	enum toa_reason rw, rg;

	if (len > TOA_OPT_SPACE)
		return;
	memset(buf, 0xa5, sizeof(buf));		/* bytes past len are never the list */
	memcpy(buf, opt, len);
	memset(&want, 0x5a, sizeof(want));
	memset(&got, 0x5a, sizeof(got));
	rw = toa_parse(len ? opt : NULL, len, &f, &want);
	rg = toa_walk(buf, (unsigned int)len, &f, &got);
	if (rw != rg)
		differ("reasons", opt, len, bits, rw, rg);
	if (rw == TOA_FOUND && memcmp(&want, &got, sizeof(want)))
		differ("clients", opt, len, bits, rw, rg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *opt;

	if (size < 1)
		return 0;
	/* a heap copy of exactly the list, so that ASan sees an overread */
	opt = malloc(size - 1 ? size - 1 : 1);
	memcpy(opt, data + 1, size - 1);
	check(opt, size - 1, data[0] & 0x1f);
	free(opt);
	return 0;
}

#ifdef WALK_RANDOM_MAIN
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static unsigned int rnd(unsigned int n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned int)(rng % n);
}

/* Addresses a client can and cannot have, and the IPv4-mapped form. */
static void addr(uint8_t *a, int v6)
{
	static const uint8_t v4[][4] = {
		{ 203, 0, 113, 7 }, { 0, 1, 2, 3 }, { 127, 0, 0, 1 }, { 169, 254, 1, 1 },
		{ 224, 0, 0, 1 }, { 255, 255, 255, 255 }, { 10, 0, 0, 0 },
	};
	unsigned int i;

	if (!v6) {
		memcpy(a, v4[rnd(7)], 4);
		return;
	}
	memset(a, 0, 16);
	switch (rnd(6)) {
	case 0: a[0] = 0x20; a[1] = 0x01; a[2] = 0x0d; a[3] = 0xb8; a[15] = 7; break;
	case 1: a[15] = rnd(2); break;				/* :: and ::1 */
	case 2: a[0] = 0xfe; a[1] = 0x80; a[15] = 1; break;	/* link-local */
	case 3: a[0] = 0xff; a[1] = 0x02; a[15] = 1; break;	/* multicast */
	case 4: a[10] = a[11] = 0xff; memcpy(a + 12, v4[rnd(7)], 4); break;
	default: for (i = 0; i < 16; i++) a[i] = (uint8_t)rnd(256);
	}
}

/* One option at @o (room for 40 bytes); returns its length in bytes. */
static size_t piece(uint8_t *o)
{
	static const uint8_t kinds[] = { 254, 254, 254, 200, 253, 8, 2, 3, 30 };
	uint8_t kind = kinds[rnd(sizeof(kinds))];
	unsigned int port = rnd(4) ? 40000 : 0;

	switch (rnd(10)) {
	case 0: o[0] = 1; return 1;				/* NOP */
	case 1: o[0] = 0; return 1;				/* EOL */
	case 2: o[0] = 8; o[1] = 10; memset(o + 2, 7, 8); return 10;	/* timestamps */
	case 3:							/* x/8 */
		o[0] = kind; o[1] = 8; o[2] = port >> 8; o[3] = port & 0xff;
		addr(o + 4, 0);
		return 8;
	case 4:							/* x/20 */
		o[0] = kind; o[1] = 20; o[2] = port >> 8; o[3] = port & 0xff;
		addr(o + 4, 1);
		return 20;
	case 5: {						/* x/22, af either order */
		unsigned int af = rnd(5) ? (rnd(2) ? 2 : 10) : rnd(256);

		o[0] = kind; o[1] = 22;
		o[2] = rnd(2) ? af : 0; o[3] = o[2] ? 0 : af;
		o[4] = port >> 8; o[5] = port & 0xff;
		addr(o + 6, af == 10);
		return 22;
	}
	case 6:							/* an odd length */
		o[0] = kind; o[1] = (uint8_t)rnd(12); memset(o + 2, 1, 10);
		return o[1] >= 2 ? o[1] : 2;
	default: {						/* anything */
		size_t n = 1 + rnd(6), i;

		for (i = 0; i < n; i++)
			o[i] = (uint8_t)rnd(256);
		return n;
	}
	}
}

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000, i;

	for (i = 0; i < n; i++) {
		uint8_t opt[TOA_OPT_SPACE + 64];
		size_t len = 0, cut;

		/* a third start as Linux clients do: NOP, NOP, timestamps */
		if (!rnd(3)) {
			opt[0] = 1; opt[1] = 1; opt[2] = 8; opt[3] = 10;
			memset(opt + 4, 7, 8);
			len = 12;
		}
		while (len < TOA_OPT_SPACE && rnd(5))
			len += piece(opt + len);
		if (len > TOA_OPT_SPACE)
			len = TOA_OPT_SPACE;
		/* TCP headers are whole words; the walk takes any length */
		cut = rnd(3) ? len & ~3u : len;
		check(opt, cut, 1 + rnd(31));
	}
	printf("ok - the BPF walk and toa_parse() agree on %lu option lists built from real ACKs' pieces\n", n);
	return 0;
}
#endif
