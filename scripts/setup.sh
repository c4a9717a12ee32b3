#!/usr/bin/env bash
# scripts/setup.sh - install what building and testing hyve needs on Debian 12
# (run as root).  Idempotent: installs only what is missing.
#   build-essential         gcc, make, binutils (as/ld/objcopy build the test guests)
#   libcmocka-dev           unit tests
#   clang libclang-rt-14-dev  libFuzzer targets
#   qemu-system-x86 seabios the nested-KVM test rig, and the peer in bench/
#   busybox-static cpio     the rig's initramfs
#   acpica-tools            iasl/acpiexec check the ACPI tables
#   liburing-dev pkg-config asynchronous disk I/O (io_uring)
#   e2fsprogs               mkfs.ext4 -d / debugfs for disk images
#   libslirp-dev libglib2.0-dev  user-mode networking (--net user; glib for
#                           slirp's pkg-config file)
#   iperf3                  the first-level server in bench/net
#   libmicrohttpd-dev libjansson-dev  the API server (HTTP on a Unix socket, JSON)
#   curl                    API tests (curl --unix-socket)
#   zlib1g-dev liblzma-dev liblz4-dev libzstd-dev libbz2-dev liblzo2-dev
#                           hyve decompresses bzImage payloads (src/boot/decomp.c;
#                           the static build links their .a files)
#   libxxhash-dev           the kernel cache's keys and digests (src/boot/kcache.c)
#   libseccomp-dev          the seccomp-bpf sandbox (src/sandbox.c)
set -euo pipefail

pkgs=(build-essential libcmocka-dev clang libclang-rt-14-dev qemu-system-x86
      seabios busybox-static cpio acpica-tools lz4 xz-utils
      liburing-dev pkg-config e2fsprogs libslirp-dev libglib2.0-dev
      iperf3 libmicrohttpd-dev libjansson-dev curl
      zlib1g-dev liblzma-dev liblz4-dev libzstd-dev libbz2-dev liblzo2-dev libxxhash-dev
      libseccomp-dev)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "setup: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
