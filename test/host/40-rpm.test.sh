#!/bin/sh
# SPDX-License-Identifier: MIT
# The RPMs an operator installs: kmod/build.sh builds one kmod-kgwttm per kernel
# (every kernel of the test bed's matrix, the kernel in the Release as kmodtool
# does), the noarch kgwttm-kmod-common (the /etc files) and kgwttm-dkms, and
# the source package kgwttm-kmod, as an unprivileged rpmbuild into kmod/dist/;
# their names, file lists, dependencies, scripts and contents are checked here,
# rpmlint finds nothing but what kmod/rpmlint.toml accepts, the kernels'
# packages install side by side into one rpm --root tree, an rpm --root tree
# switches from kgwttm-dkms to kmod-kgwttm keeping the edited parameters.
# test/guest/25-rpm-ko.test.sh loads packages test/build.sh built elsewhere
# (.cache/build/rpm/): this suite rebuilds kmod/dist/ while guests run.
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
. test/lib/tap.sh
. test/vm/kernels.sh
. "$(kernel_env)"

VERSION=$(cat kmod/VERSION)
ARCH=$(rpm --eval '%{_arch}')
DIST=$PWD/kmod/dist
# kmod-kgwttm-<version>-1.<kernel, '-' as '_'>.<arch>.rpm
kmod_rpm() {
	echo "$DIST/kmod-kgwttm-$VERSION-1.$(echo "$1" | sed 's/-/_/g').$ARCH.rpm"
}
KMOD_RPM=$(kmod_rpm "$KVER")
DKMS_RPM=$DIST/kgwttm-dkms-$VERSION-1.noarch.rpm
COMMON_RPM=$DIST/kgwttm-kmod-common-$VERSION-1.noarch.rpm
SRPM=$DIST/kgwttm-kmod-$VERSION-1.src.rpm
SRC=/usr/src/kgwttm-$VERSION
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
HOME_RPMBUILD_BEFORE=$([ -e "$HOME/rpmbuild" ] && echo yes || echo no)
KERNELS=$(kernels)
kerneldir_of() { (. "$(kernel_env "$1")" && echo "$KERNELDIR"); }
FIRST=$(echo "$KERNELS" | head -n 1)
LAST=$(echo "$KERNELS" | tail -n 1)

# One build for every check below; it prints the paths of what it made. Every
# way of naming kernels at once: the default kernel by release (its headers
# are installed where --kernel looks), the first by its headers folder, and
# --all over the test bed's unpacked headers (the first again, and the last):
# each kernel is built once.
if ! sh kmod/build.sh --kernel "$KVER" --kerneldir "$(kerneldir_of "$FIRST")" \
	--all --search "$(dirname "$(kerneldir_of "$LAST")")/linux-headers-*" \
	--search "$(dirname "$(kerneldir_of "$FIRST")")/linux-headers-*" > "$WORK/paths" 2> "$WORK/build.log"; then
	sed 's/^/# /' "$WORK/build.log"
	bail "kmod/build.sh failed"
fi
cat "$WORK/build.log" >&2

build_prints_every_rpm() {
	{ for k in $KERNELS; do kmod_rpm "$k"; done; echo "$COMMON_RPM"; echo "$DKMS_RPM"; echo "$SRPM"; } | diff - "$WORK/paths" || return 1
	for rpm in $(cat "$WORK/paths"); do [ -f "$rpm" ] || { echo "no $rpm"; return 1; }; done
	[ "$(grep -c 'build.sh: kgwttm .* for kernel' "$WORK/build.log")" = "$(echo "$KERNELS" | wc -l)" ] ||
		{ echo "not one rpmbuild per kernel:"; cat "$WORK/build.log"; return 1; }
}

no_rpmbuild_in_home() {
	[ "$HOME_RPMBUILD_BEFORE" = yes ] || [ ! -e "$HOME/rpmbuild" ] || { echo "build.sh wrote $HOME/rpmbuild"; return 1; }
	# the private _topdir under kmod/dist is gitignored
	git check-ignore -q "$DIST/rpmbuild/SPECS/kgwttm-kmod.spec" || { echo "$DIST is not gitignored"; return 1; }
}

