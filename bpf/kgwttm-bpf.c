// SPDX-License-Identifier: GPL-2.0-only
/*
 * kgwttm-bpf: the BPF backend's loader (programs in kgwttm.bpf.c, embedded
 * here as a libbpf skeleton).
 *
 *   kgwttm-bpf attach [--trusted-nets LIST] [--formats LIST] [--optname N]
 *                     [--no-rewrite-getname] [--cgroup PATH]
 *   kgwttm-bpf detach
 *   kgwttm-bpf status     counters, one "name value" per line (/proc/net/kgwttm's)
 *   kgwttm-bpf params     the settings it was attached with, one "name value" per line
 *   kgwttm-bpf verify [same options as attach]
 *                         load into the kernel (the verifier's verdict), then unload
 *
 * Design note. attach checks its settings with the module's rules and
 * messages (formats through kmod/toa_parse.c itself), writes them into the
 * programs' read-only data, loads the programs and attaches them with
 * bpf_links pinned under /sys/fs/bpf/kgwttm (KGWTTM_BPF_PIN moves it), so
 * they stay attached after it exits and until detach unpins them. The links
 * are multi-attach: other programs on the cgroup and below keep running.
 * Two backends never answer at once: attach refuses while kgwttm.ko is
 * loaded, or while anything in the kernel answers getsockopt(SOL_IP, optname)
 * (vtoa, an older attach).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/mroute.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "kgwttm_bpf.h"
#include "../kmod/toa_parse.h"
#include "kgwttm.skel.h"

#define PROG "kgwttm-bpf"
#define PIN_DEFAULT "/sys/fs/bpf/kgwttm"
/* Below 64 are the IP_* options themselves (as kmod/sockopt.c). */
#define OPTNAME_MIN 64

struct settings {
	const char *trusted_nets;
	const char *formats;
	int optname;
	bool rewrite_getname;
	const char *cgroup;
};

/* What each cgroup program is pinned as (its link) under the pin folder. */
static const char *const link_names[] = {
	"sockops", "getsockopt", "getpeername4", "getpeername6",
};
#define N_CGROUP_LINKS	(sizeof(link_names) / sizeof(link_names[0]))
/* The live iterator's link, bound to the storage map: status reads it. */
#define LIVE_LINK	"live"

static const char *pin_dir(void)
{
	const char *p = getenv("KGWTTM_BPF_PIN");

	return p && *p ? p : PIN_DEFAULT;
}

static void pin_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", pin_dir(), name);
}

static void err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* The verifier's log and libbpf's warnings; its debug chatter is not. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* ---- settings, with the module's rules and messages ---- */

/*
 * PF_INET optnames the kernel's own modules register (kmod/sockopt.c): a
 * backend answering one of them would answer for the firewall while it is
 * not loaded, and be overruled once it is.
 */
static const struct {
	int min, max;
	const char *owner;
} kernel_optnames[] = {
	{ 64, 67, "iptables (IPT_SO_*)" },
	{ 80, 80, "conntrack (SO_ORIGINAL_DST)" },
	{ 96, 99, "arptables (ARPT_SO_*)" },
	{ 128, 131, "ebtables (EBT_SO_*)" },
	{ 1152, 1167, "IPVS (IP_VS_SO_*)" },
	{ MRT_BASE, MRT_MAX, "multicast routing (MRT_*)" },
};

static int check_optname(int optname)
{
	unsigned int i;

	if (optname < OPTNAME_MIN || optname == INT_MAX) {
		err("optname=%d: must be at least %d (below are the IP_* options)", optname,
		    OPTNAME_MIN);
		return -1;
	}
	for (i = 0; i < sizeof(kernel_optnames) / sizeof(kernel_optnames[0]); i++) {
		if (optname >= kernel_optnames[i].min && optname <= kernel_optnames[i].max) {
			err("optname=%d belongs to %s: pick a number outside the kernel's own ranges (the default is %d)",
			    optname, kernel_optnames[i].owner, KGWTTM_SO_GET_PEER);
			return -1;
		}
	}
	return 0;
}

