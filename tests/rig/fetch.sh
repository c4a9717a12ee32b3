#!/usr/bin/env bash
# Fetch and cache what the nested-KVM rig boots: Debian's generic kernel
# (linux-image-amd64 -> linux-image-6.1.0-*-amd64), the KVM modules for AMD
# (kvm-amd and its dependencies), and a base initramfs (static busybox, the
# modules, tests/rig/guest-init as /init) as an uncompressed newc cpio.
#
# Idempotent: silent when the cache is complete. Cache directory:
# $HYVE_RIG_CACHE, default <repo>/build/rig-cache. Optional:
# HYVE_RIG_KERNEL_PKG=linux-image-6.1.0-NN-amd64 pins the kernel package.
#
# Cache layout:
#   debs/                 the downloaded linux-image .debs (re-extracting is cheap)
#   vmlinuz               the bzImage as shipped
#   vmlinux               the same kernel uncompressed (ELF with a PVH entry):
#                         QEMU boots it directly, skipping the bzImage's
#                         decompression, which takes ~3 s under TCG
#   kernel-release, modules/*.ko, modules.order            (kernel stage)
#   base.cpio, base.stamp                                  (initramfs stage)
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Modules the rig loads (virtio-console: the fast output channel, /dev/hvc0;
# tun and vhost-net: the tap and vhost=on scenarios of tests/linux/net.sh,
# loaded here because a fresh cache has no kernel .deb when the payload is built);
# their dependencies are added from each module's
# 'depends=' modinfo field (what depmod writes to modules.dep; the .deb ships
# no modules.dep because depmod runs at install time).
WANT_MODULES=(irqbypass kvm ccp kvm-amd virtio-pci virtio-console tun vhost-net)
# Bump when the kernel stage's layout changes, to redo it on existing caches.
KERNEL_STAGE=2

mkdir -p "$RIG_CACHE"
RIG_CACHE=$(cd "$RIG_CACHE" && pwd)

# Several rig runs may start at once: one fetch at a time.
exec 9>"$RIG_CACHE/.lock"
flock 9

WORK=""
cleanup() { [ -n "$WORK" ] && rm -rf "$WORK"; return 0; }
trap cleanup EXIT
trap 'exit 130' INT TERM
work() { [ -n "$WORK" ] || WORK=$(mktemp -d "$RIG_CACHE/.work.XXXXXX"); }

# apt-get download PKG... into the current directory, with one
# 'apt-get update' retry for machines whose package lists are missing/stale.
apt_download() {
    local log
    log=$(mktemp)
    # _apt cannot write into a root-owned 0700 mktemp dir; let it.
    chmod 0777 .
    if ! apt-get download -q "$@" >"$log" 2>&1; then
        if ! { apt-get update -q >"$log" 2>&1 && apt-get download -q "$@" >"$log" 2>&1; }; then
            cat "$log" >&2
            rm -f "$log"
            rig_die "apt-get download $* failed"
        fi
    fi
    rm -f "$log"
}

# ---- kernel stage --------------------------------------------------------
kernel_cached() {
    [ "$(cat "$RIG_CACHE/kernel-stage" 2>/dev/null)" = "$KERNEL_STAGE" ] || return 1
    [ -s "$RIG_CACHE/vmlinuz" ] && [ -s "$RIG_CACHE/kernel-release" ] &&
        [ -s "$RIG_CACHE/modules.order" ] || return 1
    local m
    while read -r m; do
        [ -s "$RIG_CACHE/modules/$m.ko" ] || return 1
    done <"$RIG_CACHE/modules.order"
    for m in "${WANT_MODULES[@]}"; do
        grep -qx -- "$m" "$RIG_CACHE/modules.order" || return 1
    done
    if [ -n "${HYVE_RIG_KERNEL_PKG:-}" ]; then
        [ "linux-image-$(cat "$RIG_CACHE/kernel-release")" = "$HYVE_RIG_KERNEL_PKG" ] || return 1
    fi
}

# Print "name" of a module file and its depends= list.
mod_depends() { tr '\0' '\n' <"$1" | sed -n 's/^depends=//p' | head -n 1 | tr ',' ' '; }

# Uncompressed ELF vmlinux out of a bzImage (what scripts/extract-vmlinux
# does): find the compressed payload by its magic, decompress, and keep the
# result only if it is an ELF with a PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY,
# type 0x12), which QEMU's -kernel needs to boot it.
extract_vmlinux() {
    local img=$1 out=$2 magic tool off
    for magic in $'\xfd7zXZ:xz' $'\x28\xb5\x2f\xfd:zstd' $'\x1f\x8b\x08:gzip'; do
        tool=${magic##*:}
        command -v "$tool" >/dev/null || continue
        for off in $(LC_ALL=C grep -abo "${magic%:*}" "$img" 2>/dev/null | cut -d: -f1 | head -n 5); do
            tail -c "+$((off + 1))" "$img" | "$tool" -dc >"$out" 2>/dev/null || true
            if LC_ALL=C readelf -n "$out" 2>/dev/null | grep -q '(0x00000012)'; then
                return 0
            fi
        done
    done
    rm -f "$out"
    return 1
}

fetch_kernel() {
    work
    local d="$WORK/kernel" debs="$RIG_CACHE/debs" pkg deb release kdir
    mkdir -p "$d" "$debs"
    if [ -n "${HYVE_RIG_KERNEL_PKG:-}" ]; then
        pkg=$HYVE_RIG_KERNEL_PKG
    else
        (cd "$d" && apt_download linux-image-amd64)
        # The meta package depends on exactly one versioned image.
        pkg=$(dpkg-deb -f "$d"/linux-image-amd64_*.deb Depends |
            tr ',' '\n' | sed -n 's/^ *\(linux-image-[0-9][^ (]*\).*/\1/p' | head -n 1)
        [ -n "$pkg" ] || rig_die "cannot resolve the versioned package linux-image-amd64 depends on"
    fi
    deb=$(find "$debs" -maxdepth 1 -name "${pkg}_*.deb" | sort | tail -n 1)
    if [ -z "$deb" ]; then
        rig_say "fetching $pkg"
        mkdir -p "$d/dl"
        (cd "$d/dl" && apt_download "$pkg")
        rm -f "$debs"/*.deb # older kernels
        mv "$d/dl/${pkg}"_*.deb "$debs/"
        deb=$(find "$debs" -maxdepth 1 -name "${pkg}_*.deb" | sort | tail -n 1)
    fi
    mkdir "$d/x"
    dpkg-deb -x "$deb" "$d/x"
    release=${pkg#linux-image-}
    kdir="$d/x/lib/modules/$release/kernel"
    [ -d "$kdir" ] || rig_die "$deb has no lib/modules/$release"
    [ -f "$d/x/boot/vmlinuz-$release" ] || rig_die "$deb has no boot/vmlinuz-$release"

    # Index the package's modules: name -> path (name uses '-' as in depends=).
    declare -A path=()
    local f n
    while IFS= read -r f; do
        n=${f##*/}
        n=${n%%.ko*}
        path[${n//_/-}]=$f
    done < <(find "$kdir" -name '*.ko' -o -name '*.ko.xz' -o -name '*.ko.zst' -o -name '*.ko.gz')

    # Depth-first over depends= gives a load order with dependencies first.
    local out="$d/modules"
    mkdir -p "$out"
    : >"$d/modules.order"
    declare -A seen=()
    add_module() {
        local name=${1//_/-} src dep plain
        [ -z "${seen[$name]:-}" ] || return 0
        seen[$name]=1
        src=${path[$name]:-}
        [ -n "$src" ] || rig_die "module $name not found in $pkg"
        plain="$out/$name.ko"
        # busybox insmod takes plain ELF modules only: decompress here.
        case "$src" in
        *.ko) cp "$src" "$plain" ;;
        *.ko.xz) rig_need xz xz-utils && xz -dc "$src" >"$plain" ;;
        *.ko.zst) rig_need zstd zstd && zstd -q -dc "$src" >"$plain" ;;
        *.ko.gz) gzip -dc "$src" >"$plain" ;;
        esac
        for dep in $(mod_depends "$plain"); do add_module "$dep"; done
        echo "$name" >>"$d/modules.order"
    }
    local m
    for m in "${WANT_MODULES[@]}"; do add_module "$m"; done

    # Install atomically-ish: replace the old kernel stage as a whole.
    rm -rf "$RIG_CACHE/modules"
    mv "$out" "$RIG_CACHE/modules"
    mv "$d/modules.order" "$RIG_CACHE/modules.order"
    cp "$d/x/boot/vmlinuz-$release" "$RIG_CACHE/vmlinuz.new"
    mv "$RIG_CACHE/vmlinuz.new" "$RIG_CACHE/vmlinuz"
    rm -f "$RIG_CACHE/vmlinux"
    if extract_vmlinux "$RIG_CACHE/vmlinuz" "$d/vmlinux"; then
        mv "$d/vmlinux" "$RIG_CACHE/vmlinux"
    else
        rig_say "note: no PVH-bootable vmlinux in the bzImage; booting vmlinuz (slower)"
    fi
    echo "$release" >"$RIG_CACHE/kernel-release"
    echo "$KERNEL_STAGE" >"$RIG_CACHE/kernel-stage"
    rm -f "$RIG_CACHE/base.stamp" # the initramfs embeds the modules
    rig_say "cached kernel $release, modules: $(tr '\n' ' ' <"$RIG_CACHE/modules.order")"
}

