#!/usr/bin/env bash
# scripts/guest-kit.sh - build hyve's default guest from Debian packages:
# the stock cloud kernel (linux-image-cloud-amd64) and a busybox initramfs.
#
#   bash scripts/guest-kit.sh [OUTDIR]      (default: build/guest-kit)
#
# OUTDIR/vmlinuz      the bzImage as Debian ships it
# OUTDIR/vmlinux      the same kernel uncompressed (ELF with a PVH entry note)
# OUTDIR/initrd.img   busybox-static + the kernel's virtio modules + /init
#                     + pciutils' lspci (dynamic: with its libraries, the
#                     loader and /usr/share/misc/pci.ids.gz)
#                     + iperf3 (dynamic, with libiperf and its libraries)
#                     + a udhcpc script: `udhcpc -i eth0` configures eth0
#                     (address, default route, /etc/resolv.conf)
# OUTDIR/release      the kernel release
#
# /init mounts proc, sys and devtmpfs, loads the virtio modules, prints a
# banner and the line "hyve-kit: ready", and gives a shell on the console.
# Kernel command-line words change what it does:
#   hyve.bench     print "hyve-kit: marker uptime=<s>" and power off at once
#                  (after hyve.hold=SECONDS, if given: time to sample the VMM)
#   hyve.run=CMD   run CMD (a shell command line, '_' for spaces) instead of
#                  the shell, then power off
# Idempotent: does nothing when OUTDIR is up to date.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/build/guest-kit}
mkdir -p "$out"
out=$(cd "$out" && pwd)
# shellcheck source=../tests/rig/lib.sh
source "$top/tests/rig/lib.sh"	# rig_apt_install, rig_need, rig_die, rig_say

# button + evdev: the ACPI power button as /dev/input/eventN (a graceful stop)
MODULES=(virtio_pci virtio_blk virtio_net virtio_rng virtio_console button evdev)
KIT_VERSION=9

work=$(mktemp -d /tmp/hyve-kit.XXXXXX)
trap 'rm -rf "$work"' EXIT

download() {	# download PKG into $work/dl, echo the .deb path
	mkdir -p "$work/dl"
	chmod 0777 "$work/dl"
	(cd "$work/dl" && { apt-get download -q "$1" >/dev/null 2>&1 ||
		{ apt-get update -q >/dev/null 2>&1 && apt-get download -q "$1" >/dev/null; }; }) ||
		rig_die "apt-get download $1 failed"
	ls "$work/dl/$1"_*.deb | tail -n 1
}

# copy_libs NAME BIN LIBDIR: copy the shared libraries (and the loader) that
# the dynamic BIN needs into $root at the same absolute paths; those from
# the unpacked package's LIBDIR go to /usr/lib/x86_64-linux-gnu.
copy_libs() {
	local ldd_out lib dst
	ldd_out=$(LD_LIBRARY_PATH=$3 ldd "$2") || rig_die "ldd $1 failed"
	! echo "$ldd_out" | grep -q 'not found' ||
		rig_die "$1: libraries missing on this host: $(echo "$ldd_out" | grep 'not found' | tr -s ' \t\n' ' ')"
	for lib in $(echo "$ldd_out" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
		case "$lib" in
		"$3"/*) dst=/usr/lib/x86_64-linux-gnu/${lib##*/} ;;
		*) dst=$lib ;;
		esac
		mkdir -p "$root$(dirname "$dst")"
		cp -L "$lib" "$root$dst"
	done
}

rig_need cpio cpio
rig_need readelf binutils

# The meta package names the versioned kernel package it depends on.
meta=$(download linux-image-cloud-amd64)
pkg=$(dpkg-deb -f "$meta" Depends | tr ',' '\n' |
	sed -n 's/^ *\(linux-image-[0-9][^ (]*\).*/\1/p' | head -n 1)
