# Shared helpers for the hyve nested-KVM rig scripts (sourced, not run).
# shellcheck shell=bash

RIG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RIG_REPO=$(cd "$RIG_DIR/../.." && pwd)
# shellcheck disable=SC2034 # used by the scripts that source this
RIG_CACHE=${HYVE_RIG_CACHE:-$RIG_REPO/build/rig-cache}

rig_die() { echo "rig: $*" >&2; exit 1; }
rig_say() { echo "rig: $*" >&2; }

# apt-get install with one 'apt-get update' retry (fresh machines have no lists).
rig_apt_install() {
    local log
    log=$(mktemp)
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >"$log" 2>&1; then
        if ! { apt-get update -q >"$log" 2>&1 &&
               DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >"$log" 2>&1; }; then
            cat "$log" >&2
            rm -f "$log"
            rig_die "apt-get install $* failed"
        fi
    fi
    rm -f "$log"
}

# rig_need CMD PACKAGE: install PACKAGE when CMD is not on PATH.
rig_need() {
    command -v "$1" >/dev/null 2>&1 && return 0
    rig_say "installing $2 (for $1)"
    rig_apt_install "$2"
    command -v "$1" >/dev/null 2>&1 || rig_die "$1 still missing after installing $2"
}

# Clock and formatting without forks (a fork costs milliseconds on some
# machines, and rig.sh does this for every line of output):
# rig_now VAR: VAR = wall clock in microseconds (bash 5 EPOCHREALTIME).
rig_now() { printf -v "$1" '%s' "${EPOCHREALTIME/[.,]/}"; }
# rig_secs VAR US: VAR = the microsecond duration US as seconds, one decimal.
rig_secs() { printf -v "$1" '%d.%d' $(($2 / 1000000)) $((($2 % 1000000) / 100000)); }