# ---- initramfs stage -----------------------------------------------------
is_static() { ! LC_ALL=C readelf -l "$1" 2>/dev/null | grep -q 'INTERP'; }

busybox_path() {
    local b
    b=$(command -v busybox 2>/dev/null || true)
    if [ -n "$b" ] && is_static "$b"; then
        echo "$b"
        return
    fi
    # No static busybox on the host (or the dynamic 'busybox' package):
    # take the binary out of busybox-static without installing it.
    if [ ! -x "$RIG_CACHE/busybox" ]; then
        work
        mkdir -p "$WORK/bb"
        (cd "$WORK/bb" && apt_download busybox-static)
        dpkg-deb -x "$WORK"/bb/busybox-static_*.deb "$WORK/bb/x"
        cp "$WORK/bb/x/bin/busybox" "$RIG_CACHE/busybox"
    fi
    echo "$RIG_CACHE/busybox"
}

build_base() {
    local bb stamp root a
    bb=$(busybox_path)
    stamp=$(cat "$RIG_DIR/guest-init" "$RIG_DIR/fetch.sh" "$bb" "$RIG_CACHE/kernel-release" \
        "$RIG_CACHE/modules.order" | sha256sum | cut -d' ' -f1)
    if [ -s "$RIG_CACHE/base.cpio" ] && [ "$(cat "$RIG_CACHE/base.stamp" 2>/dev/null)" = "$stamp" ]; then
        return 0
    fi
    work
    root="$WORK/base"
    mkdir -p "$root"/{bin,dev,proc,sys,tmp,payload,rig/modules}
    cp "$bb" "$root/bin/busybox"
    for a in $("$bb" --list); do
        [ "$a" = busybox ] || ln -s busybox "$root/bin/$a"
    done
    cp "$RIG_DIR/guest-init" "$root/init"
    chmod 0755 "$root/init"
    cp "$RIG_CACHE"/modules/*.ko "$root/rig/modules/"
    cp "$RIG_CACHE/modules.order" "$root/rig/modules.order"
    (cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
        cpio --quiet -o -H newc -R 0:0 >"$RIG_CACHE/base.cpio.new")
    mv "$RIG_CACHE/base.cpio.new" "$RIG_CACHE/base.cpio"
    echo "$stamp" >"$RIG_CACHE/base.stamp"
    rig_say "built base initramfs $RIG_CACHE/base.cpio ($(du -k "$RIG_CACHE/base.cpio" | cut -f1) KiB)"
}

command -v apt-get >/dev/null || rig_die "apt-get not found: the rig needs a Debian machine"
rig_need cpio cpio
rig_need readelf binutils
kernel_cached || fetch_kernel
build_base
