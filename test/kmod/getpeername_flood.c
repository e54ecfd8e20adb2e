// SPDX-License-Identifier: GPL-2.0-only
/*
 * getpeername_flood THREADS SECONDS: many tasks asleep inside getpeername()
 * on a socket kgwttm has no client for.
 *
 * It makes a loopback TCP connection and gives both ends a cookie with
 * SO_COOKIE (so kgwttm cannot skip them as never-tracked). One thread then
 * send()s from a page that userfaultfd keeps missing: tcp_sendmsg() holds
 * the socket lock while it copies, so the lock stays taken. THREADS threads
 * call getpeername() on that socket and all sleep in inet_getname()'s
 * lock_sock() for SECONDS; then the page is filled in, the send completes,
 * and every thread's call returns. A kretprobe instance held across that
 * sleep by each caller would run out (kgwttm's missed counter would move).
 *
 * Where getpeername() takes no socket lock (5.10's inet_getname() takes it
 * only around a cgroup getpeername BPF program), the threads do not sleep:
 * they call it in a loop until the page is filled in.
 *
 * Prints "calls N locked M": N calls in all (N >= THREADS), M of them
 * returned while the send held the lock (0 where getpeername() sleeps on it).
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif

static int fd;
static atomic_long calls;
static atomic_int stop;
static char *stuck;		/* the page the send copies from */
static long page;

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void *sender(void *arg)
{
	(void)arg;
	if (send(fd, stuck, page, 0) != page)
		die("send");
	return NULL;
}

static void *flood(void *arg)
{
	(void)arg;
	do {
		struct sockaddr_in6 sa;
		socklen_t len = sizeof(sa);

		if (getpeername(fd, (struct sockaddr *)&sa, &len))
			die("getpeername");
		atomic_fetch_add(&calls, 1);
	} while (!atomic_load(&stop));
	return NULL;
}

/* A page whose first touch blocks until UFFDIO_ZEROPAGE. */
static int missing_page(void)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	int uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);

	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api))
		die("userfaultfd");
	stuck = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (stuck == MAP_FAILED)
		die("mmap");
	reg.range.start = (unsigned long)stuck;
	reg.range.len = page;
	if (ioctl(uffd, UFFDIO_REGISTER, &reg))
		die("UFFDIO_REGISTER");
	return uffd;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	struct uffdio_zeropage zero;
	unsigned long long cookie;
	pthread_t send_thread, *threads;
	int lfd, peer, uffd, i;
	long n, while_locked;

	if (argc != 3) {
		fprintf(stderr, "usage: %s THREADS SECONDS\n", argv[0]);
		return 2;
	}
	n = atol(argv[1]);
	page = sysconf(_SC_PAGESIZE);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 1) ||
	    getsockname(lfd, (struct sockaddr *)&sa, &len))
		die("listen");
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		die("connect");
	peer = accept(lfd, NULL, NULL);
	if (peer < 0)
		die("accept");
	for (i = 0; i < 2; i++) {
		len = sizeof(cookie);
		if (getsockopt(i ? peer : fd, SOL_SOCKET, SO_COOKIE, &cookie, &len) || !cookie)
			die("SO_COOKIE");
	}

	uffd = missing_page();
	if (pthread_create(&send_thread, NULL, sender, NULL))
		die("pthread_create");
	sleep(1);		/* the sender is in its fault, holding the lock */
	threads = calloc(n, sizeof(*threads));
	for (i = 0; i < n; i++)
		if (pthread_create(&threads[i], NULL, flood, NULL))
			die("pthread_create");
	sleep(atoi(argv[2]));
	atomic_store(&stop, 1);
	while_locked = atomic_load(&calls);
	zero.range.start = (unsigned long)stuck;
	zero.range.len = page;
	zero.mode = 0;
	if (ioctl(uffd, UFFDIO_ZEROPAGE, &zero))
		die("UFFDIO_ZEROPAGE");
	pthread_join(send_thread, NULL);
	for (i = 0; i < n; i++)
		pthread_join(threads[i], NULL);
	printf("calls %ld locked %ld\n", atomic_load(&calls), while_locked);
	return 0;
}