/* "a.b.c.d/n", "x::y/n" or a bare address; 1 for a /0, 0, or -1. */
static int parse_net(const char *s, struct kgwttm_bpf_net *n)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t len = slash ? (size_t)(slash - s) : strlen(s);
	unsigned int plen, max, i;
	unsigned char a[16] = {}, m[16] = {};
	char *end;

	if (len >= sizeof(addr))
		return -1;
	memcpy(addr, s, len);
	addr[len] = '\0';
	if (memchr(addr, ':', len)) {
		n->af = AF_INET6;
		max = 128;
	} else {
		n->af = AF_INET;
		max = 32;
	}
	if (inet_pton((int)n->af, addr, a) != 1)
		return -1;
	if (!slash) {
		plen = max;
	} else {
		if (slash[1] < '0' || slash[1] > '9')
			return -1;
		errno = 0;
		plen = (unsigned int)strtoul(slash + 1, &end, 10);
		if (errno || *end || plen > max)
			return -1;
	}
	for (i = 0; i < plen; i++)
		m[i / 8] |= (unsigned char)(0x80 >> (i % 8));
	for (i = 0; i < max / 8; i++)
		if (a[i] & ~m[i])
			return -1;	/* host bits set: a typo, not a network */
	memcpy(n->addr, a, sizeof(a));
	memcpy(n->mask, m, sizeof(m));
	return plen == 0;
}

static int add_net(const char *s, struct kgwttm_bpf_net *nets, unsigned int *n, bool *everyone)
{
	int r;

	if (*n == KGWTTM_BPF_NETS_MAX) {
		err("trusted_nets: more than %d networks", KGWTTM_BPF_NETS_MAX);
		return -1;
	}
	r = parse_net(s, &nets[*n]);
	if (r < 0) {
		err("trusted_nets: \"%s\" is not an IPv4 or IPv6 CIDR (a.b.c.d/n or x:y::/n, no host bits set)",
		    s);
		return -1;
	}
	*everyone |= r;
	(*n)++;
	return 0;
}

/* trusted_nets as kmod/trust.c reads it: comma-separated, blanks ignored, "any". */
static int parse_trusted_nets(const char *list, struct kgwttm_bpf_net *nets, unsigned int *n)
{
	char *copy = strdup(list), *p = copy, *tok;
	bool everyone = false;
	int r = 0;

	if (!copy)
		return -1;
	*n = 0;
	while (!r && (tok = strsep(&p, ",")) != NULL) {
		char *e;

		while (*tok == ' ' || *tok == '\t' || *tok == '\n')
			tok++;
		e = tok + strlen(tok);
		while (e > tok && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n'))
			*--e = '\0';
		if (!*tok)
			continue;
		if (!strcmp(tok, "any"))
			r = add_net("0.0.0.0/0", nets, n, &everyone) ?:
			    add_net("::/0", nets, n, &everyone);
		else
			r = add_net(tok, nets, n, &everyone);
	}
	free(copy);
	if (r)
		return r;
	if (!*n)
		err("trusted_nets is empty: every client address option is ignored; set trusted_nets=<your load balancers' local-IP networks> (kgwttm-bpf attach --trusted-nets LIST)");
	if (everyone)
		err("trusted_nets=%s trusts every source address: a client that reaches this host directly can forge its address",
		    list);
	return 0;
}

static const char *cgroup2_root(void)
{
	static char path[PATH_MAX];
	char dev[256], dir[PATH_MAX], type[64];
	FILE *f = fopen("/proc/mounts", "r");
	const char *found = NULL;

	if (!f)
		return NULL;
	while (fscanf(f, "%255s %4095s %63s %*[^\n]", dev, dir, type) == 3) {
		if (!strcmp(type, "cgroup2")) {
			snprintf(path, sizeof(path), "%s", dir);
			found = path;
			break;
		}
	}
	fclose(f);
	return found;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " attach [--trusted-nets LIST] [--formats LIST] [--optname N]\n"
		"                         [--no-rewrite-getname] [--cgroup PATH]\n"
		"       " PROG " detach | status | params\n"
		"       " PROG " verify [attach's options]\n"
		"LIST: trusted_nets as the module takes it (CIDRs, comma-separated; default none);\n"
		"formats: kind:len pairs out of " TOA_FORMATS_KNOWN " (default " TOA_FORMATS_DEFAULT ");\n"
		"cgroup: default the cgroup v2 root; pins: " PIN_DEFAULT " (KGWTTM_BPF_PIN)\n");
}

