# SPDX-License-Identifier: MIT
# The test bed's kernels, for the scripts that source this file (after setting
# ROOT to the checkout): test/vm/run, test/build.sh and the host suites that
# build against each kernel. test/vm/provision.sh writes what is read here.
#
#   $KGWTTM_VM_CACHE/kernels               the matrix, one release per line
#   $KGWTTM_VM_CACHE/kernel-KVER/kernel.env  KVER, LINE, VMLINUZ, MODROOT, KERNELDIR, CHECKPATCH
#   .cache/build/KVER/kmod/kgwttm.ko       the module built for KVER (test/build.sh)
#   .cache/build/KVER/test-kmod/kgwttm_testbed.ko

KERNELS_CACHE=${KGWTTM_VM_CACHE:-$ROOT/.cache/vm}

# The releases of the matrix, in order (5.10, 6.1, 6.12).
kernels() {
	cat "$KERNELS_CACHE/kernels"
}

# The env file of a kernel given by its release (6.1.0-57-amd64) or its line
# (6.1); with no argument, the default kernel's.
kernel_env() {
	[ -n "${1:-}" ] || { echo "$KERNELS_CACHE/kernel.env"; return 0; }
	for _kernel in $(kernels); do
		case $_kernel in
		"$1" | "$1".[0-9]* | "$1"-*)
			echo "$KERNELS_CACHE/kernel-$_kernel/kernel.env"
			return 0 ;;
		esac
	done
	echo "no kernel $1 in the test bed (have: $(kernels | tr '\n' ' '))" >&2
	return 1
}

# Where test/build.sh builds the modules for KVER.
kernel_build_dir() {
	echo "$ROOT/.cache/build/$1"
}
