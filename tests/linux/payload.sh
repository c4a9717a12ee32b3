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
cp "$top/tests/linux/scenarios.sh" "$top/tests/linux/net.sh" "$top/tests/linux/api-scenarios.sh" "$dir/"
command -v curl >/dev/null && cp "$(command -v curl)" "$dir/curl"	# the API scenarios
[ ! -x "$top/build/tests/tools/sockcat" ] || cp "$top/build/tests/tools/sockcat" "$dir/"	# console socket
# tun.ko (tap scenarios) and tap/vhost_iotlb/vhost/vhost_net.ko (vhost=on)
# from the rig's kernel package (the rig's base initramfs has only the KVM
# and virtio modules).
deb=$(ls "${HYVE_RIG_CACHE:-$top/build/rig-cache}"/debs/linux-image-*.deb 2>/dev/null | head -n 1)
if [ -n "$deb" ]; then
	mkdir -p "$dir/mods" "$dir/x"
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dir/x" --wildcards '*/drivers/net/tun.ko*' \
		'*/drivers/net/tap.ko*' '*/drivers/vhost/vhost.ko*' \
		'*/drivers/vhost/vhost_iotlb.ko*' '*/drivers/vhost/vhost_net.ko*' 2>/dev/null
	find "$dir/x" -name '*.ko*' -exec cp {} "$dir/mods/" \;
	rm -rf "$dir/x"
	for f in "$dir"/mods/*.ko.xz; do if [ -f "$f" ]; then xz -d "$f"; fi; done
fi
for f in vmlinuz vmlinux initrd.img release; do
	[ -f "$KIT/$f" ] && cp "$KIT/$f" "$dir/kit/"
done
# Disks for the virtio scenarios: an ext4 image with a file, a blank one.
sh "$top/tests/linux/disks.sh" "$dir/disks"
PATH=$PATH:/usr/sbin:/sbin
cp "$(command -v debugfs)" "$dir/debugfs"	# to check the image after hyve
cp "$(command -v e2fsck)" "$dir/e2fsck"		# replays the journal after kill -9
cat >"$dir/run" <<'RUN'
#!/bin/sh
cd "$(dirname "$0")" || exit 1
HYVE="$(pwd)/hyve" KIT="$(pwd)/kit" sh ./scenarios.sh
s=$?
HYVE="$(pwd)/hyve" KIT="$(pwd)/kit" MODS="$(pwd)/mods" sh ./net.sh || s=1
if [ -x ./curl ]; then
	HYVE="$(pwd)/hyve" KIT="$(pwd)/kit" CURL="$(pwd)/curl" MODS="$(pwd)/mods" sh ./api-scenarios.sh || s=1
fi
exit $s
RUN
chmod +x "$dir/run"
