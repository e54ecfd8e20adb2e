// SPDX-License-Identifier: GPL-2.0-only
/*
 * kgwttm_testbed: a module the guest suites load beside kgwttm; built by
 * test/build.sh, never packaged. It plays two kernel-side parts that no
 * userspace program can:
 *
 * - hold_optmin=/hold_optmax=: registers getsockopt(SOL_IP, min..max) as
 *   another TOA module would (Alibaba's vtoa holds 1344-1347), so a suite
 *   can show what kgwttm does when its optname is taken.
 * - /proc/kgwttm_testbed: write a socket's fd, read back what
 *   kernel_getpeername() returns for it in the writing task ("task ...") and
 *   in a kernel thread ("kthread ...": a workqueue worker, the kind of thread
 *   nfsd's svc_tcp_accept() asks from).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/in.h>
#include <linux/in6.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/net.h>
#include <linux/netfilter.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/socket.h>
#include <linux/workqueue.h>

static int hold_optmin;
module_param(hold_optmin, int, 0444);
MODULE_PARM_DESC(hold_optmin, "first getsockopt(SOL_IP) number to hold (0: none)");

static int hold_optmax;
module_param(hold_optmax, int, 0444);
MODULE_PARM_DESC(hold_optmax, "last getsockopt(SOL_IP) number to hold");

static int testbed_sockopt_get(struct sock *sk, int optval, void __user *user,
			       int *len)
{
	return -ENOENT;
}

static struct nf_sockopt_ops testbed_sockopt = {
	.pf = PF_INET,
	.get = testbed_sockopt_get,
	.owner = THIS_MODULE,
};

struct testbed_peer_work {
	struct work_struct work;
	struct socket *sock;
	struct sockaddr_storage addr;
	int ret;
};

static void testbed_peer_work_fn(struct work_struct *work)
{
	struct testbed_peer_work *w =
		container_of(work, struct testbed_peer_work, work);

	w->ret = kernel_getpeername(w->sock, (struct sockaddr *)&w->addr);
}

static DEFINE_MUTEX(testbed_lock);
static char testbed_result[160];

static int testbed_format(char *buf, size_t size, const char *who, int ret,
			  const struct sockaddr_storage *a)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)a;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)a;

	if (ret < 0)
		return scnprintf(buf, size, "%s error %d\n", who, ret);
	if (a->ss_family == AF_INET)
		return scnprintf(buf, size, "%s %pI4 %u\n", who, &sin->sin_addr,
				 ntohs(sin->sin_port));
	return scnprintf(buf, size, "%s %pI6c %u\n", who, &sin6->sin6_addr,
			 ntohs(sin6->sin6_port));
}

static ssize_t testbed_write(struct file *file, const char __user *ubuf,
			     size_t count, loff_t *ppos)
{
	struct testbed_peer_work w = { };
	struct sockaddr_storage mine = { };
	struct socket *sock;
	int fd, err, ret, n;

	err = kstrtoint_from_user(ubuf, count, 10, &fd);
	if (err)
		return err;
	sock = sockfd_lookup(fd, &err);
	if (!sock)
		return err;

	ret = kernel_getpeername(sock, (struct sockaddr *)&mine);
	w.sock = sock;
	INIT_WORK_ONSTACK(&w.work, testbed_peer_work_fn);
	schedule_work(&w.work);
	flush_work(&w.work);
	destroy_work_on_stack(&w.work);

	mutex_lock(&testbed_lock);
	n = testbed_format(testbed_result, sizeof(testbed_result), "task", ret, &mine);
	testbed_format(testbed_result + n, sizeof(testbed_result) - n, "kthread",
		       w.ret, &w.addr);
	mutex_unlock(&testbed_lock);
	sockfd_put(sock);
	return count;
}

static int testbed_show(struct seq_file *m, void *v)
{
	mutex_lock(&testbed_lock);
	seq_puts(m, testbed_result);
	mutex_unlock(&testbed_lock);
	return 0;
}

static int testbed_open(struct inode *inode, struct file *file)
{
	return single_open(file, testbed_show, NULL);
}

static const struct proc_ops testbed_proc_ops = {
	.proc_open = testbed_open,
	.proc_read = seq_read,
	.proc_write = testbed_write,
	.proc_lseek = seq_lseek,
	.proc_release = single_release,
};

static int __init testbed_init(void)
{
	int err;

	if (!proc_create(KBUILD_MODNAME, 0600, NULL, &testbed_proc_ops))
		return -ENOMEM;
	if (!hold_optmin)
		return 0;
	testbed_sockopt.get_optmin = hold_optmin;
	testbed_sockopt.get_optmax = hold_optmax + 1;
	err = nf_register_sockopt(&testbed_sockopt);
	if (err) {
		remove_proc_entry(KBUILD_MODNAME, NULL);
		return err;
	}
	return 0;
}

static void __exit testbed_exit(void)
{
	if (hold_optmin)
		nf_unregister_sockopt(&testbed_sockopt);
	remove_proc_entry(KBUILD_MODNAME, NULL);
}

module_init(testbed_init);
module_exit(testbed_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kgwttm test bed: a held getsockopt range and kernel-thread getpeername");
