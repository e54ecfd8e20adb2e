#!/bin/sh
# SPDX-License-Identifier: MIT
# The kgwttm-bpf RPM (issue 14), for hosts that cannot load kgwttm.ko:
# bpf/build-rpm.sh builds it as an unprivileged rpmbuild into bpf/dist/ from a
# tarball of the sources (never touching bpf/build/, which guests may be
# running); its name, file list, scripts, unit and settings file are checked
# here, the unit with systemd-analyze verify against the tree it installs into
# (rpm --root), and the packaged loader runs there alone: libbpf linked in
# statically, the programs embedded.
set -u
cd "$(dirname "$0")/../.."
. test/lib/tap.sh

VERSION=$(cat kmod/VERSION)
ARCH=$(rpm --eval '%{_arch}')
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
RPM=$PWD/bpf/dist/kgwttm-bpf-$VERSION-1.$ARCH.rpm
UNIT=/usr/lib/systemd/system/kgwttm-bpf.service
CONF=/etc/sysconfig/kgwttm-bpf
HOME_RPMBUILD_BEFORE=$([ -e "$HOME/rpmbuild" ] && echo yes || echo no)
LOADER_BEFORE=$(stat -c %Y bpf/build/kgwttm-bpf 2>/dev/null || echo none)

if ! sh bpf/build-rpm.sh > "$WORK/paths" 2> "$WORK/build.log"; then
	sed 's/^/# /' "$WORK/build.log"
	bail "bpf/build-rpm.sh failed"
fi

build_prints_the_rpm() {
	echo "$RPM" | diff - "$WORK/paths" && [ -f "$RPM" ]
}

private_topdir_and_no_checkout_build() {
	[ "$HOME_RPMBUILD_BEFORE" = yes ] || [ ! -e "$HOME/rpmbuild" ] || { echo "build-rpm.sh wrote $HOME/rpmbuild"; return 1; }
	git check-ignore -q bpf/dist/rpmbuild/SPECS/kgwttm-bpf.spec || { echo "bpf/dist is not gitignored"; return 1; }
	[ "$(stat -c %Y bpf/build/kgwttm-bpf 2>/dev/null || echo none)" = "$LOADER_BEFORE" ] || { echo "bpf/build/kgwttm-bpf was rebuilt"; return 1; }
}

name_version_arch() {
	got=$(rpm -qp --qf '%{NAME} %{VERSION} %{RELEASE} %{ARCH}\n' "$RPM")
	[ "$got" = "kgwttm-bpf $VERSION 1 $ARCH" ] || { echo "got: $got"; return 1; }
}

file_list() {
	rpm -qlp "$RPM" > "$WORK/list" || return 1
	printf '%s\n' "$CONF" "$UNIT" /usr/sbin/kgwttm-bpf | diff - "$WORK/list"
}

settings_are_noreplace_config() {
	rpm -qcp "$RPM" | diff - /dev/stdin <<-EOT || return 1
	$CONF
	EOT
	rpm -qp --qf '[%{FILENAMES} %{FILEFLAGS:fflags}\n]' "$RPM" | grep -x "$CONF cn"
}

# Shared by the checks below: the payload, unpacked as an operator would.
mkdir -p "$WORK/payload" && (cd "$WORK/payload" && rpm2cpio "$RPM" | cpio -id --quiet)

unit_attaches_oneshot_with_the_settings() {
	unit=$WORK/payload$UNIT
	cat "$unit"
	for line in 'Type=oneshot' 'RemainAfterExit=yes' "EnvironmentFile=-$CONF" 'EnvironmentFile=-/etc/default/kgwttm-bpf' \
		'ExecStart=/usr/sbin/kgwttm-bpf attach --trusted-nets ${TRUSTED_NETS} $KGWTTM_BPF_OPTIONS' \
		'ExecStop=/usr/sbin/kgwttm-bpf detach' 'RequiresMountsFor=/sys/fs/bpf /sys/fs/cgroup' 'WantedBy=multi-user.target'; do
		grep -qxF "$line" "$unit" || { echo "no line: $line"; return 1; }
	done
}

# Shipped trusting no one, as the module's modprobe.d: TRUSTED_NETS empty under
# a REQUIRED comment with the line to write; the other options empty.
settings_ask_for_trusted_nets() {
	conf=$WORK/payload$CONF
	cat "$conf"
	[ "$(grep -v '^#' "$conf" | grep .)" = "$(printf 'TRUSTED_NETS=\nKGWTTM_BPF_OPTIONS=')" ] || { echo "not exactly two settings, both empty"; return 1; }
	required=$(sed -n '/^# REQUIRED: TRUSTED_NETS/,/^TRUSTED_NETS=$/p' "$conf")
	for text in 'nothing is trusted' '^#   TRUSTED_NETS=[0-9a-f.:/,]+$' 'container on this host' 'systemctl restart kgwttm-bpf'; do
		{ echo "$required"; head -n 3 "$conf"; } | grep -Eq "$text" || { echo "it does not say: $text"; return 1; }
	done
}