# Per kernel: name, version and arch the same, the kernel in the Release.
kmod_name_version_release_per_kernel() {
	for k in $KERNELS; do
		got=$(rpm -qp --qf '%{NAME} %{VERSION} %{RELEASE} %{ARCH}\n' "$(kmod_rpm "$k")")
		want="kmod-kgwttm $VERSION 1.$(echo "$k" | sed 's/-/_/g') $ARCH"
		[ "$got" = "$want" ] || { echo "$k: got: $got, want: $want"; return 1; }
	done
}

# rpm -qlp: each holds its own kernel's /lib/modules/<kver>/extra/kgwttm.ko
# and nothing else; the /etc files are kgwttm-kmod-common's.
kmod_file_list_per_kernel() {
	for k in $KERNELS; do
		rpm -qlp "$(kmod_rpm "$k")" > "$WORK/kmod.list" || return 1
		cat "$WORK/kmod.list"
		echo "/lib/modules/$k/extra/kgwttm.ko" | diff - "$WORK/kmod.list" || return 1
	done
	rpm -qlp "$COMMON_RPM" > "$WORK/common.list" || return 1
	cat "$WORK/common.list"
	printf '%s\n' /etc/modprobe.d/kgwttm.conf /etc/modules-load.d/kgwttm.conf \
		"/usr/share/licenses/kgwttm-kmod-common-$VERSION" "/usr/share/licenses/kgwttm-kmod-common-$VERSION/COPYING" |
		diff - "$WORK/common.list"
}

# One repository, one host with several kernels: every kernel's package goes
# into one rpm --root tree, one of them later, in its own transaction, as when
# a kernel is added. --noscripts: the scriptlets would run chrooted into a tree
# that has no shell; --nodeps: it has no kmod package either.
kmods_install_side_by_side() {
	tree=$WORK/rpmroot
	mkdir -p "$tree" && rpm --root "$tree" --initdb || return 1
	first=$(kmod_rpm "$FIRST")
	rpm --root "$tree" -i --nodeps --noscripts "$COMMON_RPM" "$first" 2>&1 | grep -v 'use Alien\|know what you are doing'
	others=$(for k in $KERNELS; do [ "$k" = "$FIRST" ] || kmod_rpm "$k"; done)
	# shellcheck disable=SC2086
	rpm --root "$tree" -i --nodeps --noscripts $others 2>&1 | grep -v 'use Alien\|know what you are doing'
	rpm --root "$tree" -qa | sort > "$WORK/installed"
	cat "$WORK/installed"
	{ basename "$COMMON_RPM" .rpm; for k in $KERNELS; do basename "$(kmod_rpm "$k")" .rpm; done; } | sort | diff - "$WORK/installed" || return 1
	for k in $KERNELS; do
		[ -s "$tree/lib/modules/$k/extra/kgwttm.ko" ] || { echo "no $tree/lib/modules/$k/extra/kgwttm.ko"; return 1; }
		[ "$(modinfo -F vermagic "$tree/lib/modules/$k/extra/kgwttm.ko" | cut -d' ' -f1)" = "$k" ] || return 1
	done
	# shellcheck disable=SC2046
	rpm --root "$tree" -V --nodeps $(for k in $KERNELS; do basename "$(kmod_rpm "$k")" .rpm; done)
}

kmod_provides_installonly() {
	rpm -qp --provides "$KMOD_RPM" | tee "$WORK/provides" | grep -qx 'installonlypkg(kernel-module)'
}

common_config_files_are_noreplace() {
	rpm -qcp "$COMMON_RPM" > "$WORK/conf.list" || return 1
	printf '%s\n' /etc/modprobe.d/kgwttm.conf /etc/modules-load.d/kgwttm.conf | diff - "$WORK/conf.list" &&
		rpm -qp --qf '[%{FILENAMES} %{FILEFLAGS:fflags}\n]' "$COMMON_RPM" | grep -x '/etc/modprobe.d/kgwttm.conf cn'
}

