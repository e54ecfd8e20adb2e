// SPDX-License-Identifier: MIT
/*
 * bulk: throughput of one established connection.
 *
 *   bulk recv IP PORT          listen, accept one connection, read until EOF;
 *                              prints one JSON line: bytes, seconds (first
 *                              byte to EOF), MB/s over that time, the median
 *                              MB/s over 100 ms windows (robust to the host
 *                              preempting the VM), and whether kgwttm knew the
 *                              connection's client (getsockopt(SOL_IP, 1345))
 *   bulk send IP PORT SECONDS  connect, write 128 KiB buffers for SECONDS, close
 *
 * The receiver prints "listening" on stderr once it listens.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../kmod/uapi/kgwttm.h"

#include "../../test/lib/cutil.h"

#define BUFSZ (128 * 1024)

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	static char buf[BUFSZ];
	int one = 1;

	if (argc < 4 || inet_pton(AF_INET, argv[2], &sa.sin_addr) != 1)
		goto usage;
	sa.sin_port = htons(atoi(argv[3]));

	if (strcmp(argv[1], "recv") == 0) {
		int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), fd;
		struct ttm_peer peer;
		socklen_t pl = sizeof(peer);
		long long bytes = 0, wbytes = 0;
		double t0 = 0, t1, tw = 0, win[1024];
		int nw = 0;
		ssize_t r;

		setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(lfd, (void *)&sa, sizeof(sa)) < 0 || listen(lfd, 16) < 0) {
			perror("bulk: listen");
			return 1;
		}
		fprintf(stderr, "listening\n");
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			perror("bulk: accept");
			return 1;
		}
		int tracked = getsockopt(fd, SOL_IP, TTM_SO_GET_PEER, &peer, &pl) == 0;

		while ((r = read(fd, buf, sizeof(buf))) > 0) {
			double t = now();

			if (!bytes)
				t0 = tw = t;
			bytes += r;
			wbytes += r;
			if (t - tw >= 0.1 && nw < 1024) {
				win[nw++] = wbytes / (t - tw) / 1e6;
				wbytes = 0;
				tw = t;
			}
		}
		t1 = now();
		qsort(win, nw, sizeof(*win), cmp_double);
		printf("{\"bytes\":%lld,\"seconds\":%.4f,\"mb_per_s\":%.2f,"
		       "\"windows\":%d,\"median_window_mb_per_s\":%.2f,\"tracked\":%s}\n",
		       bytes, t1 - t0, t1 > t0 ? bytes / (t1 - t0) / 1e6 : 0.0,
		       nw, nw ? (nw % 2 ? win[nw / 2] : (win[nw / 2 - 1] + win[nw / 2]) / 2) : 0.0,
		       tracked ? "true" : "false");
		return 0;
	}
	if (strcmp(argv[1], "send") == 0 && argc == 5) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		double secs = atof(argv[4]), end;

		if (connect(fd, (void *)&sa, sizeof(sa)) < 0) {
			perror("bulk: connect");
			return 1;
		}
		memset(buf, 'x', sizeof(buf));
		end = now() + secs;
		while (now() < end)
			if (write(fd, buf, sizeof(buf)) < 0) {
				perror("bulk: write");
				return 1;
			}
		close(fd);
		return 0;
	}
usage:
	fprintf(stderr, "usage: bulk recv IP PORT | bulk send IP PORT SECONDS\n");
	return 2;
}
