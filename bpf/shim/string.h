/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * <string.h> for kmod/toa_parse.c built for the BPF target (kgwttm.bpf.c):
 * no libc, and no calls the BPF backend cannot lower. Every block that file
 * moves or compares is at most a struct ttm_peer (20 bytes), so each
 * function is a loop of constant length that the compiler unrolls and the
 * verifier reads as constant offsets; a length known only at run time (4 or
 * 16 for an address) guards each byte instead of bounding the loop. A length
 * the compiler knows goes to its builtin, which moves whole words where it
 * knows the alignment (the walk decodes from an aligned copy).
 */
#ifndef _KGWTTM_BPF_SHIM_STRING_H
#define _KGWTTM_BPF_SHIM_STRING_H

#include <stddef.h>

#define KGWTTM_BPF_MEM_MAX	20

static __attribute__((always_inline)) inline int
kgwttm_bpf_memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	int d = 0;

#pragma clang loop unroll(full)
	for (size_t i = 0; i < KGWTTM_BPF_MEM_MAX; i++)
		if (i < n && !d)
			d = x[i] - y[i];
	return d;
}

static __attribute__((always_inline)) inline void *
kgwttm_bpf_memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (__builtin_constant_p(n) && n <= KGWTTM_BPF_MEM_MAX)
		return __builtin_memcpy(dst, src, n);
#pragma clang loop unroll(full)
	for (size_t i = 0; i < KGWTTM_BPF_MEM_MAX; i++)
		if (i < n)
			d[i] = s[i];
	return dst;
}

/* Only ever called with dst below src (toa_check's a <- a + 12). */
#define kgwttm_bpf_memmove kgwttm_bpf_memcpy

static __attribute__((always_inline)) inline void *
kgwttm_bpf_memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;

	if (__builtin_constant_p(n) && n <= KGWTTM_BPF_MEM_MAX)
		return __builtin_memset(dst, c, n);
#pragma clang loop unroll(full)
	for (size_t i = 0; i < KGWTTM_BPF_MEM_MAX; i++)
		if (i < n)
			d[i] = (unsigned char)c;
	return dst;
}

#define memcmp kgwttm_bpf_memcmp
#define memcpy kgwttm_bpf_memcpy
#define memmove kgwttm_bpf_memmove
#define memset kgwttm_bpf_memset

#endif /* _KGWTTM_BPF_SHIM_STRING_H */
