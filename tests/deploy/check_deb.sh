#!/usr/bin/env bash
# check_deb.sh - builds the .deb with CPack, installs it on this machine, checks what it installed, verifies its systemd units, runs `alertbridge demo` from the installed binary, and removes it.
#
# Usage: check_deb.sh BUILD_DIR   (a configured and built tree; run as root)
# The package must not be installed already: the check leaves a machine as
# it found it, and would not replace an operator's installation.
set -euo pipefail

build=$(cd "${1:?usage: check_deb.sh BUILD_DIR}" && pwd)
fail() {
        echo "FAIL: $*" >&2
        exit 1
}
((EUID == 0)) || fail "needs root: it installs the package"
if [[ $(dpkg-query -W -f='${db:Status-Abbrev}' alertbridge 2>/dev/null) == ?i* ]]; then
        fail "an alertbridge package is already installed here; not replacing it"
fi

out=$(mktemp -d)
installed=0
cleanup() {
        ((installed)) && dpkg --purge alertbridge >/dev/null
        rm -rf "$out"
}
trap cleanup EXIT

echo "== cpack -G DEB"
(cd "$out" && cpack -G DEB --config "$build/CPackConfig.cmake" -B "$out" >cpack.log) ||
        { cat "$out/cpack.log"; fail "cpack failed"; }
debs=("$out"/alertbridge_*.deb)
[[ -f ${debs[0]} ]] || fail "no .deb in $out"
deb=${debs[0]}

echo "== Depends from dpkg-shlibdeps"
depends=$(dpkg-deb -f "$deb" Depends)
echo "$depends"
for lib in libc6 librdkafka1 libjansson4 libcurl4 libssl3 libyaml-0-2 \
        libmicrohttpd12 libpcre2-8-0; do
        [[ ", $depends," == *", $lib"[\ ,]* ]] || fail "Depends lacks $lib"
done

echo "== dpkg -i"
installed=1
dpkg -i "$deb" >/dev/null
[[ $(dpkg-query -W -f='${db:Status-Abbrev}' alertbridge) == ii* ]] ||
        fail "alertbridge not installed"
for f in /usr/bin/alertbridge /usr/lib/systemd/system/alertbridge.service \
        /usr/lib/systemd/system/alertbridge-sink.service \
        /usr/lib/systemd/system/alertbridge-ingest.service \
        /usr/share/alertbridge/examples/ingest.yaml \
        /etc/alertbridge/pipeline.yaml \
        /etc/alertbridge/integrations/network-monitor.yaml \
        /usr/share/alertbridge/integrations/alertmanager.yaml \
        /usr/share/doc/alertbridge/README.md \
        /usr/share/doc/alertbridge/CONFIGURATION.md; do
        [[ -f $f ]] || fail "$f not installed"
done
conffiles=$(dpkg-query -W -f='${Conffiles}' alertbridge)
[[ $conffiles == *"/etc/alertbridge/pipeline.yaml "* ]] ||
        fail "/etc/alertbridge/pipeline.yaml is not a conffile: $conffiles"

echo "== the default config passes the unit's ExecStartPre"
/usr/bin/alertbridge check-config /etc/alertbridge/pipeline.yaml
[[ ! -e /etc/alertbridge/ingest.yaml ]] ||
        fail "/etc/alertbridge/ingest.yaml installed: the ingest unit would start unconfigured"
echo "== the example ingest config passes the ingest unit's ExecStartPre"
AM_WEBHOOK_TOKEN=t1 CMS_WEBHOOK_TOKEN=t2 /usr/bin/alertbridge ingest --check \
        --config /usr/share/alertbridge/examples/ingest.yaml

if command -v systemd-analyze >/dev/null; then
        echo "== systemd-analyze verify"
        # It exits 0 on unknown keys and bad values, only printing them.
        verify=$(systemd-analyze verify \
                /usr/lib/systemd/system/alertbridge.service \
                /usr/lib/systemd/system/alertbridge-sink.service \
                /usr/lib/systemd/system/alertbridge-ingest.service 2>&1) ||
                fail "systemd-analyze verify: $verify"
        [[ -z $verify ]] || fail "systemd-analyze verify: $verify"
else
        fail "systemd-analyze not found (scripts/install-deps.sh installs systemd)"
fi
grep -qx 'ExecReload=/bin/kill -HUP $MAINPID' \
        /usr/lib/systemd/system/alertbridge.service || fail "no ExecReload sending SIGHUP"
grep -qx 'SuccessExitStatus=75' \
        /usr/lib/systemd/system/alertbridge.service ||
        fail "exit 75 (stopped with work in flight) would mark the unit failed"
grep -qx 'ConditionPathExists=/etc/alertbridge/ingest.yaml' \
        /usr/lib/systemd/system/alertbridge-ingest.service ||
        fail "the ingest unit would start without /etc/alertbridge/ingest.yaml"

echo "== alertbridge demo, from the installed binary, as an unprivileged user"
(cd / && timeout 120 setpriv --reuid=65534 --regid=65534 --clear-groups \
        /usr/bin/alertbridge demo) >"$out/demo.log" 2>&1 ||
        { cat "$out/demo.log"; fail "alertbridge demo failed"; }
events=$(awk '$1 == "events" {print $2}' "$out/demo.log")
[[ ${events:-0} -gt 0 ]] || { cat "$out/demo.log"; fail "the demo produced no events"; }
grep -A4 '^demo summary' "$out/demo.log"

echo "== dpkg --purge"
dpkg --purge alertbridge >/dev/null
installed=0
[[ ! -e /usr/bin/alertbridge && ! -e /etc/alertbridge ]] ||
        fail "files left after purge"
echo "check_deb: the .deb installed, ran the demo and was purged"
