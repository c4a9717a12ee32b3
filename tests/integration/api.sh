#!/bin/sh
# shellcheck source-path=SCRIPTDIR disable=SC2034
# api.sh - the API server through the real binary, without KVM: `hyve fc`
# serving its Unix socket, driven with `curl --unix-socket`, and `hyve ctl`.
# Checks status codes and fault messages, the socket's mode and lifetime,
# the request limits (body size, slow clients, many clients), --config-file,
# the `firecracker` name.  InstanceStart fails here on purpose:
# HYVE_KVM_DEVICE points at a missing device, so every host behaves alike.
#
# POSIX sh.  Environment: HYVE (default <repo>/build/hyve).  Needs curl
# (every test is skipped without it).

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

root=$(cd "$here/../.." 2>/dev/null && pwd)
HYVE=${HYVE:-$root/build/hyve}
export HYVE_KVM_DEVICE=/nonexistent/kvm
export HYVE_API_TIMEOUT=2

t_setup
echo "# hyve API tests: HYVE=$HYVE"
if ! command -v curl >/dev/null 2>&1; then
	echo "ok 1 - API tests # SKIP curl is not installed"
	echo "1..1"
	exit 0
fi

SOCK=$TMPD/api.sock
KERNEL=$TMPD/vmlinuz
printf 'not a kernel' >"$KERNEL"
DISK=$TMPD/disk.img
head -c 1048576 /dev/zero >"$DISK"
PID=""

# start_fc ARGS...: hyve fc in the background on $SOCK; waits until it answers.
start_fc() {
	"$HYVE" fc --api-sock "$SOCK" "$@" </dev/null >"$TMPD/fc.out" 2>"$TMPD/fc.err" &
	PID=$!
	_i=0
	while [ $_i -lt 50 ] && kill -0 "$PID" 2>/dev/null &&
		! curl -s --max-time 2 --unix-socket "$SOCK" -o /dev/null http://localhost/ 2>/dev/null; do
		sleep 0.1
		_i=$((_i + 1))
	done
}

stop_fc() {
	[ -n "$PID" ] || return 0
	kill "$PID" 2>/dev/null
	wait "$PID" 2>/dev/null
	PID=""
}

t_cleanup_api() {
	stop_fc
	t_cleanup
}
trap 't_cleanup_api' EXIT

