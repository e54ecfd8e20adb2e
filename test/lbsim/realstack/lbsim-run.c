// SPDX-License-Identifier: MIT
/*
 * lbsim-run: the engine of run-as-lb.sh, in C so that starting a client costs
 * one exec (the guest runs under TCG, where every python/bpftool start shows).
 *
 *   lbsim-run --format toa4|toa6|ttm4|ttm6|none [--client IP] -- CMD ARGS...
 *
 * 1. takes the lock (LBSIM_LOCK, default /run/lbsim-realstack.lock; waits
 *    LBSIM_LOCK_WAIT seconds, default 300; LBSIM_NOLOCK=1 skips it) and keeps
 *    it open across exec, so concurrent runs serialize for CMD's lifetime;
 * 2. writes {format, client} into the pinned map LBSIM_PIN/maps/lbsim_cfg
 *    (LBSIM_PIN default /sys/fs/bpf/lbsim);
 * 3. joins the cgroup (LBSIM_CGROUP, default <cgroup2 mount>/lbsim) and the
 *    network namespace /run/netns/$LBSIM_NETNS (default lbsim);
 * 4. execs CMD.  Exit code: CMD's; 2 on a usage or setup error.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct lbsim_cfg {
	uint32_t format;
	uint8_t addr[16];
};

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "run-as-lb: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	exit(2);
}

static const char *env(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v && *v ? v : def;
}

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

static void usage(void)
{
	die("%s", "usage: run-as-lb.sh --format toa4|toa6|ttm4|ttm6|none --client IP -- CMD ARGS...");
}

int main(int argc, char **argv)
{
	const char *format = NULL, *client = NULL;
	struct lbsim_cfg cfg = {0};
	char path[4096];
	int i, af = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else if (!strcmp(argv[i], "--format") && i + 1 < argc) {
			format = argv[++i];
		} else if (!strncmp(argv[i], "--format=", 9)) {
			format = argv[i] + 9;
		} else if (!strcmp(argv[i], "--client") && i + 1 < argc) {
			client = argv[++i];
		} else if (!strncmp(argv[i], "--client=", 9)) {
			client = argv[i] + 9;
		} else {
			usage();
		}
	}
	if (!format || i >= argc)
		usage();
	if (!strcmp(format, "none"))
		cfg.format = 0;
	else if (!strcmp(format, "toa4"))
		cfg.format = 1, af = AF_INET;
	else if (!strcmp(format, "toa6"))
		cfg.format = 2, af = AF_INET6;
	else if (!strcmp(format, "ttm4"))
		cfg.format = 3, af = AF_INET;
	else if (!strcmp(format, "ttm6"))
		cfg.format = 4, af = AF_INET6;
	else
		die("unknown --format %s (toa4, toa6, ttm4, ttm6, none)", format);
	if (af) {
		if (!client || !*client)
			die("--client is required for --format %s", format);
		if (inet_pton(af, client, cfg.addr) != 1)
			die(af == AF_INET ? "--client %s is not an IPv4 address"
					  : "--client %s is not an IPv6 address", client);
	}

	/* where things are */
	const char *pin = env("LBSIM_PIN", "/sys/fs/bpf/lbsim");
	const char *netns = env("LBSIM_NETNS", "lbsim");
	char cgroup[4096];

	if (getenv("LBSIM_CGROUP") && *getenv("LBSIM_CGROUP")) {
		snprintf(cgroup, sizeof(cgroup), "%s", getenv("LBSIM_CGROUP"));
	} else {
		FILE *m = fopen("/proc/mounts", "r");
		char dev[256], dir[4000], type[64];

		cgroup[0] = 0;
		while (m && fscanf(m, "%255s %3999s %63s %*[^\n]", dev, dir, type) == 3)
			if (!strcmp(type, "cgroup2")) {
				snprintf(cgroup, sizeof(cgroup), "%s/lbsim", dir);
				break;
			}
		if (m)
			fclose(m);
		if (!cgroup[0])
			die("%s", "no cgroup2 mount");
	}

	/* 1. lock */
	if (strcmp(env("LBSIM_NOLOCK", "0"), "1")) {
		const char *lock = env("LBSIM_LOCK", "/run/lbsim-realstack.lock");
		int wait = atoi(env("LBSIM_LOCK_WAIT", "300"));
		int lfd = open(lock, O_RDWR | O_CREAT, 0644);	/* no O_CLOEXEC: held by CMD */

		if (lfd < 0)
			die("cannot open lock %s", lock);
		for (int t = 0; flock(lfd, LOCK_EX | LOCK_NB); t++) {
			if (errno != EWOULDBLOCK || t >= wait * 10)
				die("another run-as-lb.sh holds %s (the configuration is global)", lock);
			usleep(100000);
		}
	}

	/* 2. configuration */
	union bpf_attr attr;
	uint32_t key = 0;
	int mfd;

	snprintf(path, sizeof(path), "%s/maps/lbsim_cfg", pin);
	memset(&attr, 0, sizeof(attr));
	attr.pathname = (uintptr_t)path;
	mfd = sys_bpf(BPF_OBJ_GET, &attr);
	if (mfd < 0)
		die("%s missing: run test/lbsim/realstack/setup.sh up", path);
	memset(&attr, 0, sizeof(attr));
	attr.map_fd = mfd;
	attr.key = (uintptr_t)&key;
	attr.value = (uintptr_t)&cfg;
	attr.flags = BPF_ANY;
	if (sys_bpf(BPF_MAP_UPDATE_ELEM, &attr))
		die("updating %s failed", path);
	close(mfd);

	/* 3. cgroup, then netns */
	snprintf(path, sizeof(path), "%s/cgroup.procs", cgroup);
	int cfd = open(path, O_WRONLY | O_CLOEXEC);

	if (cfd < 0 || dprintf(cfd, "%d\n", (int)getpid()) < 0)
		die("cannot join %s: run test/lbsim/realstack/setup.sh up", path);
	close(cfd);
	snprintf(path, sizeof(path), "/run/netns/%s", netns);
	int nfd = open(path, O_RDONLY | O_CLOEXEC);

	if (nfd < 0 || setns(nfd, CLONE_NEWNET))
		die("cannot enter %s: run test/lbsim/realstack/setup.sh up", path);
	close(nfd);

	/* 4. run */
	execvp(argv[i], argv + i);
	fprintf(stderr, "run-as-lb: %s: %s\n", argv[i], strerror(errno));
	return 127;
}