/* attach's and verify's options; 0, or 2 for a usage error. */
static int parse_options(int argc, char **argv, struct settings *s)
{
	int i;

	s->trusted_nets = "";
	s->formats = TOA_FORMATS_DEFAULT;
	s->optname = KGWTTM_SO_GET_PEER;
	s->rewrite_getname = true;
	s->cgroup = NULL;
	for (i = 0; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		char *end;

		if (!strcmp(a, "--no-rewrite-getname")) {
			s->rewrite_getname = false;
			continue;
		}
		if (!v) {
			usage(stderr);
			return 2;
		}
		i++;
		if (!strcmp(a, "--trusted-nets")) {
			s->trusted_nets = v;
		} else if (!strcmp(a, "--formats")) {
			s->formats = v;
		} else if (!strcmp(a, "--cgroup")) {
			s->cgroup = v;
		} else if (!strcmp(a, "--optname")) {
			long n;

			errno = 0;
			n = strtol(v, &end, 10);
			if (errno || end == v || *end || n < INT_MIN || n > INT_MAX) {
				err("optname=%s: not a number", v);
				return 2;
			}
			s->optname = (int)n;
		} else {
			usage(stderr);
			return 2;
		}
	}
	return 0;
}

/* ---- loading ---- */

static bool helper_available(enum bpf_prog_type type, enum bpf_func_id id)
{
	return libbpf_probe_bpf_helper(type, id, NULL) == 1;
}

/* Opens the skeleton with the settings in its read-only data; NULL on error. */
static struct kgwttm *open_configured(const struct settings *s)
{
	struct kgwttm_bpf_net nets[KGWTTM_BPF_NETS_MAX] = {};
	struct toa_formats fmts;
	unsigned int n_nets;
	struct kgwttm *skel;

	if (toa_formats_parse(s->formats, &fmts)) {
		err("formats=%s: expected kind:len pairs out of %s", s->formats, TOA_FORMATS_KNOWN);
		return NULL;
	}
	if (strlen(s->trusted_nets) >= KGWTTM_BPF_PARAM_LEN ||
	    strlen(s->formats) >= KGWTTM_BPF_PARAM_LEN) {
		err("trusted_nets or formats longer than %d characters", KGWTTM_BPF_PARAM_LEN - 1);
		return NULL;
	}
	if (parse_trusted_nets(s->trusted_nets, nets, &n_nets) || check_optname(s->optname))
		return NULL;

	skel = kgwttm__open();
	if (!skel) {
		err("cannot open the BPF object: %s", strerror(errno));
		return NULL;
	}
	skel->rodata->cfg_formats = fmts;
	kgwttm_bpf_kinds(&fmts, (__u32 *)skel->rodata->cfg_kinds);
	skel->rodata->cfg_nets_n = n_nets;
	memcpy((void *)skel->rodata->cfg_nets, nets, sizeof(nets));
	skel->rodata->cfg_optname = s->optname;
	skel->rodata->cfg_rewrite_getname = s->rewrite_getname;
	skel->rodata->cfg_has_set_retval =
		helper_available(BPF_PROG_TYPE_CGROUP_SOCKOPT, BPF_FUNC_set_retval);
	skel->rodata->cfg_has_task_btf =
		helper_available(BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_FUNC_get_current_task_btf);
	snprintf((char *)skel->rodata->cfg_trusted_nets, KGWTTM_BPF_PARAM_LEN, "%s", s->trusted_nets);
	snprintf((char *)skel->rodata->cfg_formats_str, KGWTTM_BPF_PARAM_LEN, "%s", s->formats);
	return skel;
}

static int load(struct kgwttm *skel)
{
	int e = kgwttm__load(skel);

	if (e) {
		struct utsname u;

		uname(&u);
		err("the kernel (%s) refused the programs: %s (the verifier's log is above)",
		    u.release, strerror(-e));
		return -1;
	}
	return 0;
}

