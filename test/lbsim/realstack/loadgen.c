// SPDX-License-Identifier: MIT
/*
 * loadgen: N short TCP connections, K in flight, to IP PORT.  Each one
 * connects, sends a small request, reads the reply (until EOF, or until
 * -b BYTES arrived), and closes.  Prints one JSON line:
 *   {"connections":N_ok,"errors":E,"seconds":S,"conns_per_s":R,...}
 * Exit code 0 when every connection succeeded, 1 otherwise, 2 on usage.
 *
 *   loadgen [-n N] [-c K] [-b BYTES] [-q REQUEST] [-t TIMEOUT_S] [-R] IP PORT
 *     -n  connections in total (default 1000)
 *     -c  connections in flight (default 64)
 *     -b  close after this many reply bytes (default 0: read until EOF)
 *     -q  request text (default: an HTTP/1.1 GET with Connection: close)
 *     -t  per-connection timeout in seconds (default 10)
 *     -R  close with RST (SO_LINGER 0) instead of FIN
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../lib/cutil.h"

enum { ST_FREE, ST_CONNECTING, ST_READING };

struct conn {
	int fd;
	int state;
	size_t got;
	double start;
};

static void usage(void)
{
	fprintf(stderr, "usage: loadgen [-n N] [-c K] [-b BYTES] [-q REQUEST] [-t TIMEOUT_S] [-R] IP PORT\n");
	exit(2);
}

int main(int argc, char **argv)
{
	long total = 1000, inflight = 64, want_bytes = 0;
	double timeout = 10;
	int rst = 0, opt;
	const char *req = "GET / HTTP/1.1\r\nHost: lbsim\r\nConnection: close\r\n\r\n";
	struct sockaddr_storage ss = {0};
	socklen_t sslen;
	char errbuf[128] = "";

	while ((opt = getopt(argc, argv, "n:c:b:q:t:R")) != -1) {
		switch (opt) {
		case 'n': total = atol(optarg); break;
		case 'c': inflight = atol(optarg); break;
		case 'b': want_bytes = atol(optarg); break;
		case 'q': req = optarg; break;
		case 't': timeout = atof(optarg); break;
		case 'R': rst = 1; break;
		default: usage();
		}
	}
	if (argc - optind != 2 || total < 1 || inflight < 1)
		usage();
	if (parse_addr(argv[optind], atoi(argv[optind + 1]), &ss, &sslen) < 0)
		usage();
	if (inflight > total)
		inflight = total;

	struct conn *c = calloc(inflight, sizeof(*c));
	double *lat = calloc(total, sizeof(*lat));
	int ep = epoll_create1(0);
	size_t reqlen = strlen(req);
	long started = 0, ok = 0, errors = 0, e_connect = 0, e_io = 0, e_timeout = 0;
	double t0 = now();
	char buf[16384];

	if (!c || !lat || ep < 0) {
		perror("loadgen: setup");
		return 2;
	}

#define FAIL(i, kind, what) do {					\
		errors++; kind++;					\
		if (!errbuf[0])						\
			snprintf(errbuf, sizeof(errbuf), "%s: %s", what, strerror(errno)); \
		close(c[i].fd); c[i].state = ST_FREE;			\
	} while (0)

	for (;;) {
		/* start new connections into free slots */
		for (long i = 0; i < inflight && started < total; i++) {
			if (c[i].state != ST_FREE)
				continue;
			int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

			started++;
			if (fd < 0) {
				errors++; e_connect++;
				if (!errbuf[0])
					snprintf(errbuf, sizeof(errbuf), "socket: %s", strerror(errno));
				continue;
			}
			c[i].fd = fd;
			c[i].got = 0;
			c[i].start = now();
			if (connect(fd, (void *)&ss, sslen) < 0 && errno != EINPROGRESS) {
				FAIL(i, e_connect, "connect");
				continue;
			}
			c[i].state = ST_CONNECTING;
			struct epoll_event ev = { .events = EPOLLOUT, .data.u64 = i };

			epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
		}
		int active = 0;

		for (long i = 0; i < inflight; i++)
			active += c[i].state != ST_FREE;
		if (!active && started >= total)
			break;

		struct epoll_event evs[256];
		int n = epoll_wait(ep, evs, 256, 100);
		double t = now();

		for (int k = 0; k < n; k++) {
			long i = evs[k].data.u64;
			int fd = c[i].fd;

			if (c[i].state == ST_CONNECTING) {
				int err = 0;
				socklen_t l = sizeof(err);

				getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l);
				if (err) {
					errno = err;
					FAIL(i, e_connect, "connect");
					continue;
				}
				if (send(fd, req, reqlen, MSG_NOSIGNAL) != (ssize_t)reqlen) {
					FAIL(i, e_io, "send");
					continue;
				}
				c[i].state = ST_READING;
				struct epoll_event ev = { .events = EPOLLIN, .data.u64 = i };

				epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
				continue;
			}
			/* reading */
			ssize_t r;
			int done = 0;

			while ((r = recv(fd, buf, sizeof(buf), 0)) > 0) {
				c[i].got += r;
				if (want_bytes && c[i].got >= (size_t)want_bytes) {
					done = 1;
					break;
				}
			}
			if (r == 0)
				done = 1;
			if (!done && r < 0 && errno != EAGAIN) {
				FAIL(i, e_io, "recv");
				continue;
			}
			if (!done)
				continue;
			if (!c[i].got) {
				errno = ECONNRESET;
				FAIL(i, e_io, "empty reply");
				continue;
			}
			if (rst) {
				struct linger lg = { 1, 0 };

				setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			}
			close(fd);
			c[i].state = ST_FREE;
			lat[ok++] = t - c[i].start;
		}
		/* timeouts */
		for (long i = 0; i < inflight; i++) {
			if (c[i].state != ST_FREE && t - c[i].start > timeout) {
				errno = ETIMEDOUT;
				FAIL(i, e_timeout, "timeout");
			}
		}
	}
	double secs = now() - t0;

	qsort(lat, ok, sizeof(*lat), cmp_double);
	printf("{\"connections\":%ld,\"errors\":%ld,\"errors_connect\":%ld,"
	       "\"errors_io\":%ld,\"errors_timeout\":%ld,\"in_flight\":%ld,"
	       "\"seconds\":%.3f,\"conns_per_s\":%.1f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,"
	       "\"target\":\"%s\",\"port\":%s,\"first_error\":\"%s\"}\n",
	       ok, errors, e_connect, e_io, e_timeout, inflight, secs,
	       secs > 0 ? ok / secs : 0.0,
	       ok ? lat[ok / 2] * 1e3 : 0.0, ok ? lat[(ok * 99) / 100] * 1e3 : 0.0,
	       argv[optind], argv[optind + 1], errbuf);
	return errors ? 1 : 0;
}
