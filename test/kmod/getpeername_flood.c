// SPDX-License-Identifier: GPL-2.0
/*
 * getpeername_flood THREADS SECONDS: what any unprivileged user can do to the
 * getpeername rewrite. It makes a loopback TCP connection, gives both ends a
 * cookie with SO_COOKIE (so kgwttm cannot skip them as never-tracked), and
 * has THREADS threads call getpeername() on them for SECONDS, all contending
 * for the same socket lock. Prints "calls N" on success.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif

static int fds[2];
static atomic_long calls;
static atomic_int stop;
/* Every thread starts at once: creating threads among spinning ones is slow. */
static pthread_barrier_t start;

static void *flood(void *arg)
{
	int fd = fds[(long)arg & 1];

	pthread_barrier_wait(&start);
	while (!atomic_load(&stop)) {
		struct sockaddr_in6 sa;
		socklen_t len = sizeof(sa);

		if (getpeername(fd, (struct sockaddr *)&sa, &len)) {
			perror("getpeername");
			exit(1);
		}
		atomic_fetch_add(&calls, 1);
	}
	return NULL;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	unsigned long long cookie;
	pthread_t *threads;
	long i, n;
	int lfd;

	if (argc != 3) {
		fprintf(stderr, "usage: %s THREADS SECONDS\n", argv[0]);
		return 2;
	}
	n = atol(argv[1]);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 1) ||
	    getsockname(lfd, (struct sockaddr *)&sa, &len))
		die("listen");
	fds[0] = socket(AF_INET, SOCK_STREAM, 0);
	if (fds[0] < 0 || connect(fds[0], (struct sockaddr *)&sa, sizeof(sa)))
		die("connect");
	fds[1] = accept(lfd, NULL, NULL);
	if (fds[1] < 0)
		die("accept");
	for (i = 0; i < 2; i++) {
		len = sizeof(cookie);
		if (getsockopt(fds[i], SOL_SOCKET, SO_COOKIE, &cookie, &len) || !cookie)
			die("SO_COOKIE");
	}

	threads = calloc(n, sizeof(*threads));
	pthread_barrier_init(&start, NULL, n + 1);
	for (i = 0; i < n; i++)
		if (pthread_create(&threads[i], NULL, flood, (void *)i))
			die("pthread_create");
	pthread_barrier_wait(&start);
	sleep(atoi(argv[2]));
	atomic_store(&stop, 1);
	for (i = 0; i < n; i++)
		pthread_join(threads[i], NULL);
	printf("calls %ld\n", atomic_load(&calls));
	return 0;
}
