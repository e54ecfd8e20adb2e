// SPDX-License-Identifier: MIT
/*
 * acceptsrv: a minimal accept loop for benchmarks.  For every connection:
 * accept, read the request (one read), optionally ask for the real client
 * (getsockopt(SOL_IP, 1345)) and/or getpeername, write a small reply, close.
 *
 *   acceptsrv [-j THREADS] [-n N] [-g] [-p] [-r REPLY] IP PORT
 *     -j  accepting threads on the one listening socket (default 1)
 *     -n  exit after N connections (default: run until SIGINT/SIGTERM)
 *     -g  call getsockopt(SOL_IP, 1345) on each connection, count results
 *     -p  call getpeername on each connection
 *     -r  reply text (default: a 2-byte HTTP/1.0 200 response)
 * Prints "listening" on stderr when ready; on exit prints one JSON line:
 *   {"accepted":N,"getsockopt_ok":..,"getsockopt_enoent":..,
 *    "getsockopt_enoprotoopt":..,"getsockopt_other":..}
 * IP may be "::" for a dual-stack listener.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "../../../kmod/uapi/kgwttm.h"
#include "../../lib/cutil.h"

static int lfd, do_gso, do_gpn;
static long limit;
static const char *reply = "HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
static size_t replylen;
static atomic_long accepted, g_ok, g_enoent, g_enoprotoopt, g_other;
static volatile sig_atomic_t stop;

static void report(void)
{
	printf("{\"accepted\":%ld,\"getsockopt_ok\":%ld,\"getsockopt_enoent\":%ld,"
	       "\"getsockopt_enoprotoopt\":%ld,\"getsockopt_other\":%ld}\n",
	       (long)accepted, (long)g_ok, (long)g_enoent, (long)g_enoprotoopt,
	       (long)g_other);
	fflush(stdout);
}

static void *loop(void *arg)
{
	char buf[4096];
	/*
	 * Every client sends its request at once, but a TCG guest under load
	 * can take seconds to run it: a read that gave up first would close
	 * before the request came, and the request's arrival would then reset
	 * the connection.
	 */
	struct timeval tv = { 30, 0 };

	(void)arg;
	while (!stop) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EAGAIN)
				continue;
			perror("acceptsrv: accept");
			break;
		}
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (do_gso) {
			struct ttm_peer peer;
			socklen_t l = sizeof(peer);

			if (getsockopt(fd, SOL_IP, TTM_SO_GET_PEER, &peer, &l) == 0)
				g_ok++;
			else if (errno == ENOENT)
				g_enoent++;
			else if (errno == ENOPROTOOPT)
				g_enoprotoopt++;
			else
				g_other++;
		}
		if (do_gpn) {
			struct sockaddr_storage ss;
			socklen_t l = sizeof(ss);

			getpeername(fd, (void *)&ss, &l);
		}
		if (read(fd, buf, sizeof(buf)) > 0)
			(void)!write(fd, reply, replylen);
		close(fd);
		if (limit && ++accepted >= limit) {
			stop = 1;
			report();
			exit(0);
		} else if (!limit) {
			accepted++;
		}
	}
	return NULL;
}

static void on_sig(int s)
{
	(void)s;
	report();
	_exit(0);
}

int main(int argc, char **argv)
{
	int threads = 1, opt, one = 1;
	struct sockaddr_storage ss = {0};
	socklen_t sslen;

	while ((opt = getopt(argc, argv, "j:n:gpr:")) != -1) {
		switch (opt) {
		case 'j': threads = atoi(optarg); break;
		case 'n': limit = atol(optarg); break;
		case 'g': do_gso = 1; break;
		case 'p': do_gpn = 1; break;
		case 'r': reply = optarg; break;
		default: goto usage;
		}
	}
	if (argc - optind != 2 || threads < 1)
		goto usage;
	replylen = strlen(reply);
	if (parse_addr(argv[optind], atoi(argv[optind + 1]), &ss, &sslen) < 0)
		goto usage;
	lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6) {
		int zero = 0;

		setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	}
	if (lfd < 0 || bind(lfd, (void *)&ss, sslen) < 0 || listen(lfd, 4096) < 0) {
		perror("acceptsrv: listen");
		return 1;
	}
	signal(SIGINT, on_sig);
	signal(SIGTERM, on_sig);
	signal(SIGPIPE, SIG_IGN);
	fprintf(stderr, "listening\n");
	for (int i = 1; i < threads; i++) {
		pthread_t t;

		pthread_create(&t, NULL, loop, NULL);
	}
	loop(NULL);
	report();
	return 0;
usage:
	fprintf(stderr, "usage: acceptsrv [-j THREADS] [-n N] [-g] [-p] [-r REPLY] IP PORT\n");
	return 2;
}
