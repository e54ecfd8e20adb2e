// SPDX-License-Identifier: MIT
/*
 * peerbench: the server side of the call and scale benchmarks.  Listens on
 * IP:PORT (one or more ports), accepts connections on command and keeps them
 * open, and times bare getsockopt() loops over them.  Nothing but the
 * syscall is inside the timed loop.
 *
 *   peerbench IP PORT[,PORT...]
 *
 * Commands on stdin, one per line; each answered by one line on stdout:
 *   accept TOTAL                accept until TOTAL connections are held, or
 *                               until none came for 20 s; answers "accepted N"
 *                               (N: connections held now)
 *   run OP START COUNT PASSES   OP on held.fd[START .. START+COUNT), PASSES times
 *                               over the range (COUNT 1: one fd, PASSES calls)
 *   rand OP COUNT PASSES SEED   OP on COUNT fds drawn at random (with SEED)
 *                               out of all held, PASSES times over the sample
 *       OP: gso   getsockopt(SOL_IP, 1345, 20 bytes)   (the kgwttm call)
 *           ttl   getsockopt(SOL_IP, IP_TTL, 4 bytes)  (a reference syscall
 *                 through the same ip_getsockopt, with no table behind it)
 *           gpn   getpeername (what the module's getname rewrite costs)
 *       answers "ns NS mean MEAN calls N ok OK fail FAIL errno E": NS is the
 *       median over chunks of 50 calls of the time per call (robust to the
 *       host preempting the VM), MEAN the plain mean over all calls
 *   close                       close every held connection; answers "closed"
 * EOF: exits.  Raises RLIMIT_NOFILE itself.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../kmod/uapi/kgwttm.h"
#include "../../test/lib/cutil.h"

#define MAXPORTS 16

static int lfd[MAXPORTS], nl;
static struct fdlist held;

static void accept_until(long total)
{
	struct pollfd p[MAXPORTS];

	for (int i = 0; i < nl; i++)
		p[i] = (struct pollfd){ .fd = lfd[i], .events = POLLIN };
	while (held.n < total) {
		if (poll(p, nl, 20000) <= 0) {
			fprintf(stderr, "peerbench: no connection for 20 s (%ld of %ld)\n", held.n, total);
			return;
		}
		for (int i = 0; i < nl && held.n < total; i++) {
			if (!(p[i].revents & POLLIN))
				continue;
			for (;;) {
				int fd = accept4(lfd[i], NULL, NULL, SOCK_CLOEXEC);

				if (fd < 0) {
					if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
						perror("peerbench: accept");
						exit(1);
					}
					break;
				}
				fdlist_push(&held, fd);
				if (held.n >= total)
					break;
			}
		}
	}
}

/* Calls are timed in chunks of CHUNK: a chunk the host preempted the VM in is an outlier that the median drops. */
#define CHUNK 50

struct result {
	double ns, mean;
	long calls, ok, fail;
	int err;
};

/* idx: the fds to call on, in order; n of them; passes over the list. */
static struct result run(const char *op, const int *idx, long n, long passes)
{
	struct result r = { 0 };
	int gso = strcmp(op, "gso") == 0, gpn = strcmp(op, "gpn") == 0;
	int optname = gso ? TTM_SO_GET_PEER : IP_TTL;
	struct sockaddr_storage ss;
	unsigned char buf[20];
	long total = n * passes, nch = (total + CHUNK - 1) / CHUNK, ci = 0;
	double *ch = calloc(nch, sizeof(*ch)), t0, tc, sum = 0;
	long j = 0;

	t0 = tc = now();
	for (long p = 0; p < passes; p++)
		for (long i = 0; i < n; i++) {
			socklen_t l = gso ? sizeof(buf) : sizeof(int);
			int rc;

			if (gpn) {
				l = sizeof(ss);
				rc = getpeername(held.fd[idx[i]], (struct sockaddr *)&ss, &l);
			} else {
				rc = getsockopt(held.fd[idx[i]], SOL_IP, optname, buf, &l);
			}
			if (rc == 0)
				r.ok++;
			else
				r.fail++, r.err = errno;
			if (++j % CHUNK == 0 || j == total) {
				double t = now();

				ch[ci++] = (t - tc) * 1e9 / (j % CHUNK ? j % CHUNK : CHUNK);
				tc = t;
			}
		}
	sum = now() - t0;
	qsort(ch, ci, sizeof(*ch), cmp_double);
	r.calls = total;
	r.ns = ci ? (ci % 2 ? ch[ci / 2] : (ch[ci / 2 - 1] + ch[ci / 2]) / 2) : 0;
	r.mean = total ? sum * 1e9 / total : 0;
	free(ch);
	return r;
}

static void report(struct result r)
{
	printf("ns %.1f mean %.1f calls %ld ok %ld fail %ld errno %d\n", r.ns, r.mean, r.calls, r.ok, r.fail, r.err);
}

int main(int argc, char **argv)
{
	char line[256], *ports, *tok;
	int one = 1;

	if (argc != 3) {
		fprintf(stderr, "usage: peerbench IP PORT[,PORT...]\n");
		return 2;
	}
	raise_nofile();
	ports = strdup(argv[2]);
	for (tok = strtok(ports, ","); tok && nl < MAXPORTS; tok = strtok(NULL, ",")) {
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(atoi(tok)) };
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
			fprintf(stderr, "peerbench: %s: not an IPv4 address\n", argv[1]);
			return 2;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (fd < 0 || bind(fd, (void *)&sa, sizeof(sa)) < 0 || listen(fd, 4096) < 0) {
			perror("peerbench: listen");
			return 1;
		}
		lfd[nl++] = fd;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	fprintf(stderr, "listening\n");
	while (fgets(line, sizeof(line), stdin)) {
		char op[8];
		long a, b, c;
		unsigned int seed;

		if (sscanf(line, "accept %ld", &a) == 1) {
			accept_until(a);
			printf("accepted %ld\n", held.n);
		} else if (sscanf(line, "run %7s %ld %ld %ld", op, &a, &b, &c) == 4) {
			if (a < 0 || b < 1 || a + b > held.n) {
				printf("error range\n");
				continue;
			}
			int *idx = malloc(b * sizeof(*idx));

			for (long i = 0; i < b; i++)
				idx[i] = a + i;
			report(run(op, idx, b, c));
			free(idx);
		} else if (sscanf(line, "rand %7s %ld %ld %u", op, &b, &c, &seed) == 4) {
			if (b < 1 || !held.n) {
				printf("error range\n");
				continue;
			}
			int *idx = malloc(b * sizeof(*idx));

			srandom(seed);
			for (long i = 0; i < b; i++)
				idx[i] = random() % held.n;
			report(run(op, idx, b, c));
			free(idx);
		} else if (strncmp(line, "close", 5) == 0) {
			for (long i = 0; i < held.n; i++)
				close(held.fd[i]);
			held.n = 0;
			printf("closed\n");
		} else {
			printf("error unknown command\n");
		}
	}
	return 0;
}
