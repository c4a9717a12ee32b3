#!/bin/sh
# tests/linux/payload.sh DIR - make a rig payload (tests/rig/rig.sh) that runs
# the Linux scenarios: the hyve binary ($HYVE), the guest kit ($KIT) and
# scenarios.sh, with a /payload/run that starts them.
set -eu
dir=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
HYVE=${HYVE:-$top/build/hyve}
KIT=${KIT:-$top/build/guest-kit}
mkdir -p "$dir/kit"
cp "$HYVE" "$dir/hyve"
cp "$top/tests/linux/scenarios.sh" "$dir/"
for f in vmlinuz vmlinux initrd.img release; do
	[ -f "$KIT/$f" ] && cp "$KIT/$f" "$dir/kit/"
done
cat >"$dir/run" <<'RUN'
#!/bin/sh
cd "$(dirname "$0")" || exit 1
HYVE="$(pwd)/hyve" KIT="$(pwd)/kit" sh ./scenarios.sh
RUN
chmod +x "$dir/run"
