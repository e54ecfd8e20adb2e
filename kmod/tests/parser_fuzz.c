// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for toa_parse.c, run with ASan and UBSan.
 * Byte 0 picks which of TOA_FORMATS_KNOWN are accepted (bits 0-4) or, with bit 7
 * set, feeds the rest to the formats= parser instead; the other bytes are the
 * TCP options. Besides memory safety it checks what callers rely on: a found
 * client is AF_INET or AF_INET6, an IPv4 one has zeroed padding, an IPv6 one
 * is never IPv4-mapped, and its port is not 0.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../toa_parse.h"

static void fuzz_formats(const uint8_t *data, size_t size)
{
	struct toa_formats fmts;
	char *s = malloc(size + 1);

	memcpy(s, data, size);
	s[size] = '\0';
	if (toa_formats_parse(s, &fmts) == 0 && (fmts.n == 0 || fmts.n > TOA_FORMATS_MAX))
		abort();
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct toa_formats fmts = { 0 }, all;
	struct ttm_peer out;
	enum toa_reason r;
	unsigned int k;

	if (size < 1)
		return 0;
	if (data[0] & 0x80) {
		fuzz_formats(data + 1, size - 1);
		return 0;
	}
	if (toa_formats_parse(TOA_FORMATS_KNOWN, &all) || all.n != TOA_FORMATS_MAX)
		abort();
	for (k = 0; k < all.n; k++)
		if (data[0] & (1u << k))
			fmts.f[fmts.n++] = all.f[k];

	r = toa_parse(size > 1 ? data + 1 : NULL, size - 1, &fmts, &out);
	if (r >= TOA_REASON_NR)
		abort();
	if (r == TOA_FOUND) {
		static const uint8_t v4mapped[12] = { [10] = 0xff, [11] = 0xff };

		if (out.af != AF_INET && out.af != AF_INET6)
			abort();
		if (out.af == AF_INET && (out.all[1] || out.all[2] || out.all[3]))
			abort();
		if (out.af == AF_INET6 && !memcmp(out.all, v4mapped, sizeof(v4mapped)))
			abort();
		if (!out.port)
			abort();
	}
	return 0;
}
