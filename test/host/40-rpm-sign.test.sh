#!/bin/sh
# SPDX-License-Identifier: MIT
# Secure Boot: kmod/build.sh --sign KEY CERT signs the module it packages with
# the kernel's own scripts/sign-file. A throwaway key and certificate (as an
# operator makes the one they enrol with mokutil --import), one build for the
# test bed's default kernel into a private folder, and the RPM's kgwttm.ko:
# modinfo names the signer, and the appended PKCS#7 signature verifies against
# the certificate over the module exactly as shipped (so it was signed after
# the strip, which would have dropped it).
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
. test/lib/tap.sh
. test/vm/kernels.sh
. "$(kernel_env)"

VERSION=$(cat kmod/VERSION)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
SIGNER='kgwttm test signing key'

openssl req -new -nodes -utf8 -sha256 -days 1 -batch -x509 -outform DER \
	-out "$WORK/cert.der" -keyout "$WORK/key.priv" -subj "/CN=$SIGNER/" > "$WORK/openssl.log" 2>&1 ||
	{ sed 's/^/# /' "$WORK/openssl.log"; bail "openssl could not make a signing key"; }
if ! sh kmod/build.sh --kernel "$KVER" --sign "$WORK/key.priv" "$WORK/cert.der" --out "$WORK/dist" > "$WORK/paths" 2> "$WORK/build.log"; then
	sed 's/^/# /' "$WORK/build.log"
	bail "kmod/build.sh --sign failed"
fi
KMOD_RPM=$(grep '/kmod-kgwttm-' "$WORK/paths")
mkdir -p "$WORK/kmod" && (cd "$WORK/kmod" && rpm2cpio "$KMOD_RPM" | cpio -id --quiet)
KO=$WORK/kmod/lib/modules/$KVER/extra/kgwttm.ko

build_says_it_signs() {
	cat "$WORK/build.log"
	grep -q "for kernel $KVER .*signed with $WORK/cert.der" "$WORK/build.log"
}

rpm_module_names_the_signer() {
	modinfo "$KO" | grep -E '^(signer|sig_key|sig_hashalgo|vermagic):'
	[ "$(modinfo -F signer "$KO")" = "$SIGNER" ] &&
		[ "$(modinfo -F vermagic "$KO" | cut -d' ' -f1)" = "$KVER" ]
}

# The certificate's serial is the key modinfo names.
rpm_module_key_is_the_certificate() {
	serial=$(openssl x509 -inform DER -in "$WORK/cert.der" -noout -serial | sed 's/^serial=//' | tr 'a-f' 'A-F')
	key=$(modinfo -F sig_key "$KO" | tr -d ':\n' | tr 'a-f' 'A-F')
	echo "certificate serial $serial, sig_key $key"
	# the serial may carry leading zeros one of them drops
	[ "$(echo "$serial" | sed 's/^0*//')" = "$(echo "$key" | sed 's/^0*//')" ]
}

# The module's layout (scripts/sign-file, struct module_signature): the ELF,
# the PKCS#7 signature, 12 bytes whose last four are its big-endian length,
# then the magic string.
signature_verifies_over_the_shipped_module() {
	size=$(stat -c %s "$KO")
	magic=$(tail -c 28 "$KO")
	[ "$magic" = '~Module signature appended~' ] || { echo "no signature at the end of the module"; return 1; }
	siglen=$(tail -c 32 "$KO" | head -c 4 | od -An -tu1 | awk '{ print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4 }')
	body=$((size - 40 - siglen))
	head -c "$body" "$KO" > "$WORK/body"
	tail -c $((siglen + 40)) "$KO" | head -c "$siglen" > "$WORK/sig.p7"
	openssl x509 -inform DER -in "$WORK/cert.der" -out "$WORK/cert.pem" &&
		openssl cms -verify -binary -inform DER -in "$WORK/sig.p7" -content "$WORK/body" \
			-certfile "$WORK/cert.pem" -nointern -noverify -out /dev/null &&
		! readelf -S "$WORK/body" | grep -q '\.debug_info'
}

usage_errors() {
	sh kmod/build.sh --sign "$WORK/key.priv" 2>/dev/null; [ $? = 2 ] || { echo "--sign with one argument: not exit 2"; return 1; }
	out=$(sh kmod/build.sh --kernel "$KVER" --sign "$WORK/none.priv" "$WORK/cert.der" --out "$WORK/none" 2>&1); rc=$?
	echo "$out"
	[ $rc = 1 ] && echo "$out" | grep -q "cannot read $WORK/none.priv"
}

check "build.sh --sign KEY CERT: builds kmod-kgwttm for $KVER and says it signs" build_says_it_signs
check "the RPM's kgwttm.ko: modinfo signer is '$SIGNER', vermagic $KVER" rpm_module_names_the_signer
check "the RPM's kgwttm.ko: modinfo sig_key is the certificate's serial" rpm_module_key_is_the_certificate
check "the RPM's kgwttm.ko: the appended PKCS#7 signature verifies against the certificate over the module as shipped (stripped, then signed)" signature_verifies_over_the_shipped_module
check "build.sh: --sign needs KEY and CERT (exit 2), and readable ones (exit 1, says which)" usage_errors
tap_done