# Not enabled by %post (it would attach trusting no one); what to do is said.
# Erasing the last version stops and disables it; every script is guarded
# for a host (or an rpm --root tree) without a running systemd.
scripts() {
	rpm -qp --scripts "$RPM" > "$WORK/scripts"
	cat "$WORK/scripts"
	post=$(sed -n '/^postinstall scriptlet/,/^[a-z]* scriptlet/p' "$WORK/scripts")
	echo "$post" | grep -q 'TRUSTED_NETS=' && echo "$post" | grep -q 'systemctl enable --now kgwttm-bpf' || return 1
	! echo "$post" | grep -v '^ *echo\|^#' | grep -q 'systemctl.* enable' || { echo "%post enables it"; return 1; }
	sed -n '/^preuninstall scriptlet/,/^[a-z]* scriptlet/p' "$WORK/scripts" | grep -q 'disable --now kgwttm-bpf.service' || return 1
	for s in POSTIN PREUN POSTUN; do
		rpm -qp --qf "%{${s}}\n" "$RPM" | grep -q '^if .*\[ -d /run/systemd/system \]' || { echo "%$s does not check for a running systemd"; return 1; }
	done
}

installs_into_a_root_tree() {
	tree=$WORK/rpmroot
	mkdir -p "$tree" && rpm --root "$tree" --initdb || return 1
	# --noscripts: the tree has no shell; --nodeps: no libc package either.
	rpm --root "$tree" -i --nodeps --noscripts "$RPM" 2>&1 | grep -v 'use Alien\|know what you are doing'
	[ "$(rpm --root "$tree" -qa)" = "kgwttm-bpf-$VERSION-1.$ARCH" ] || return 1
	rpm --root "$tree" -V --nodeps kgwttm-bpf || return 1
	[ -x "$tree/usr/sbin/kgwttm-bpf" ] && [ -f "$tree$UNIT" ] && [ -f "$tree$CONF" ]
}

loader_runs_alone() {
	loader=$WORK/rpmroot/usr/sbin/kgwttm-bpf
	"$loader" --help | grep -q '^usage: kgwttm-bpf attach' || return 1
	readelf -d "$loader" | grep NEEDED | tee "$WORK/needed"
	! grep -q libbpf "$WORK/needed" || { echo "libbpf is linked dynamically"; return 1; }
	! readelf -S "$loader" | grep -q '\.debug_info' || { echo "not stripped"; return 1; }
	# the skeleton: the programs' object inside the loader
	for prog in kgwttm_sockops kgwttm_getsockopt kgwttm_getpeername4 kgwttm_getpeername6; do
		grep -aq "$prog" "$loader" || { echo "no $prog embedded"; return 1; }
	done
}

# Offline: systemd-analyze reads the tree's unit and checks its ExecStart
# binaries there; no running systemd needed. It prints what it finds wrong.
unit_verifies() {
	command -v systemd-analyze >/dev/null || { echo "# systemd-analyze not installed: unit not verified"; return 0; }
	out=$(systemd-analyze verify --root="$WORK/rpmroot" --man=no kgwttm-bpf.service 2>&1) || { echo "$out"; return 1; }
	[ -z "$out" ] || { echo "$out"; return 1; }
	# and it does find faults: the same unit with a typo
	mkdir -p "$WORK/typo/usr/lib/systemd/system" "$WORK/typo/usr/sbin"
	sed 's/^Type=oneshot$/Type=oneshoot/' "$WORK/rpmroot$UNIT" > "$WORK/typo$UNIT"
	cp "$WORK/rpmroot/usr/sbin/kgwttm-bpf" "$WORK/typo/usr/sbin/"
	systemd-analyze verify --root="$WORK/typo" --man=no kgwttm-bpf.service 2>&1 | grep -q 'oneshoot'
}

usage_errors() {
	sh bpf/build-rpm.sh --bogus 2>/dev/null; [ $? = 2 ]
}

check "build-rpm.sh prints kgwttm-bpf-$VERSION-1.$ARCH.rpm" build_prints_the_rpm
check "rpmbuild ran in a private, gitignored _topdir (no ~/rpmbuild), and bpf/build/ was left alone" private_topdir_and_no_checkout_build
check "kgwttm-bpf $VERSION, release 1, $ARCH" name_version_arch
check "rpm -qlp: /usr/sbin/kgwttm-bpf, $UNIT, $CONF" file_list
check "$CONF is %config(noreplace)" settings_are_noreplace_config
check "the unit: oneshot, RemainAfterExit, attaches with \${TRUSTED_NETS} from $CONF or /etc/default, detaches on stop, after bpffs and cgroup2" unit_attaches_oneshot_with_the_settings
check "$CONF: TRUSTED_NETS empty under a REQUIRED comment with the line to write" settings_ask_for_trusted_nets
check "scripts: %post does not enable it and says how; %preun stops and disables it; all only with a running systemd" scripts
check "installs into an rpm --root tree (rpm -qa, rpm -V)" installs_into_a_root_tree
check "the packaged loader runs alone: libbpf static, stripped, the four programs embedded" loader_runs_alone
check "systemd-analyze verify --root: the installed unit is clean (and a typo is caught)" unit_verifies
check "build-rpm.sh: exit 2 on an unknown option" usage_errors
tap_done
