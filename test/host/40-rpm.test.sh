#!/bin/sh
# The RPMs an operator installs: kmod/build.sh builds kmod-kgwttm for the VM's
# kernel and the noarch kgwttm-dkms, as an unprivileged rpmbuild into kmod/dist/;
# their names, file lists, scripts and contents are checked here, and the .ko
# inside is left in kmod/dist/ where test/guest/25-rpm-ko.test.sh loads it.
set -u
cd "$(dirname "$0")/../.."
. test/lib/tap.sh
. .cache/vm/kernel.env

VERSION=$(cat kmod/VERSION)
ARCH=$(rpm --eval '%{_arch}')
DIST=$PWD/kmod/dist
KMOD_RPM=$DIST/kmod-kgwttm-$VERSION-1.$ARCH.rpm
DKMS_RPM=$DIST/kgwttm-dkms-$VERSION-1.noarch.rpm
SRC=/usr/src/kgwttm-$VERSION
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
HOME_RPMBUILD_BEFORE=$([ -e "$HOME/rpmbuild" ] && echo yes || echo no)

# One build for every check below; it prints the paths of what it made.
if ! sh kmod/build.sh --kerneldir "$KERNELDIR" > "$WORK/paths" 2> "$WORK/build.log"; then
	sed 's/^/# /' "$WORK/build.log"
	bail "kmod/build.sh failed"
fi

build_prints_both_rpms() {
	printf '%s\n' "$KMOD_RPM" "$DKMS_RPM" | diff - "$WORK/paths" && [ -f "$KMOD_RPM" ] && [ -f "$DKMS_RPM" ]
}

no_rpmbuild_in_home() {
	[ "$HOME_RPMBUILD_BEFORE" = yes ] || [ ! -e "$HOME/rpmbuild" ] || { echo "build.sh wrote $HOME/rpmbuild"; return 1; }
	# the private _topdir under kmod/dist is gitignored
	git check-ignore -q "$DIST/rpmbuild/SPECS/kgwttm.spec" || { echo "$DIST is not gitignored"; return 1; }
}

kmod_name_version_from_version_file() {
	got=$(rpm -qp --qf '%{NAME} %{VERSION} %{RELEASE} %{ARCH}\n' "$KMOD_RPM")
	[ "$got" = "kmod-kgwttm $VERSION 1 $ARCH" ] || { echo "got: $got"; return 1; }
}

kmod_file_list() {
	rpm -qlp "$KMOD_RPM" > "$WORK/kmod.list" || return 1
	printf '%s\n' /etc/modprobe.d/kgwttm.conf /etc/modules-load.d/kgwttm.conf "/lib/modules/$KVER/extra/kgwttm.ko" |
		diff - "$WORK/kmod.list"
}

kmod_config_files_are_noreplace() {
	rpm -qcp "$KMOD_RPM" > "$WORK/conf.list" || return 1
	printf '%s\n' /etc/modprobe.d/kgwttm.conf /etc/modules-load.d/kgwttm.conf | diff - "$WORK/conf.list" &&
		rpm -qp --qf '[%{FILENAMES} %{FILEFLAGS:fflags}\n]' "$KMOD_RPM" | grep -x '/etc/modprobe.d/kgwttm.conf cn'
}

kmod_scripts_run_depmod_for_its_kernel() {
	rpm -qp --scripts "$KMOD_RPM" > "$WORK/kmod.scripts"
	cat "$WORK/kmod.scripts"
	sed -n '/^postinstall scriptlet/,/^[a-z]* scriptlet/p' "$WORK/kmod.scripts" | grep -q "depmod -a $KVER" &&
		sed -n '/^postuninstall scriptlet/,$p' "$WORK/kmod.scripts" | grep -q "depmod -a $KVER" &&
		grep -q "modprobe kgwttm" "$WORK/kmod.scripts" &&
		sed -n '/^postinstall scriptlet/,/^[a-z]* scriptlet/p' "$WORK/kmod.scripts" | grep -q 'trusted_nets is empty'
}

kmod_requires_kmod_tools() {
	rpm -qp --requires "$KMOD_RPM" | tee "$WORK/kmod.req" && grep -qx 'kmod' "$WORK/kmod.req"
}