[ -n "$pkg" ] || rig_die "cannot tell which kernel linux-image-cloud-amd64 depends on"
release=${pkg#linux-image-}
stamp="$KIT_VERSION $release $(sha256sum "$0" | cut -c1-16)"
if [ "$(cat "$out/stamp" 2>/dev/null)" = "$stamp" ] && [ -s "$out/initrd.img" ]; then
	exit 0
fi
rig_say "building the guest kit: Linux $release"

deb=$(download "$pkg")
dpkg-deb -x "$deb" "$work/k"
cp "$work/k/boot/vmlinuz-$release" "$out/vmlinuz"
kdir="$work/k/lib/modules/$release/kernel"

# Uncompressed vmlinux for the PVH loader (Debian's cloud kernel is LZ4).
rig_need lz4 lz4
rig_need xz xz-utils
bash "$top/scripts/extract-vmlinux.sh" "$out/vmlinuz" "$out/vmlinux" ||
	rig_say "note: no PVH vmlinux could be extracted"

# busybox-static, without installing it.
bb=$(download busybox-static)
dpkg-deb -x "$bb" "$work/bb"

root="$work/root"
mkdir -p "$root"/{bin,dev,proc,sys,tmp,root,lib/modules}
cp "$work/bb/bin/busybox" "$root/bin/busybox"
for a in $("$root/bin/busybox" --list); do
	[ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"
done

# Modules (dependencies first), decompressed: busybox insmod wants plain ELF.
declare -A path=() seen=()
while IFS= read -r f; do
	n=${f##*/}; n=${n%%.ko*}; path[${n//-/_}]=$f
done < <(find "$kdir" -name '*.ko*')
add_module() {
	local name=${1//-/_} src dst dep
	[ -z "${seen[$name]:-}" ] || return 0
	seen[$name]=1
	src=${path[$name]:-}
	[ -n "$src" ] || return 0	# built in, or not in this kernel
	dst="$root/lib/modules/$name.ko"
	case "$src" in
	*.ko) cp "$src" "$dst" ;;
	*.ko.xz) xz -dc "$src" >"$dst" ;;
	*.ko.zst) rig_need zstd zstd; zstd -q -dc "$src" >"$dst" ;;
	*.ko.gz) gzip -dc "$src" >"$dst" ;;
	esac
	for dep in $(tr '\0' '\n' <"$dst" | sed -n 's/^depends=//p' | head -n 1 | tr ',' ' '); do
		add_module "$dep"
	done
	echo "$name" >>"$root/lib/modules/order"
}
: >"$root/lib/modules/order"
for m in "${MODULES[@]}"; do add_module "$m"; done

cat >"$root/init" <<'INIT'
#!/bin/sh
# hyve guest kit /init (busybox)
export PATH=/bin HOME=/root
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
while read -r m; do insmod "/lib/modules/$m.ko" 2>/dev/null; done </lib/modules/order
# The ACPI power button (hyve ctl stop): one event from it powers off cleanly.
(
	for i in 1 2 3 4 5 6 7 8 9 10; do
		for n in /sys/class/input/event*; do
			[ "$(cat "$n/device/name" 2>/dev/null)" = "Power Button" ] || continue
			dd if="/dev/input/${n##*/}" of=/dev/null bs=24 count=1 2>/dev/null
			echo "hyve-kit: power button: powering off"
			sync
			poweroff -f
		done
		sleep 1
	done
) &
for w in $(cat /proc/cmdline); do
	case "$w" in
	hyve.bench)
		read -r up _ </proc/uptime
		echo "hyve-kit: marker uptime=$up"
		for h in $(cat /proc/cmdline); do
			case "$h" in hyve.hold=*) sleep "${h#hyve.hold=}" ;; esac
		done
		poweroff -f ;;
	hyve.hold=*) export HOLD="${w#hyve.hold=}" ;;
	hyve.run=*)
		cmd=$(echo "${w#hyve.run=}" | tr _ ' ')
		sh -c "$cmd"
		echo "hyve-kit: run status=$?"
		poweroff -f ;;
	esac
done
echo "hyve guest kit: Linux $(uname -r), $(nproc) CPU(s), $(sed -n 's/MemTotal: *//p' /proc/meminfo)"
echo "hyve-kit: ready"
while :; do
	setsid cttyhack sh -l
done
INIT
chmod 0755 "$root/init"
cat >"$root/bin/hyve-check" <<'CHECK'
#!/bin/sh
# One line the host's tests parse: CPUs, memory, COM1 interrupts, bad dmesg lines.
irq=$(grep -E 'ttyS0|serial' /proc/interrupts | awk '{s=0; for (i=2; i<=NF; i++) if ($i ~ /^[0-9]+$/) s+=$i; print s; exit}')
bad=$(dmesg | grep -cE 'BUG|WARNING|Call Trace|unhandled')
echo "hyve-check: nproc=$(nproc) memtotal_kb=$(sed -n 's/MemTotal: *\([0-9]*\).*/\1/p' /proc/meminfo) uart_irqs=${irq:-0} dmesg_bad=$bad"
dmesg | grep -E 'BUG|WARNING|Call Trace|unhandled' | head -n 5 | sed 's/^/hyve-check: dmesg: /'
CHECK
chmod 0755 "$root/bin/hyve-check"
cat >"$root/bin/hyve-disktest" <<'DISK'
#!/bin/sh
# Guest side of the virtio scenarios: /dev/vda is an ext4 disk with
# hello.txt, /dev/vdb a read-only disk, plus a virtio-rng.  One line each.
echo "pci: virtio=$(cat /sys/bus/pci/devices/*/vendor 2>/dev/null | grep -c 0x1af4)"
echo "lspci: virtio=$(lspci 2>/dev/null | grep -c 'Virtio')"
mkdir -p /mnt
if mount /dev/vda /mnt; then
	echo "disk: read=$(cat /mnt/hello.txt)"
	echo "hyve-durable-$(cat /proc/sys/kernel/random/uuid)" >/mnt/new.txt
	sync
	echo "disk: wrote=$(cat /mnt/new.txt) flushed"
	[ -n "$HOLD" ] && sleep "$HOLD"
	umount /mnt