# api METHOD PATH [BODY]: one request; sets CODE, body in $OUT.
api() {
	if [ $# -ge 3 ]; then
		CODE=$(curl -s --max-time 10 --unix-socket "$SOCK" -X "$1" -H 'Content-Type: application/json' \
			-d "$3" -o "$OUT" -w '%{http_code}' "http://localhost$2")
	else
		CODE=$(curl -s --max-time 10 --unix-socket "$SOCK" -X "$1" -o "$OUT" -w '%{http_code}' \
			"http://localhost$2")
	fi
}

want_code() {
	[ "$CODE" = "$1" ] && return 0
	diag "HTTP status: expected $1, got $CODE"
	diag_file "body" "$OUT"
	return 1
}

# want_fault REGEX: a 400 whose body is {"fault_message": "...REGEX..."}.
want_fault() {
	want_code 400 || return 1
	if ! grep -q '^{"fault_message":"[^"]*' "$OUT" || ! grep -Eq "$1" "$OUT"; then
		diag "expected a fault_message matching '$1'"
		diag_file "body" "$OUT"
		return 1
	fi
}

want_body() {
	grep -Eq "$1" "$OUT" && return 0
	diag "body does not match '$1'"
	diag_file "body" "$OUT"
	return 1
}

# check DESCRIPTION METHOD PATH BODY CODE [REGEX]
check() {
	if t_begin "$1"; then
		api "$2" "$3" "$4"
		if [ "$5" = 400 ]; then
			want_fault "$6"
		else
			want_code "$5" && { [ -z "${6:-}" ] || want_body "$6"; }
		fi
		t_end
	fi
}

start_fc --id api-test

if t_begin "hyve fc creates its socket with mode 0600"; then
	if [ ! -S "$SOCK" ]; then
		diag "no socket at $SOCK"
		diag_file "stderr" "$TMPD/fc.err"
	else
		m=$(stat -c %a "$SOCK")
		[ "$m" = 600 ] || diag "socket mode is $m, expected 600"
	fi
	t_end
fi

check "GET / before boot says Not started" GET / "" 200 '"id":"api-test","state":"Not started"'
if t_begin "GET / has vmm_version and app_name"; then
	api GET /
	want_code 200 && want_body '"vmm_version":"[^"]+".*"app_name":"[^"]+"'
	t_end
fi
check "GET /version" GET /version "" 200 '"firecracker_version":'
check "GET /machine-config gives the defaults" GET /machine-config "" 200 \
	'"vcpu_count":1,"mem_size_mib":128,"smt":false'
check "PUT /machine-config: 204" PUT /machine-config '{"vcpu_count": 2, "mem_size_mib": 256}' 204
check "GET /machine-config shows the PUT" GET /machine-config "" 200 '"vcpu_count":2,"mem_size_mib":256'
check "PATCH /machine-config changes one field" PATCH /machine-config '{"mem_size_mib": 512}' 204
check "machine-config: unknown field" PUT /machine-config '{"vcpu_count": 2, "mem_size_mib": 64, "foo": 1}' \
	400 'unknown field `foo`'
check "machine-config: wrong type" PUT /machine-config '{"vcpu_count": "2", "mem_size_mib": 64}' \
	400 'invalid type for `vcpu_count`'
check "machine-config: missing required field" PUT /machine-config '{"vcpu_count": 2}' \
	400 'missing field `mem_size_mib`'
check "machine-config: vcpu_count out of range" PUT /machine-config '{"vcpu_count": 33, "mem_size_mib": 64}' \
	400 'out of range'
check "machine-config: SMT is refused as not implemented" PUT /machine-config \
	'{"vcpu_count": 2, "mem_size_mib": 64, "smt": true}' 400 'not implemented'
check "a failed PUT changes nothing" GET /machine-config "" 200 '"vcpu_count":2,"mem_size_mib":512'
check "malformed JSON" PUT /machine-config '{"vcpu_count": 2,' 400 'Invalid JSON'
check "duplicate keys" PUT /machine-config '{"vcpu_count": 2, "vcpu_count": 1, "mem_size_mib": 64}' \
	400 'Invalid JSON'
check "a body that is not an object" PUT /boot-source '"kernel"' 400 "Invalid JSON body: '\\[' or '\\{' expected"
check "an array body" PUT /boot-source '[1]' 400 'must be a JSON object'
check "an empty body" PUT /entropy '' 400 'needs a JSON body'
check "boot-source: a kernel that does not exist" PUT /boot-source \
	'{"kernel_image_path": "/nonexistent/vmlinuz"}' 400 '/nonexistent/vmlinuz: No such file'
check "boot-source: a directory as the kernel" PUT /boot-source "{\"kernel_image_path\": \"$TMPD\"}" \
	400 'not a regular file'
check "PUT /boot-source: 204" PUT /boot-source \
	"{\"kernel_image_path\": \"$KERNEL\", \"boot_args\": \"console=ttyS0 quiet\"}" 204
check "PUT /drives/rootfs: 204" PUT /drives/rootfs \
	"{\"drive_id\": \"rootfs\", \"path_on_host\": \"$DISK\", \"is_root_device\": true, \"is_read_only\": false}" 204
check "drives: path id and body id differ" PUT /drives/a \
	"{\"drive_id\": \"b\", \"path_on_host\": \"$DISK\", \"is_root_device\": false}" 400 'does not match'
check "drives: a second root device" PUT /drives/r2 \
	"{\"drive_id\": \"r2\", \"path_on_host\": \"$DISK\", \"is_root_device\": true}" 400 'root block device'
check "drives: a missing image" PUT /drives/d2 \
	'{"drive_id": "d2", "path_on_host": "/nonexistent.img", "is_root_device": false}' 400 'No such file'
check "PATCH /drives before boot" PATCH /drives/rootfs '{"drive_id": "rootfs"}' 400 'before starting'
check "PUT /network-interfaces/eth0: 204" PUT /network-interfaces/eth0 \
	'{"iface_id": "eth0", "host_dev_name": "hyvetap0", "guest_mac": "06:00:AC:10:00:02"}' 204
check "network-interfaces: a tap used twice" PUT /network-interfaces/eth1 \
	'{"iface_id": "eth1", "host_dev_name": "hyvetap0"}' 400 'already used by eth0'
check "network-interfaces: a bad MAC" PUT /network-interfaces/eth1 \
	'{"iface_id": "eth1", "host_dev_name": "hyvetap1", "guest_mac": "06:00:AC:10:00"}' 400 'guest_mac'
check "network-interfaces: an MTU hyve does not offer" PUT /network-interfaces/eth1 \
	'{"iface_id": "eth1", "host_dev_name": "hyvetap1", "mtu": 9000}' 400 'mtu'
check "PATCH /network-interfaces before boot" PATCH /network-interfaces/eth0 '{"iface_id": "eth0"}' \
	400 'before starting'
check "PUT /entropy: 204" PUT /entropy '{}' 204
check "PUT /logger: 204" PUT /logger "{\"log_path\": \"$TMPD/fc.log\", \"level\": \"Info\"}" 204
check "PUT /metrics: 204" PUT /metrics "{\"metrics_path\": \"$TMPD/fc.metrics\"}" 204
check "PUT /metrics twice" PUT /metrics "{\"metrics_path\": \"$TMPD/m2\"}" 400 'Reinitialization'
check "FlushMetrics: 204" PUT /actions '{"action_type": "FlushMetrics"}' 204
if t_begin "metrics file has a JSON line, log file has the requests"; then
	grep -q '^{"utc_timestamp_ms":[0-9]*,' "$TMPD/fc.metrics" 2>/dev/null ||
		diag_file "metrics file" "$TMPD/fc.metrics"
	grep -q 'PUT /actions: 204' "$TMPD/fc.log" 2>/dev/null || diag_file "log file" "$TMPD/fc.log"
	t_end
fi
check "PATCH /vm before boot" PATCH /vm '{"state": "Paused"}' 400 'before starting'
check "PATCH /vm with a bad state" PATCH /vm '{"state": "Frozen"}' 400 'unknown `state`'
check "SendCtrlAltDel before boot" PUT /actions '{"action_type": "SendCtrlAltDel"}' 400 'before starting'
check "an unknown action" PUT /actions '{"action_type": "Explode"}' 400 'action_type'
check "GET /hyve/stats before boot" GET /hyve/stats "" 400 'No VM is running'
for p in /balloon /snapshot/create /snapshot/load /mmds /vsock /cpu-config /pmem/p0; do
	check "$p: 400 not implemented" PUT "$p" '{}' 400 'not implemented'
done
check "an unknown path" GET /nothing "" 400 'Invalid request method and/or path: GET /nothing'
check "a wrong method" DELETE /machine-config "" 400 'Invalid request method and/or path'
check "GET /vm/config: the whole configuration" GET /vm/config "" 200 \
	"\"drives\":\\[\\{\"drive_id\":\"rootfs\".*\"boot-source\":\\{\"kernel_image_path\":\"$KERNEL\".*\"network-interfaces\":\\[\\{\"iface_id\":\"eth0\",\"host_dev_name\":\"hyvetap0\",\"guest_mac\":\"06:00:AC:10:00:02\"\\}\\]"

if t_begin "a body over 64 KiB is refused"; then
	head -c 70000 /dev/zero | tr '\0' ' ' >"$TMPD/big"
	CODE=$(curl -s --max-time 10 --unix-socket "$SOCK" -X PUT -H 'Content-Type: application/json' \
		--data-binary @"$TMPD/big" -o "$OUT" -w '%{http_code}' http://localhost/entropy)
	want_fault 'larger than 65536'
	t_end
fi
if t_begin "a body over 64 KiB announced with Expect: 100-continue is refused before it is sent"; then
	CODE=$(curl -s --max-time 10 --unix-socket "$SOCK" -X PUT -H 'Content-Type: application/json' \
		-H 'Expect: 100-continue' --expect100-timeout 5 \
		--data-binary @"$TMPD/big" -o "$OUT" -w '%{http_code}' http://localhost/entropy)
	want_fault 'larger than 65536'
	t_end
fi
if t_begin "a chunked body over 64 KiB is refused"; then
	CODE=$(curl -s --max-time 10 --unix-socket "$SOCK" -X PUT -H 'Transfer-Encoding: chunked' \
		--data-binary @"$TMPD/big" -o "$OUT" -w '%{http_code}' http://localhost/entropy)
	want_fault 'larger than 65536'
	t_end
fi

if t_begin "InstanceStart without KVM: 400, hyve keeps serving"; then
	api PUT /actions '{"action_type": "InstanceStart"}'
	want_fault 'Cannot start the microVM'
	api GET /
	want_code 200 && want_body '"state":"Not started"'
	kill -0 "$PID" 2>/dev/null || diag "hyve fc exited"
	t_end
fi

# silent_client HEAD: connect, send HEAD (printf %b), then nothing; prints
# the seconds until the server closed the connection (python3: curl cannot
# hold a connection open silently).
silent_client() {
	python3 - "$SOCK" "$1" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode().decode('unicode_escape').encode())
t = time.time()
s.settimeout(20)
try:
    while s.recv(4096):
        pass
except OSError:
    pass
print(int(time.time() - t))
PY
}
for what in "a client that connects and sends nothing|" \
	"a client that never finishes its body|PUT /entropy HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n" \
	"a client that never finishes its headers|GET / HTTP/1.1\\r\\nHost: x\\r\\n"; do
	if ! command -v python3 >/dev/null 2>&1; then
		t_begin "${what%%|*} is closed after the timeout" && T_NUM=$((T_NUM + 1)) &&
			echo "ok $T_NUM - ${what%%|*} is closed after the timeout # SKIP no python3"
		continue
	fi
	if t_begin "${what%%|*} is closed after the timeout"; then
		el=$(silent_client "${what#*|}")
		[ -n "$el" ] && [ "$el" -lt 6 ] || diag "the connection stayed open ${el:-?}s (timeout is 2 s)"
		t_end
	fi
done
if t_begin "a client sending 1 byte a second is closed after the timeout"; then
	printf '{"vcpu_count": 1, "mem_size_mib": 128}' >"$TMPD/slow"
	t0=$(date +%s)
	curl -s --max-time 30 --limit-rate 1 --unix-socket "$SOCK" -X PUT -H 'Content-Type: application/json' \
		--data-binary @"$TMPD/slow" -o /dev/null http://localhost/machine-config
	el=$(($(date +%s) - t0))
	[ "$el" -lt 10 ] || diag "the connection stayed open ${el}s (timeout is 2 s)"
	t_end
fi
if t_begin "100 clients at once: every one answered or closed, hyve keeps serving"; then
	i=0
	while [ $i -lt 100 ]; do
		curl -s --max-time 20 --unix-socket "$SOCK" -o /dev/null -w '%{http_code}\n' \
			http://localhost/ >"$TMPD/c.$i" 2>/dev/null &
		i=$((i + 1))
	done
	wait_start=$(date +%s)
	while [ "$(cat "$TMPD"/c.* 2>/dev/null | wc -l)" -lt 100 ] &&
		[ $(($(date +%s) - wait_start)) -lt 30 ]; do
		sleep 0.2
	done
	ok=$(cat "$TMPD"/c.* | grep -c '^200$')
	[ "$(cat "$TMPD"/c.* | wc -l)" -eq 100 ] || diag "not every client finished"
	[ "$ok" -ge 1 ] || diag "no client got an answer"
	echo "# $ok of 100 concurrent clients answered (limit 32 connections)"
	api GET /
	want_code 200
	kill -0 "$PID" 2>/dev/null || diag "hyve fc exited"
	t_end
fi

# ---- hyve ctl against a server with no VM ----
if t_begin "hyve ctl info"; then
	hv ctl --api-sock "$SOCK" info
	want_status 0
	grep -q '^state: Not started$' "$OUT" || diag_file "stdout" "$OUT"
	grep -q '^id: api-test$' "$OUT" || diag_file "stdout" "$OUT"
	t_end
fi
if t_begin "hyve ctl --json info"; then
	hv ctl --api-sock "$SOCK" --json info
	want_status 0
	grep -q '"state": "Not started"' "$OUT" || diag_file "stdout" "$OUT"
	t_end
fi
if t_begin "hyve ctl pause before boot: one error line, status 1"; then
	hv ctl --api-sock "$SOCK" pause
	want_status 1
	want_out_empty
	want_err_one_line 'not supported before starting'
	t_end
fi
if t_begin "hyve ctl stats before boot: one error line, status 1"; then
	hv_fails 'No VM is running' ctl --api-sock "$SOCK" stats
	t_end
fi
if t_begin "hyve ctl config prints /vm/config"; then
	hv ctl --api-sock "$SOCK" config
	want_status 0
	grep -q '"drive_id": "rootfs"' "$OUT" || diag_file "stdout" "$OUT"
	t_end
fi
if t_begin "hyve ctl with an unknown command"; then
	hv_fails 'unknown ctl command' ctl --api-sock "$SOCK" explode
	t_end
fi
if t_begin "hyve ctl on a missing socket"; then
	hv_fails 'cannot connect' ctl --api-sock "$TMPD/none.sock" info
	t_end
fi

if t_begin "a second hyve on a live socket is refused"; then
	hv_fails 'in use by another process' fc --api-sock "$SOCK"
	[ -S "$SOCK" ] || diag "the live socket was removed"
	t_end
fi
if t_begin "hyve ctl stop before boot: hyve fc exits 0 and removes its socket"; then
	hv ctl --api-sock "$SOCK" stop
	want_status 0
	wait "$PID"
	st=$?
	PID=""
	[ "$st" = 0 ] || diag "hyve fc exited with $st"
	[ ! -e "$SOCK" ] || diag "the socket is still there"
	t_end
fi

if t_begin "a stale socket file is replaced"; then
	start_fc
	kill -9 "$PID"
	wait "$PID" 2>/dev/null
	PID=""
	if [ ! -S "$SOCK" ]; then
		diag "no stale socket left by kill -9"
	else
		start_fc
		api GET /
		want_code 200
		stop_fc
	fi
	t_end
fi
if t_begin "SIGTERM before boot: exit 1, socket removed"; then
	start_fc
	kill "$PID"
	wait "$PID"
	st=$?
	PID=""
	[ "$st" = 1 ] || diag "status $st, expected 1"
	grep -q 'terminated by signal TERM' "$TMPD/fc.err" || diag_file "stderr" "$TMPD/fc.err"
	[ ! -e "$SOCK" ] || diag "the socket is still there"
	t_end
fi
if t_begin "a path that is not a socket is refused"; then
	: >"$TMPD/file"
	hv_fails 'exists and is not a socket' fc --api-sock "$TMPD/file"
	[ -f "$TMPD/file" ] || diag "the file was removed"
	t_end
fi
if t_begin "a socket path too long is refused"; then
	hv_fails 'not a usable socket path' fc --api-sock "/tmp/$(printf '%0120d' 0)"
	t_end
fi
if t_begin "--no-api needs --config-file"; then
	hv_fails 'needs --config-file' fc --no-api
	t_end
fi
if t_begin "hyve fc: unknown option"; then
	hv_fails "unknown option '--bogus'" fc --bogus
	t_end
fi

# ---- --config-file ----
cat >"$TMPD/vm.json" <<EOF
{
  "boot-source": { "kernel_image_path": "$KERNEL", "boot_args": "console=ttyS0" },
  "drives": [ { "drive_id": "rootfs", "path_on_host": "$DISK", "is_root_device": true,
                "is_read_only": false } ],
  "machine-config": { "vcpu_count": 1, "mem_size_mib": 128 },
  "network-interfaces": []
}
EOF
if t_begin "--config-file: parsed, then the boot fails without KVM (one line, status 1)"; then
	hv fc --no-api --config-file "$TMPD/vm.json"
	want_status 1
	want_out_empty
	want_err_one_line
	t_end
fi
printf '{"boot-source": {"kernel_image_path": "/nonexistent"}}' >"$TMPD/bad1.json"
if t_begin "--config-file: a kernel that does not exist"; then
	hv_fails 'nonexistent: No such file' fc --no-api --config-file "$TMPD/bad1.json"
	t_end
fi
printf '{"boot-source": {"kernel_image_path": "%s"}, "machine-config": {"vcpu_count": 1}}' "$KERNEL" \
	>"$TMPD/bad2.json"
if t_begin "--config-file: a missing required field"; then
	hv_fails 'missing field `mem_size_mib`' fc --no-api --config-file "$TMPD/bad2.json"
	t_end
fi
printf '{"boot-source": ' >"$TMPD/bad3.json"
if t_begin "--config-file: malformed JSON"; then
	hv_fails 'invalid JSON' fc --no-api --config-file "$TMPD/bad3.json"
	t_end
fi
printf '{"boot-source": {"kernel_image_path": "%s"}, "vsock": {"guest_cid": 3, "uds_path": "/v"}}' \
	"$KERNEL" >"$TMPD/bad4.json"
if t_begin "--config-file: an unimplemented resource"; then
	hv_fails 'vsock. is not implemented' fc --no-api --config-file "$TMPD/bad4.json"
	t_end
fi

# ---- the firecracker name ----
ln -s "$HYVE" "$TMPD/firecracker"
if t_begin "invoked as firecracker: --version"; then
	HV_CMD="firecracker --version"
	"$TMPD/firecracker" --version >"$OUT" 2>"$ERR"
	STATUS=$?
	want_status 0
	grep -q '^Firecracker v[0-9]' "$OUT" || diag_file "stdout" "$OUT"
	t_end
fi
if t_begin "invoked as firecracker: serves the API"; then
	"$TMPD/firecracker" --api-sock "$SOCK" --id fc-name </dev/null >/dev/null 2>"$TMPD/fc.err" &
	PID=$!
	i=0
	while [ ! -S "$SOCK" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	api GET /
	want_code 200 && want_body '"id":"fc-name"'
	stop_fc
	t_end
fi

# ---- hyve run --api-sock ----
if t_begin "hyve run --api-sock: the VM cannot be built without KVM, the socket goes"; then
	printf '\372\364' >"$TMPD/hlt.bin"
	hv_fails 'kvm' run --raw "$TMPD/hlt.bin" --api-sock "$SOCK"
	[ ! -e "$SOCK" ] || diag "the socket is still there"
	t_end
fi

# ---- a restricted KVM (kvm_pvm): the one host probe decides for hyve fc too ----
if t_begin "fc --config-file on a restricted KVM: status 1, one line naming the reason and the rig"; then
	HYVE_HOST_KIND=restricted
	export HYVE_HOST_KIND
	hv fc --no-api --config-file "$TMPD/vm.json"
	unset HYVE_HOST_KIND
	want_status 1
	want_out_empty
	want_err_one_line 'cannot boot a Linux kernel \(set by HYVE_HOST_KIND=restricted\).*nested-KVM rig'
	t_end
fi
if t_begin "InstanceStart on a restricted KVM: 400 naming the reason, hyve keeps serving"; then
	HYVE_HOST_KIND=restricted
	export HYVE_HOST_KIND
	start_fc --id restricted
	unset HYVE_HOST_KIND
	api PUT /boot-source "{\"kernel_image_path\": \"$KERNEL\"}"
	want_code 204
	api PUT /actions '{"action_type": "InstanceStart"}'
	want_fault 'cannot boot a Linux kernel.*nested-KVM rig'
	api GET /
	want_code 200 && want_body '"state":"Not started"'
	kill -0 "$PID" 2>/dev/null || diag "hyve fc exited"
	stop_fc
	t_end
fi

t_done