static struct bpf_program *program(struct kgwttm *skel, unsigned int i)
{
	struct bpf_program *p[] = {
		skel->progs.kgwttm_sockops, skel->progs.kgwttm_getsockopt,
		skel->progs.kgwttm_getpeername4, skel->progs.kgwttm_getpeername6,
	};

	return p[i];
}

static unsigned int insn_count(const struct bpf_program *p)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len))
		return 0;
	return info.xlated_prog_len / 8;
}

/* Whether something in the kernel already answers getsockopt(SOL_IP, optname). */
static bool optname_answered(int optname)
{
	struct ttm_peer peer;
	socklen_t len = sizeof(peer);
	int fd = socket(AF_INET, SOCK_STREAM, 0), r, e;

	if (fd < 0)
		return false;
	r = getsockopt(fd, SOL_IP, optname, &peer, &len);
	e = errno;
	close(fd);
	return r == 0 || e != ENOPROTOOPT;
}

static bool pinned(void)
{
	struct stat st;

	return stat(pin_dir(), &st) == 0;
}

static void unpin_all(void)
{
	char path[PATH_MAX];
	unsigned int i;

	for (i = 0; i < N_CGROUP_LINKS; i++) {
		int fd;

		pin_path(path, sizeof(path), link_names[i]);
		fd = bpf_obj_get(path);
		if (fd >= 0) {
			bpf_link_detach(fd);	/* now, whoever else holds it */
			close(fd);
		}
		unlink(path);
	}
	pin_path(path, sizeof(path), LIVE_LINK);
	unlink(path);
	pin_path(path, sizeof(path), "stats");
	unlink(path);
	pin_path(path, sizeof(path), "params");
	unlink(path);
	rmdir(pin_dir());
}

/* Pins a new link as NAME; the pin then holds it (or, on error, nothing does). */
static int pin_link(struct bpf_link *l, const char *name)
{
	char path[PATH_MAX];
	int r;

	pin_path(path, sizeof(path), name);
	r = bpf_link__pin(l, path);
	bpf_link__destroy(l);
	if (r)
		err("pinning %s: %s", path, strerror(-r));
	return r;
}

/* The live iterator, bound to the storage map it counts. */
static struct bpf_link *attach_live(struct kgwttm *skel)
{
	union bpf_iter_link_info linfo = {
		.map.map_fd = (__u32)bpf_map__fd(skel->maps.kgwttm_clients),
	};
	LIBBPF_OPTS(bpf_iter_attach_opts, opts, .link_info = &linfo,
		    .link_info_len = sizeof(linfo));

	return bpf_program__attach_iter(skel->progs.kgwttm_live, &opts);
}

