/* SPDX-License-Identifier: MIT */
/*
 * What the C test and benchmark tools (test/lbsim/realstack, bench/c) share:
 * a monotonic clock in seconds, a qsort comparator for latency samples,
 * "ip port" to a sockaddr for either family, and for the tools that hold many
 * connections open, a growing list of fds and the highest RLIMIT_NOFILE the
 * kernel allows. Header-only: each tool is one file built by a one-line rule.
 */
#ifndef KGWTTM_TEST_CUTIL_H
#define KGWTTM_TEST_CUTIL_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

static inline double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* An IPv4 or IPv6 address and a port into @ss; -1 when @ip is neither. */
static inline int parse_addr(const char *ip, int port, struct sockaddr_storage *ss,
			     socklen_t *len)
{
	struct sockaddr_in *s4 = (void *)ss;
	struct sockaddr_in6 *s6 = (void *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		*len = sizeof(*s4);
		return 0;
	}
	if (inet_pton(AF_INET6, ip, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*len = sizeof(*s6);
		return 0;
	}
	return -1;
}

/* The fds a tool holds open, in the order it got them. */
struct fdlist {
	int *fd;
	long n, cap;
};

static inline void fdlist_push(struct fdlist *l, int fd)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 4096;
		l->fd = realloc(l->fd, l->cap * sizeof(*l->fd));
		if (!l->fd) {
			perror("realloc");
			exit(1);
		}
	}
	l->fd[l->n++] = fd;
}

/* As many open files as the kernel lets this process have (up to 1M). */
static inline void raise_nofile(void)
{
	struct rlimit rl = { 1048576, 1048576 };

	while (setrlimit(RLIMIT_NOFILE, &rl) < 0 && rl.rlim_cur > 1024)
		rl.rlim_cur = rl.rlim_max = rl.rlim_cur / 2;
}

#endif /* KGWTTM_TEST_CUTIL_H */