# Shared by the checks below: the kmod RPM's payload, unpacked as an operator would.
mkdir -p "$WORK/kmod" && (cd "$WORK/kmod" && rpm2cpio "$KMOD_RPM" | cpio -id --quiet)
KO=$WORK/kmod/lib/modules/$KVER/extra/kgwttm.ko

rpm2cpio_extracts_the_module() {
	[ -s "$KO" ] && [ -s "$WORK/kmod/etc/modprobe.d/kgwttm.conf" ]
}

module_vermagic_is_the_kernels() {
	vermagic=$(modinfo -F vermagic "$KO")
	version=$(modinfo -F version "$KO")
	echo "vermagic: $vermagic; version: $version"
	[ "${vermagic%% *}" = "$KVER" ] && [ "$version" = "$VERSION" ]
}

module_has_no_debug_info() {
	! readelf -S "$KO" | grep -q '\.debug_info'
}

modprobe_conf_lists_every_parameter_commented() {
	conf=$WORK/kmod/etc/modprobe.d/kgwttm.conf
	modinfo -p "$KO" | sed 's/:.*//' | sort > "$WORK/params"
	sed -n 's/^#options kgwttm \([a-z_]*\)=.*/\1/p' "$conf" | sort | diff "$WORK/params" - || return 1
	# nothing active: the defaults are the module's own
	! grep -v '^#' "$conf" | grep -q . || { echo "uncommented lines in $conf"; return 1; }
	grep -x '#options kgwttm optname=1345' "$conf"
}

# The module ships trusting no one: the file's first parameter is trusted_nets,
# empty (its default), under a comment that says it is required, how the
# edited line reads, and why to keep it narrow.
modprobe_conf_asks_for_trusted_nets() {
	conf=$WORK/kmod/etc/modprobe.d/kgwttm.conf
	cat "$conf"
	[ "$(grep -m1 '^#options kgwttm ' "$conf")" = '#options kgwttm trusted_nets=' ] || { echo "trusted_nets= is not the first parameter"; return 1; }
	required=$(sed -n '/^# REQUIRED: trusted_nets/,/^#options kgwttm trusted_nets=$/p' "$conf")
	[ -n "$required" ] || { echo "no REQUIRED: trusted_nets block right above its line"; return 1; }
	for text in 'nothing is trusted' 'remove the leading #' '^#   options kgwttm trusted_nets=[0-9a-f.:/,]+$' 'container on this host'; do
		echo "$required" | grep -Eq "$text" || { echo "the trusted_nets block does not say: $text"; return 1; }
	done
}

modules_load_d_loads_kgwttm() {
	[ "$(cat "$WORK/kmod/etc/modules-load.d/kgwttm.conf")" = kgwttm ]
}

dkms_name_version_noarch() {
	got=$(rpm -qp --qf '%{NAME} %{VERSION} %{ARCH}\n' "$DKMS_RPM")
	[ "$got" = "kgwttm-dkms $VERSION noarch" ] || { echo "got: $got"; return 1; }
}

dkms_file_list_is_the_sources() {
	rpm -qlp "$DKMS_RPM" > "$WORK/dkms.list"
	cat "$WORK/dkms.list"
	for f in dkms.conf Kbuild Makefile VERSION main.c uapi/kgwttm.h; do
		grep -qx "$SRC/$f" "$WORK/dkms.list" || { echo "missing $SRC/$f"; return 1; }
	done
	! grep -E '\.(o|ko|cmd|mod|rpm)$|/tests/|/dist/|build\.sh|\.spec$' "$WORK/dkms.list"
}

dkms_conf_has_the_version() {
	mkdir -p "$WORK/dkms" && (cd "$WORK/dkms" && rpm2cpio "$DKMS_RPM" | cpio -id --quiet) || return 1
	cat "$WORK/dkms$SRC/dkms.conf"
	grep -qx "PACKAGE_VERSION=\"$VERSION\"" "$WORK/dkms$SRC/dkms.conf" &&
		grep -qx 'PACKAGE_NAME="kgwttm"' "$WORK/dkms$SRC/dkms.conf" &&
		[ "$(cat "$WORK/dkms$SRC/VERSION")" = "$VERSION" ]
}