static int cmd_attach(int argc, char **argv)
{
	struct settings s;
	struct kgwttm *skel;
	char path[PATH_MAX];
	unsigned int i;
	int cg, r;

	r = parse_options(argc, argv, &s);
	if (r)
		return r;
	if (access("/sys/module/kgwttm", F_OK) == 0) {
		err("kgwttm.ko is loaded and answers getsockopt itself: two backends must not both answer (unload it first: modprobe -r kgwttm)");
		return 1;
	}
	if (pinned()) {
		err("already attached (%s): detach first (" PROG " detach)", pin_dir());
		return 1;
	}
	if (!s.cgroup)
		s.cgroup = cgroup2_root();
	if (!s.cgroup) {
		err("no cgroup v2 mount in /proc/mounts (mount -t cgroup2 none /sys/fs/cgroup), or name one with --cgroup");
		return 1;
	}
	skel = open_configured(&s);
	if (!skel)
		return 1;
	if (optname_answered(s.optname)) {
		err("getsockopt(SOL_IP, %d) is already registered by another module (Alibaba's vtoa holds 1344-1347): unload it, or attach with --optname=<free number> and use that number in applications",
		    s.optname);
		goto fail_destroy;
	}
	if (load(skel))
		goto fail_destroy;
	cg = open(s.cgroup, O_RDONLY | O_DIRECTORY);
	if (cg < 0) {
		err("cgroup %s: %s", s.cgroup, strerror(errno));
		goto fail_destroy;
	}
	if (mkdir(pin_dir(), 0700) && errno != EEXIST) {
		err("%s: %s (is bpffs mounted on %s? mount -t bpf bpf /sys/fs/bpf)", pin_dir(),
		    strerror(errno), "/sys/fs/bpf");
		goto fail_cgroup;
	}
	pin_path(path, sizeof(path), "stats");
	if (bpf_map__pin(skel->maps.kgwttm_percpu, path))
		goto fail_pin;
	pin_path(path, sizeof(path), "params");
	if (bpf_map__pin(skel->maps.rodata, path))
		goto fail_pin;
	{
		struct bpf_link *l = attach_live(skel);

		if (!l) {
			err("the live iterator: %s", strerror(errno));
			goto fail_unpin;
		}
		if (pin_link(l, LIVE_LINK))
			goto fail_unpin;
	}
	for (i = 0; i < N_CGROUP_LINKS; i++) {
		struct bpf_link *l = bpf_program__attach_cgroup(program(skel, i), cg);

		if (!l) {
			err("attaching %s to %s: %s", link_names[i], s.cgroup, strerror(errno));
			goto fail_unpin;
		}
		if (pin_link(l, link_names[i]))
			goto fail_unpin;
	}
	close(cg);
	printf(PROG ": attached to %s: getsockopt(SOL_IP, %d), formats=%s, trusted_nets=%s, rewrite_getname=%c\n",
	       s.cgroup, s.optname, s.formats, s.trusted_nets, s.rewrite_getname ? 'Y' : 'N');
	if (!skel->rodata->cfg_has_set_retval)
		printf(PROG ": this kernel has no bpf_set_retval (before 5.18): a connection without a client reads ENOPROTOOPT, a short buffer EPERM\n");
	if (s.rewrite_getname && !skel->rodata->cfg_has_task_btf)
		printf(PROG ": this kernel does not show the task to getpeername programs: kernel threads (nfsd) see the client too\n");
	kgwttm__destroy(skel);
	return 0;

fail_pin:
	err("pinning under %s: %s", pin_dir(), strerror(errno));
fail_unpin:
	unpin_all();
fail_cgroup:
	close(cg);
fail_destroy:
	kgwttm__destroy(skel);
	return 1;
}

static int cmd_detach(void)
{
	if (!pinned()) {
		err("not attached (no %s)", pin_dir());
		return 1;
	}
	unpin_all();
	if (pinned()) {
		err("%s is not empty: something else is pinned there", pin_dir());
		return 1;
	}
	return 0;
}

static int cmd_verify(int argc, char **argv)
{
	struct settings s;
	struct kgwttm *skel;
	struct utsname u;
	unsigned int i;
	int r = parse_options(argc, argv, &s);

	if (r)
		return r;
	skel = open_configured(&s);
	if (!skel)
		return 1;
	if (load(skel)) {
		kgwttm__destroy(skel);
		return 1;
	}
	uname(&u);
	printf(PROG ": the verifier of %s accepts", u.release);
	for (i = 0; i < N_CGROUP_LINKS; i++)
		printf(" %s (%u insns)", link_names[i], insn_count(program(skel, i)));
	printf(" %s (%u insns)", LIVE_LINK, insn_count(skel->progs.kgwttm_live));
	printf("; bpf_set_retval %s, task in getpeername %s\n",
	       skel->rodata->cfg_has_set_retval ? "yes" : "no",
	       skel->rodata->cfg_has_task_btf ? "yes" : "no");
	kgwttm__destroy(skel);
	return 0;
}

/*
 * The pin @name; @why_missing, if given, says what its absence alone means
 * (it is printed with the pin's path).
 */
static int open_pinned(const char *name, const char *why_missing)
{
	char path[PATH_MAX];
	int fd;

	pin_path(path, sizeof(path), name);
	fd = bpf_obj_get(path);
	if (fd < 0 && errno == ENOENT && why_missing)
		err(why_missing, path);
	else if (fd < 0)
		err("not attached (%s: %s)", path, strerror(errno));
	return fd;
}

