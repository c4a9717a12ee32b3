#!/usr/bin/env bash
# scripts/demo.sh - install what is needed, build hyve and the guest kit, and
# boot the default guest (Debian's stock cloud kernel + busybox) to a shell.
#
# `hyve check-host` decides.  Where it says kvm (Linux runs natively), this
# is hyve itself on your terminal: an interactive shell; `poweroff -f` or
# Ctrl-A x ends it.  Extra arguments go to `hyve run` (e.g. --cpus 2).
# Where it says restricted (e.g. kvm_pvm) or none, the same boot runs inside
# the nested-KVM rig (tests/rig), which has no keyboard: a short shell session
# is typed into the guest's console for you, and you see it all.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
make -s -j"$(nproc 2>/dev/null || echo 2)" all
bash scripts/guest-kit.sh

host=$(build/hyve check-host)
if [ "${host%%:*}" = kvm ]; then
	exec build/hyve run --cpus 2 --memory 512M "$@"
fi

echo "demo: hyve check-host: $host" >&2
echo "demo: so the default guest boots inside the nested-KVM rig (about a minute)" >&2
pl=$(mktemp -d /tmp/hyve-demo.XXXXXX)
trap 'rm -rf "$pl"' EXIT
mkdir -p "$pl/guest-kit"	# next to hyve: its default guest, as build/guest-kit is
cp build/hyve "$pl/"
cp build/guest-kit/vmlinuz build/guest-kit/initrd.img "$pl/guest-kit/"
cat >"$pl/run" <<'RUN'
#!/bin/sh
# The rig's first-level VM is a real-KVM host: there the demo is the same
# command as natively above.  Its console is a fifo: type a session, show it.
cd "$(dirname "$0")"
echo "demo (in the rig): hyve check-host: $(./hyve check-host)"
mkfifo in
./hyve run --cpus 2 --memory 512M <in >out 2>err &
pid=$!
exec 3>in
tail -f out & tailpid=$!
until grep -q 'hyve-kit: ready' out; do sleep 0.5; kill -0 $pid 2>/dev/null || break; done
sleep 1
for cmd in 'uname -a' 'nproc' 'grep MemTotal /proc/meminfo' 'grep -E "CPU|ttyS" /proc/interrupts' 'poweroff -f'; do
	printf '%s\n' "$cmd" >&3
	sleep 2
done
wait $pid
status=$?
sleep 1
kill $tailpid 2>/dev/null
cat err
echo "demo: hyve exited with status $status (0 = the guest powered off)"
RUN
chmod +x "$pl/run"
bash tests/rig/rig.sh "$pl"