# What dkms does when dkms.conf names no MAKE: Kbuild on the packaged sources alone.
dkms_sources_build_as_dkms_would() {
	cp -a "$WORK/dkms$SRC" "$WORK/dkms-build" &&
		make -C "$KERNELDIR" M="$WORK/dkms-build" modules > "$WORK/dkms-build.log" 2>&1 || { tail -n 30 "$WORK/dkms-build.log"; return 1; }
	[ "$(modinfo -F version "$WORK/dkms-build/kgwttm.ko")" = "$VERSION" ]
}

dkms_does_not_require_dkms() {
	! rpm -qp --requires "$DKMS_RPM" | grep -E '^dkms\b'
}

dkms_post_succeeds_without_dkms() {
	rpm -qp --scripts "$DKMS_RPM" | sed -n '/^postinstall scriptlet/,/^[a-z]* scriptlet/p' | sed '1d;/scriptlet/d' > "$WORK/dkms-post.sh"
	cat "$WORK/dkms-post.sh"
	grep -q 'dkms install -m kgwttm -v' "$WORK/dkms-post.sh" || return 1
	mkdir -p "$WORK/emptybin"
	out=$(PATH=$WORK/emptybin /bin/sh "$WORK/dkms-post.sh" 2>&1) || { echo "exit $?: $out"; return 1; }
	echo "$out" | grep -q 'dkms not found'
}

usage_errors() {
	sh kmod/build.sh --bogus 2>/dev/null; [ $? = 2 ] || { echo "unknown option: not exit 2"; return 1; }
	out=$(sh kmod/build.sh --kernel 0.0.0-no-such-kernel --out "$WORK/none" 2>&1); rc=$?
	echo "$out"
	[ $rc = 1 ] && echo "$out" | grep -q 'no headers for 0.0.0-no-such-kernel'
}

check "build.sh prints the paths of kmod-kgwttm-$VERSION-1.$ARCH.rpm and kgwttm-dkms-$VERSION-1.noarch.rpm" build_prints_both_rpms
check "rpmbuild ran in a private, gitignored _topdir (no ~/rpmbuild)" no_rpmbuild_in_home
check "kmod-kgwttm: name, version (kmod/VERSION), release and arch" kmod_name_version_from_version_file
check "kmod-kgwttm: holds the .ko for $KVER, modprobe.d and modules-load.d" kmod_file_list
check "kmod-kgwttm: both /etc files are %config(noreplace)" kmod_config_files_are_noreplace
check "kmod-kgwttm: %post/%postun run depmod -a $KVER, %post loads it and says when trusted_nets is empty" kmod_scripts_run_depmod_for_its_kernel
check "kmod-kgwttm: requires the kmod tools for its scripts" kmod_requires_kmod_tools
check "rpm2cpio | cpio -id extracts the module and its config" rpm2cpio_extracts_the_module
check "the packaged .ko: vermagic $KVER, version $VERSION" module_vermagic_is_the_kernels
check "the packaged .ko is stripped of debug info" module_has_no_debug_info
check "modprobe.d: every parameter of modinfo -p, commented out at its default" modprobe_conf_lists_every_parameter_commented
check "modprobe.d: trusted_nets first, empty, under a REQUIRED comment with the line to write" modprobe_conf_asks_for_trusted_nets
check "modules-load.d: loads kgwttm at boot" modules_load_d_loads_kgwttm
check "kgwttm-dkms: name, version, noarch" dkms_name_version_noarch
check "kgwttm-dkms: the module sources under $SRC, no build debris or tests" dkms_file_list_is_the_sources
check "kgwttm-dkms: dkms.conf carries the version from kmod/VERSION" dkms_conf_has_the_version
check "kgwttm-dkms: the packaged sources build alone (make -C \$KERNELDIR M=...), as dkms builds them" dkms_sources_build_as_dkms_would
check "kgwttm-dkms: installs without dkms (no Requires: dkms)" dkms_does_not_require_dkms
check "kgwttm-dkms: %post exits 0 and says what to run when dkms is absent" dkms_post_succeeds_without_dkms
check "build.sh: exit 2 on an unknown option, 1 with a message for a kernel without headers" usage_errors
tap_done