/* The entries there are: one byte each from the pinned live iterator. */
static long long count_live(void)
{
	long long n = 0;
	char buf[4096];
	ssize_t got;
	/* status found the counters, and attach pins everything: an attach
	 * by a kgwttm-bpf from before the live iterator */
	int link = open_pinned(LIVE_LINK, "attached by an older " PROG
			       " (no %s): run " PROG " detach, then attach"), it;

	if (link < 0)
		return -1;
	it = bpf_iter_create(link);
	close(link);
	if (it < 0) {
		err("counting live entries: %s", strerror(errno));
		return -1;
	}
	while ((got = read(it, buf, sizeof(buf))) > 0)
		n += got;
	if (got < 0)
		err("counting live entries: %s", strerror(errno));
	close(it);
	return got < 0 ? -1 : n;
}

static int cmd_status(void)
{
	static const char *const names[KGWTTM_BPF_STAT_NR] = {
		"with_option", "without_option", "malformed", "untrusted", "nomem",
	};
	int ncpu = libbpf_num_possible_cpus(), fd = open_pinned("stats", NULL);
	long long sum[KGWTTM_BPF_STAT_NR] = {}, live;
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), zero = 0;
	struct kgwttm_bpf_percpu *v;
	__u32 i;
	int c;

	if (fd < 0)
		return 1;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) || info.value_size != sizeof(*v)) {
		err("%s/stats is not this version's counters (another kgwttm-bpf attached them): detach and attach again",
		    pin_dir());
		close(fd);
		return 1;
	}
	/* a per-CPU value comes back one per possible CPU, each 8-byte aligned */
	_Static_assert(sizeof(*v) % 8 == 0, "per-CPU values are read 8-byte aligned");
	v = ncpu > 0 ? calloc((size_t)ncpu, sizeof(*v)) : NULL;
	if (!v || bpf_map_lookup_elem(fd, &zero, v)) {
		err("reading the counters: %s", v ? strerror(errno) : "out of memory");
		free(v);
		close(fd);
		return 1;
	}
	for (c = 0; c < ncpu; c++)
		for (i = 0; i < KGWTTM_BPF_STAT_NR; i++)
			sum[i] += v[c].stats[i];
	free(v);
	close(fd);
	live = count_live();
	if (live < 0)
		return 1;
	printf("version %s\n", KGWTTM_VERSION);
	for (i = 0; i < KGWTTM_BPF_STAT_NR; i++)
		printf("%s %lld\n", names[i], sum[i]);
	printf("missed 0\n");		/* cgroup programs run on every call */
	printf("live %lld\n", live);
	printf("entry_bytes %zu\n", sizeof(struct kgwttm_bpf_entry));
	return 0;
}

static int cmd_params(void)
{
	struct kgwttm__rodata *ro;
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), zero = 0;
	int fd = open_pinned("params", NULL);

	if (fd < 0)
		return 1;
	/* the map holds the data without the struct's tail padding */
	if (bpf_obj_get_info_by_fd(fd, &info, &len) ||
	    info.value_size < offsetof(struct kgwttm__rodata, cfg_formats_str) + KGWTTM_BPF_PARAM_LEN) {
		err("%s/params is not this version's settings", pin_dir());
		return 1;
	}
	ro = calloc(1, info.value_size > sizeof(*ro) ? info.value_size : sizeof(*ro));
	if (!ro || bpf_map_lookup_elem(fd, &zero, ro)) {
		err("reading the settings: %s", strerror(errno));
		return 1;
	}
	printf("optname %d\n", ro->cfg_optname);
	printf("formats %s\n", (const char *)ro->cfg_formats_str);
	printf("trusted_nets %s\n", (const char *)ro->cfg_trusted_nets);
	printf("rewrite_getname %c\n", ro->cfg_rewrite_getname ? 'Y' : 'N');
	printf("set_retval %c\n", ro->cfg_has_set_retval ? 'Y' : 'N');
	printf("kthread_check %c\n", ro->cfg_has_task_btf ? 'Y' : 'N');
	free(ro);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	libbpf_set_print(libbpf_print);
	if (!strcmp(cmd, "attach"))
		return cmd_attach(argc - 2, argv + 2);
	if (!strcmp(cmd, "verify"))
		return cmd_verify(argc - 2, argv + 2);
	if (argc == 2 && !strcmp(cmd, "detach"))
		return cmd_detach();
	if (argc == 2 && !strcmp(cmd, "status"))
		return cmd_status();
	if (argc == 2 && !strcmp(cmd, "params"))
		return cmd_params();
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help")) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return 2;
}