fi
if dd if=/dev/zero of=/dev/vdb bs=4096 count=1 oflag=direct 2>/dev/null; then
	echo "disk: ro-accepted"
else
	echo "disk: ro-refused"
fi
echo "rng: bytes=$(dd if=/dev/hwrng bs=32 count=1 2>/dev/null | wc -c)"
DISK
chmod 0755 "$root/bin/hyve-disktest"
# pciutils' lspci (busybox-static has none), from Debian's pciutils, libpci3
# and pci.ids packages.  It is dynamically linked: its libraries (libpci from
# the package, the rest - libkmod, libudev, libz, libzstd, liblzma,
# libcrypto, libc - from this host, as ldd resolves them) and the dynamic
# loader go in at the same absolute paths.  libpci reads
# /usr/share/misc/pci.ids.gz (falling back to pci.ids).
for p in pciutils libpci3 pci.ids; do
	dpkg-deb -x "$(download "$p")" "$work/pci"
done
lspci_bin=$work/pci/usr/bin/lspci
[ -x "$lspci_bin" ] || lspci_bin=$work/pci/bin/lspci
[ -x "$lspci_bin" ] || rig_die "pciutils: no lspci in the package"
mkdir -p "$root/usr/bin" "$root/usr/share/misc"
cp "$lspci_bin" "$root/usr/bin/lspci"
ln -sf ../usr/bin/lspci "$root/bin/lspci"	# /init's PATH is /bin
gzip -9c "$work/pci/usr/share/misc/pci.ids" >"$root/usr/share/misc/pci.ids.gz"
copy_libs lspci "$lspci_bin" "$work/pci/usr/lib/x86_64-linux-gnu"
# udhcpc's default script: busybox calls it with bound/renew/deconfig.
# Debian's busybox looks for it in /etc/udhcpc (CONFIG_UDHCPC_DEFAULT_SCRIPT).
mkdir -p "$root/etc/udhcpc"
cat >"$root/etc/udhcpc/default.script" <<'DHCP'
#!/bin/sh
# udhcpc hook (hyve guest kit): configure $interface from the lease.
case "$1" in
deconfig)
	ip -4 addr flush dev "$interface"
	ip link set "$interface" up ;;
bound|renew)
	ip -4 addr flush dev "$interface"
	ip addr add "$ip/${mask:-24}" dev "$interface"
	ip link set "$interface" up
	for r in $router; do ip route replace default via "$r" dev "$interface"; break; done
	: >/etc/resolv.conf
	for d in $dns; do echo "nameserver $d" >>/etc/resolv.conf; done
	echo "udhcpc: $interface $ip/${mask:-24} router=${router:-none} dns=${dns:-none}" ;;
esac
exit 0
DHCP
chmod 0755 "$root/etc/udhcpc/default.script"
# iperf3 for bench/net: Debian's iperf3 + libiperf0 (+ libsctp1), dynamic;
# its libraries and the loader go in at the same absolute paths.
for p in iperf3 libiperf0 libsctp1; do
	dpkg-deb -x "$(download "$p")" "$work/ip"
done
iperf_bin=$work/ip/usr/bin/iperf3
[ -x "$iperf_bin" ] || rig_die "iperf3: no binary in the package"
cp "$iperf_bin" "$root/usr/bin/iperf3"
ln -sf ../usr/bin/iperf3 "$root/bin/iperf3"
copy_libs iperf3 "$iperf_bin" "$work/ip/usr/lib/x86_64-linux-gnu"
printf 'PS1="hyve# "\n' >"$root/root/.profile"
ln -sf /root/.profile "$root/.profile"
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 | gzip -1 >"$out/initrd.img")
echo "$release" >"$out/release"
echo "$stamp" >"$out/stamp"
rig_say "guest kit ready in $out ($(du -k "$out/initrd.img" | cut -f1) KiB initramfs, modules: $(tr '\n' ' ' <"$root/lib/modules/order"))"
