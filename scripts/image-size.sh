#!/usr/bin/env bash
# image-size.sh - measures the Dockerfile's runtime image without a Docker engine: builds the same filesystem from Debian's packages.
#
# The runtime stage is debian:bookworm-slim plus the packages its RUN line
# installs plus the alertbridge binary and two copied folders. This script
# rebuilds that filesystem with debootstrap (minbase variant, with the slim
# variant's dpkg path excludes: no docs, man pages or locales), installs the
# same packages (read from the Dockerfile), adds the binary and the copied
# files, and prints each layer's size as `du` counts it. It needs root and
# Debian's package mirror; it takes a few minutes. docs/docker.md states the
# figures it printed and how they compare with what `docker image ls` shows.
#
# Usage: scripts/image-size.sh BINARY   (an alertbridge built as the Dockerfile builds it)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
binary=${1:?usage: image-size.sh BINARY}
mirror=${AB_DEBIAN_MIRROR:-http://deb.debian.org/debian}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rootfs=$work/rootfs

# The runtime stage's package list: the words after --no-install-recommends
# in the Dockerfile's last FROM stage, up to the line ending the command.
packages=$(awk '/^FROM /{n++} {print n "\t" $0}' "$repo/Dockerfile" |
        awk -F'\t' -v last="$(grep -c '^FROM ' "$repo/Dockerfile")" '$1 == last {print $2}' |
        sed -n '/--no-install-recommends/,/&&/p' |
        grep -v -e 'apt-get' -e '&&' | tr -d '\\' | xargs)
[[ -n $packages ]] || { echo "image-size: no packages found in the Dockerfile" >&2; exit 1; }

kb() { du -sxk "$1" | cut -f1; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
        { tail -20 "$work/debootstrap.log" >&2; exit 1; }
# What debian:bookworm-slim removes (debuerreotype's slimify).
cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
CFG
find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
rm -rf "$rootfs"/usr/share/{man,groff,info,locale,lintian,linda}/*
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin \
        "$rootfs"/var/cache/apt/archives/*.deb
base=$(kb "$rootfs")

chroot "$rootfs" apt-get update -qq >/dev/null
# shellcheck disable=SC2086 # one word per package
DEBIAN_FRONTEND=noninteractive chroot "$rootfs" \
        apt-get install -y -qq --no-install-recommends $packages >/dev/null
chroot "$rootfs" apt-get clean
rm -rf "$rootfs"/var/lib/apt/lists/*
libs=$(($(kb "$rootfs") - base))

install -D "$binary" "$rootfs/usr/local/bin/alertbridge"
cp -r "$repo/examples" "$rootfs/usr/share/alertbridge-examples"
cp "$repo/docs/CONFIGURATION.md" "$rootfs/usr/share/"
total=$(kb "$rootfs")

printf 'base (bookworm minbase, slim excludes)  %6s MB\n' "$(mb "$base")"
printf 'runtime packages: %s\n' "$packages"
printf '  adds                                  %6s MB\n' "$(mb "$libs")"
printf 'alertbridge binary, examples, docs      %6s MB\n' "$(mb $((total - base - libs)))"
printf 'total                                   %6s MB\n' "$(mb "$total")"
