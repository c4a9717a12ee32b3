#!/usr/bin/env bash
# tests/rig/simulate-restricted.sh [BUILD_DIR] - what a kvm_pvm host does with
# hyve, checked where no such host is at hand: inside the rig's first-level VM
# (real kvm_amd, so small guests do run) a private mount namespace puts a fake
# /sys/module/kvm_pvm over /sys/module, so `hyve check-host` says restricted
# from its own facts (nothing forced by HYVE_HOST_KIND).  There:
#   - hyve check-host must say restricted;
#   - `hyve run` of the default guest kit must exit 1 within a second with
#     one line naming the reason and the way out;
#   - the CLI tests and the raw guest tests (what tests/run runs natively on
#     a restricted host) must pass.
# TAP lines; status 0 when all passed.  Wrap in flock /tmp/hyve-rig.lock.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
b=${1:-build}
cd "$top"
[ -x "$b/hyve" ] || { echo "simulate-restricted: $b/hyve is not built" >&2; exit 1; }
[ -f build/guest-kit/vmlinuz ] || { echo "simulate-restricted: no guest kit (bash scripts/guest-kit.sh)" >&2; exit 1; }
pl=$(mktemp -d /tmp/hyve-simpvm.XXXXXX)
trap 'rm -rf "$pl"' EXIT
PAYLOAD_CLI=1 HYVE="$top/$b/hyve" GUESTS="$top/build/guests" sh tests/integration/payload.sh "$pl" >/dev/null
mkdir -p "$pl/build/guest-kit"		# cli.sh finds the real kit at <root>/build/guest-kit
cp build/guest-kit/vmlinuz build/guest-kit/initrd.img "$pl/build/guest-kit/"
mv "$pl/run" "$pl/tests-run"
cat >"$pl/run" <<'EOF'
#!/bin/sh
cd "$(dirname "$0")" || exit 1
if [ -z "${SIM_NS:-}" ]; then
	export SIM_NS=1
	exec unshare -m sh "$0"
fi
n=0 bad=0
t() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; bad=1; fi; }
echo "# before: hyve check-host: $(./hyve check-host)"
mount -t tmpfs sim-kvm-pvm /sys/module && mkdir /sys/module/kvm_pvm
t $? "a fake /sys/module/kvm_pvm in a private mount namespace"
k=$(./hyve check-host)
echo "# after: hyve check-host: $k"
case $k in restricted:*kvm_pvm*) r=0 ;; *) r=1 ;; esac
t $r "hyve check-host says restricted (kvm_pvm), from the facts"
export HYVE_GUEST_KIT="$(pwd)/build/guest-kit"
ms_now() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }
t0=$(ms_now)
./hyve run >out 2>err </dev/null
st=$?
ms=$(($(ms_now) - t0))
echo "# hyve run (default guest kit): status $st after $ms ms, stderr:"
sed 's/^/#   /' err
[ $st = 1 ] && [ "$(wc -l <err)" = 1 ] && grep -q 'cannot boot a Linux kernel.*kvm_pvm.*rig.*--force' err && [ ! -s out ] && [ $ms -le 1000 ]
t $? "hyve run of the default guest kit: status 1 within a second, one line with the reason and the way out"
unset HYVE_GUEST_KIT
sh ./tests-run || bad=1
exit $bad
EOF
chmod +x "$pl/run"
bash tests/rig/rig.sh --timeout 1200 --boot-timeout 300 --idle-timeout 480 --retries 2 "$pl"
