// SPDX-License-Identifier: MIT
/*
 * holdconns: the client side of the benchmarks that need many connections
 * open at once.  Run it inside the LB's netns (test/lbsim/realstack/
 * run-as-lb.sh), so that every handshake ends with the client-address option.
 * It opens connections on command and keeps them open, idle, until told to
 * close them or until its stdin ends.
 *
 * Commands on stdin, one per line; each answered by one line on stdout:
 *   open N IP PORT   open N more connections to IP:PORT, at most 64 in their
 *                    handshake at once; answers "opened TOTAL ERRORS"
 *                    (TOTAL: connections held now; ERRORS: failed in this call)
 *   close            close every connection (with RST: SO_LINGER 0, so that
 *                    neither side is left with TIME_WAIT); answers "closed"
 * EOF: closes everything and exits.  Raises RLIMIT_NOFILE itself.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../test/lib/cutil.h"

#define INFLIGHT 64

static struct fdlist held;

/* Opens n connections; returns the number that failed. */
static long open_conns(long n, const struct sockaddr_storage *ss, socklen_t sslen)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	long started = 0, pending = 0, errors = 0;
	char err1[128] = "";

	while (started < n || pending) {
		while (started < n && pending < INFLIGHT) {
			int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
			struct epoll_event ev = { .events = EPOLLOUT };

			started++;
			if (fd < 0) {
				errors++;
				if (!err1[0])
					snprintf(err1, sizeof(err1), "socket: %s", strerror(errno));
				continue;
			}
			if (connect(fd, (const void *)ss, sslen) < 0 && errno != EINPROGRESS) {
				errors++;
				if (!err1[0])
					snprintf(err1, sizeof(err1), "connect: %s", strerror(errno));
				close(fd);
				continue;
			}
			ev.data.fd = fd;
			epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
			pending++;
		}
		struct epoll_event evs[INFLIGHT];
		int k = epoll_wait(ep, evs, INFLIGHT, 30000);

		if (k <= 0) {
			fprintf(stderr, "holdconns: %ld handshakes stuck for 30 s\n", pending);
			exit(1);
		}
		for (int i = 0; i < k; i++) {
			int fd = evs[i].data.fd, soerr = 0;
			socklen_t l = sizeof(soerr);

			epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
			pending--;
			getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &l);
			if (soerr) {
				errors++;
				if (!err1[0])
					snprintf(err1, sizeof(err1), "connect: %s", strerror(soerr));
				close(fd);
				continue;
			}
			fdlist_push(&held, fd);
		}
	}
	close(ep);
	if (err1[0])
		fprintf(stderr, "holdconns: %ld of %ld failed, first: %s\n", errors, n, err1);
	return errors;
}

static void close_all(void)
{
	struct linger lg = { 1, 0 };

	for (long i = 0; i < held.n; i++) {
		setsockopt(held.fd[i], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(held.fd[i]);
	}
	held.n = 0;
}

int main(void)
{
	char line[256];

	raise_nofile();
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof(line), stdin)) {
		char ip[64];
		long n;
		int port;

		if (sscanf(line, "open %ld %63s %d", &n, ip, &port) == 3) {
			struct sockaddr_storage ss;
			socklen_t sslen;

			if (parse_addr(ip, port, &ss, &sslen) < 0) {
				printf("error bad address %s\n", ip);
				continue;
			}
			long errors = open_conns(n, &ss, sslen);

			printf("opened %ld %ld\n", held.n, errors);
		} else if (strncmp(line, "close", 5) == 0) {
			close_all();
			printf("closed\n");
		} else {
			printf("error unknown command\n");
		}
	}
	close_all();
	return 0;
}
