// SPDX-License-Identifier: MIT
/*
 * A TCP server behind a FULLNAT load balancer, as the gateway's documentation
 * shows it: print the address accept() returns, then the real client from
 * getsockopt(SOL_IP, TTM_SO_GET_PEER). With the kgwttm module loaded, 4to4
 * connections show the client in both; 6to4 ones show the LB's address from
 * accept() and the IPv6 client from getsockopt.
 *
 *   server [-n COUNT] [ADDR] PORT      ADDR: 0.0.0.0 (default), :: or any IP
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kgwttm.h"	/* kmod/uapi/kgwttm.h: struct ttm_peer, TTM_SO_GET_PEER */

static void serve(int fd)
{
	struct sockaddr_storage client_addr;
	socklen_t sin_size = sizeof(client_addr);
	char addr_string[INET6_ADDRSTRLEN];
	struct ttm_peer peer;
	socklen_t len = sizeof(peer);
	int new_fd;

	new_fd = accept(fd, (struct sockaddr *)&client_addr, &sin_size);
	if (new_fd < 0) {
		perror("accept");
		exit(1);
	}
	/* 4to4: the client; 6to4: the load balancer's local IP */
	if (client_addr.ss_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&client_addr;

		inet_ntop(AF_INET, &sin->sin_addr, addr_string, sizeof(addr_string));
		printf("Server get connection from %s:%u\n", addr_string, ntohs(sin->sin_port));
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&client_addr;

		inet_ntop(AF_INET6, &sin6->sin6_addr, addr_string, sizeof(addr_string));
		printf("Server get connection from [%s]:%u\n", addr_string, ntohs(sin6->sin6_port));
	}
	/* 4to4 and 6to4: the client */
	if (getsockopt(new_fd, IPPROTO_IP, TTM_SO_GET_PEER, &peer, &len) < 0) {
		printf("getsockopt failed: %s\n", strerror(errno));
	} else {
		inet_ntop(peer.af, &peer.all, addr_string, sizeof(addr_string));
		printf("getsockopt success(addr:%s port:%u)\n", addr_string, ntohs(peer.port));
	}
	fflush(stdout);
	close(new_fd);
}

int main(int argc, char **argv)
{
	const char *addr = "0.0.0.0";
	struct sockaddr_storage ss = { 0 };
	int fd, one = 1, count = -1, opt;
	socklen_t sslen;

	while ((opt = getopt(argc, argv, "n:")) != -1) {
		if (opt != 'n') {
			fprintf(stderr, "usage: %s [-n COUNT] [ADDR] PORT\n", argv[0]);
			return 2;
		}
		count = atoi(optarg);
	}
	if (argc - optind == 2)
		addr = argv[optind++];
	if (argc - optind != 1) {
		fprintf(stderr, "usage: %s [-n COUNT] [ADDR] PORT\n", argv[0]);
		return 2;
	}
	if (strchr(addr, ':')) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(atoi(argv[optind]));
		inet_pton(AF_INET6, addr, &sin6->sin6_addr);
		sslen = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(atoi(argv[optind]));
		inet_pton(AF_INET, addr, &sin->sin_addr);
		sslen = sizeof(*sin);
	}

	fd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&ss, sslen) < 0 || listen(fd, 64) < 0) {
		perror(addr);
		return 1;
	}
	printf("listening on %s port %s\n", addr, argv[optind]);
	fflush(stdout);
	while (count < 0 || count-- > 0)
		serve(fd);
	close(fd);
	return 0;
}