kmod_scripts_run_depmod_for_its_kernel() {
	rpm -qp --scripts "$KMOD_RPM" > "$WORK/kmod.scripts"
	cat "$WORK/kmod.scripts"
	sed -n '/^postinstall scriptlet/,/^[a-z]* scriptlet/p' "$WORK/kmod.scripts" | grep -q "depmod -a $KVER" &&
		sed -n '/^postuninstall scriptlet/,$p' "$WORK/kmod.scripts" | grep -q "depmod -a $KVER" &&
		grep -q "modprobe kgwttm" "$WORK/kmod.scripts" &&
		sed -n '/^postinstall scriptlet/,/^[a-z]* scriptlet/p' "$WORK/kmod.scripts" | grep -q 'trusted_nets is empty'
}

kmod_requires_kmod_tools_and_common() {
	rpm -qp --requires "$KMOD_RPM" | tee "$WORK/kmod.req" && grep -qx 'kmod' "$WORK/kmod.req" &&
		grep -qx "kgwttm-kmod-common = $VERSION" "$WORK/kmod.req" &&
		rpm -qp --provides "$KMOD_RPM" | grep -qx "kgwttm-kmod = $VERSION-1.$(echo "$KVER" | sed 's/-/_/g')"
}

# Shared by the checks below: the kmod and common RPMs' payloads, unpacked as an operator would.
mkdir -p "$WORK/kmod" && (cd "$WORK/kmod" && rpm2cpio "$KMOD_RPM" | cpio -id --quiet && rpm2cpio "$COMMON_RPM" | cpio -id --quiet)
KO=$WORK/kmod/lib/modules/$KVER/extra/kgwttm.ko

rpm2cpio_extracts_the_module() {
	[ -s "$KO" ] && [ -s "$WORK/kmod/etc/modprobe.d/kgwttm.conf" ]
}

module_vermagic_per_kernel() {
	for k in $KERNELS; do
		mkdir -p "$WORK/ko-$k" && (cd "$WORK/ko-$k" && rpm2cpio "$(kmod_rpm "$k")" | cpio -id --quiet) || return 1
		ko=$WORK/ko-$k/lib/modules/$k/extra/kgwttm.ko
		vermagic=$(modinfo -F vermagic "$ko")
		version=$(modinfo -F version "$ko")
		echo "$k: vermagic: $vermagic; version: $version"
		[ "${vermagic%% *}" = "$k" ] && [ "$version" = "$VERSION" ] || return 1
	done
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

# What dkms does when dkms.conf names no MAKE: Kbuild on the packaged sources
# alone, for every kernel.
dkms_sources_build_as_dkms_would() {
	for k in $KERNELS; do
		cp -a "$WORK/dkms$SRC" "$WORK/dkms-build-$k" &&
			make -C "$(kerneldir_of "$k")" M="$WORK/dkms-build-$k" modules > "$WORK/dkms-build.log" 2>&1 ||
			{ echo "$k:"; tail -n 30 "$WORK/dkms-build.log"; return 1; }
		[ "$(modinfo -F version "$WORK/dkms-build-$k/kgwttm.ko")" = "$VERSION" ] &&
			[ "$(modinfo -F vermagic "$WORK/dkms-build-$k/kgwttm.ko" | cut -d' ' -f1)" = "$k" ] || return 1
	done
}

dkms_requires_dkms_and_common() {
	rpm -qp --requires "$DKMS_RPM" | tee "$WORK/dkms.req" | grep -qx 'dkms' &&
		grep -qx "kgwttm-kmod-common = $VERSION" "$WORK/dkms.req" &&
		rpm -qp --provides "$DKMS_RPM" | grep -qx "kgwttm-kmod = $VERSION-1" &&
		rpm -qp --conflicts "$DKMS_RPM" | grep -qx 'kmod-kgwttm'
}

# An rpm --root tree switches from kgwttm-dkms to kmod-kgwttm, the operator's
# trusted_nets line staying where it was written (kgwttm-kmod-common's file).
# Dependencies are checked (no --nodeps): a stub package stands for what the
# tree lacks, dkms itself and the kmod tools and shell the scriptlets need;
# --noscripts, as the tree has no shell to run them.
switch_dkms_to_kmod_keeps_parameters() {
	stub=$WORK/stub
	mkdir -p "$stub/SPECS" && cat > "$stub/SPECS/stub.spec" <<-'EOF'
	Name: kgwttm-test-stub
	Version: 1
	Release: 1
	Summary: Stands for dkms, kmod and /bin/sh in an rpm --root test tree
	License: MIT
	BuildArch: noarch
	Provides: dkms kmod /bin/sh
	%description
	Stands for dkms, kmod and /bin/sh in an rpm --root test tree.
	%files
	EOF
	rpmbuild -bb --define "_topdir $stub" "$stub/SPECS/stub.spec" > "$stub/build.log" 2>&1 || { cat "$stub/build.log"; return 1; }
	tree=$WORK/switchroot
	mkdir -p "$tree" && rpm --root "$tree" --initdb || return 1
	quiet() { grep -v 'use Alien\|know what you are doing'; }
	rpm --root "$tree" -i --noscripts "$stub"/RPMS/noarch/kgwttm-test-stub-1-1.noarch.rpm 2>&1 | quiet
	# kgwttm-dkms alone: its dependencies are unmet without kgwttm-kmod-common.
	! rpm --root "$tree" -i --test --noscripts "$DKMS_RPM" > "$WORK/unmet" 2>&1 || { echo "installed without kgwttm-kmod-common"; return 1; }
	grep -q 'kgwttm-kmod-common = .* is needed by kgwttm-dkms' "$WORK/unmet" || { cat "$WORK/unmet"; return 1; }
	rpm --root "$tree" -i --noscripts "$COMMON_RPM" "$DKMS_RPM" 2>&1 | quiet
	echo 'options kgwttm trusted_nets=10.0.3.0/24' >> "$tree/etc/modprobe.d/kgwttm.conf"
	# Both at once: the conflict (they install the same kgwttm.ko) is refused.
	! rpm --root "$tree" -i --test --noscripts "$KMOD_RPM" > /dev/null 2>&1 || { echo "kmod-kgwttm installed beside kgwttm-dkms"; return 1; }
	rpm --root "$tree" -e --noscripts kgwttm-dkms 2>&1 | quiet
	rpm --root "$tree" -i --noscripts "$KMOD_RPM" 2>&1 | quiet
	rpm --root "$tree" -qa | sort | tee "$WORK/switched"
	grep -q '^kmod-kgwttm-' "$WORK/switched" && ! grep -q '^kgwttm-dkms' "$WORK/switched" || return 1
	tail -n 1 "$tree/etc/modprobe.d/kgwttm.conf" | grep -qx 'options kgwttm trusted_nets=10.0.3.0/24' || { echo "the edit is gone"; return 1; }
	[ -z "$(find "$tree/etc" -name '*.rpmsave' -o -name '*.rpmnew')" ] &&
		[ "$(rpm --root "$tree" -qf --qf '%{NAME}' /etc/modprobe.d/kgwttm.conf)" = kgwttm-kmod-common ]
}

# The spec alone, as rpmbuild or a build system reads it: no --define needed,
# its default version kmod/VERSION (build.sh fills that in its copy too).
spec_parses_without_defines() {
	rpmspec -P kmod/kgwttm-kmod.spec > "$WORK/spec.parsed" 2> "$WORK/spec.err" || { cat "$WORK/spec.err"; return 1; }
	[ "$(rpmspec -q --srpm --qf '%{NAME} %{VERSION}\n' kmod/kgwttm-kmod.spec)" = "kgwttm-kmod $VERSION" ] || {
		echo "kmod/kgwttm-kmod.spec's default version is not kmod/VERSION ($VERSION)"; return 1; }
	grep -q "^Release: *1$(rpm --eval '%{?dist}')$" "$WORK/spec.parsed"
}

# The source package: the spec and the sources, and what each binary package names as its source.
srpm_is_the_source_of_every_package() {
	rpm -qlp "$SRPM" | tee "$WORK/srpm.list"
	printf '%s\n' "kgwttm-$VERSION.tar.gz" kgwttm-kmod.spec | diff - "$WORK/srpm.list" || return 1
	for rpm in "$KMOD_RPM" "$COMMON_RPM" "$DKMS_RPM"; do
		[ "$(rpm -qp --qf '%{SOURCERPM}' "$rpm")" = "${SRPM##*/}" ] || { echo "$rpm: not from ${SRPM##*/}"; return 1; }
	done
}

# rpmlint (Debian's rpmlint 2, upstream defaults): nothing left once the
# accepted findings of kmod/rpmlint.toml, each with its reason, are filtered.
rpmlint_finds_nothing() {
	command -v rpmlint >/dev/null || { echo "no rpmlint (test/vm/provision.sh installs it)"; return 1; }
	rpmlint -c kmod/rpmlint.toml "$KMOD_RPM" "$COMMON_RPM" "$DKMS_RPM" "$SRPM" kmod/kgwttm-kmod.spec > "$WORK/rpmlint" 2>&1
	cat "$WORK/rpmlint"
	grep -q ' 0 errors, 0 warnings' "$WORK/rpmlint"
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

check "build.sh (--kernel, --kerneldir, --all --search) prints one kmod-kgwttm per kernel ($(echo $KERNELS)), then kgwttm-kmod-common and kgwttm-dkms $VERSION-1.noarch and kgwttm-kmod-$VERSION-1.src.rpm once" build_prints_every_rpm
check "rpmbuild ran in a private, gitignored _topdir (no ~/rpmbuild)" no_rpmbuild_in_home
check "kmod-kgwttm-$VERSION-1.<kernel>.$ARCH for each kernel: the kernel in the Release" kmod_name_version_release_per_kernel
check "rpm -qlp: each kmod-kgwttm holds /lib/modules/<its kernel>/extra/kgwttm.ko only, kgwttm-kmod-common modprobe.d and modules-load.d" kmod_file_list_per_kernel
check "every kernel's kmod-kgwttm installs into one rpm --root tree, side by side (rpm -qa, rpm -V)" kmods_install_side_by_side
check "kmod-kgwttm provides installonlypkg(kernel-module): dnf and yum keep one per kernel" kmod_provides_installonly
check "kgwttm-kmod-common: both /etc files are %config(noreplace)" common_config_files_are_noreplace
check "kmod-kgwttm: %post/%postun run depmod -a $KVER, %post loads it and says when trusted_nets is empty" kmod_scripts_run_depmod_for_its_kernel
check "kmod-kgwttm: requires the kmod tools for its scripts and kgwttm-kmod-common, provides kgwttm-kmod" kmod_requires_kmod_tools_and_common
check "rpm2cpio | cpio -id extracts the module and its config" rpm2cpio_extracts_the_module
check "each packaged .ko: its kernel's vermagic, version $VERSION" module_vermagic_per_kernel
check "the packaged .ko is stripped of debug info" module_has_no_debug_info
check "modprobe.d: every parameter of modinfo -p, commented out at its default" modprobe_conf_lists_every_parameter_commented
check "modprobe.d: trusted_nets first, empty, under a REQUIRED comment with the line to write" modprobe_conf_asks_for_trusted_nets
check "modules-load.d: loads kgwttm at boot" modules_load_d_loads_kgwttm
check "kgwttm-dkms: name, version, noarch" dkms_name_version_noarch
check "kgwttm-dkms: the module sources under $SRC, no build debris or tests" dkms_file_list_is_the_sources
check "kgwttm-dkms: dkms.conf carries the version from kmod/VERSION" dkms_conf_has_the_version
check "kgwttm-dkms: the packaged sources build alone (make -C \$KERNELDIR M=...) for every kernel, as dkms builds them" dkms_sources_build_as_dkms_would
check "kgwttm-dkms: requires dkms and kgwttm-kmod-common, provides kgwttm-kmod, conflicts with kmod-kgwttm" dkms_requires_dkms_and_common
check "kgwttm-dkms: %post exits 0 and says what to run when dkms is absent (an install with --nodeps)" dkms_post_succeeds_without_dkms
check "rpm --root: kgwttm-dkms then kmod-kgwttm, dependencies checked; the edited modprobe.d stays (kgwttm-kmod-common's)" switch_dkms_to_kmod_keeps_parameters
check "kmod/kgwttm-kmod.spec parses without --define (rpmspec -P), version $VERSION, Release 1%{?dist}" spec_parses_without_defines
check "kgwttm-kmod-$VERSION-1.src.rpm holds the spec and the sources, and is every package's SOURCERPM" srpm_is_the_source_of_every_package
check "rpmlint: no error and no warning beyond kmod/rpmlint.toml's accepted ones" rpmlint_finds_nothing
check "build.sh: exit 2 on an unknown option, 1 with a message for a kernel without headers" usage_errors
tap_done
