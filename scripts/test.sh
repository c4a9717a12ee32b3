#!/usr/bin/env bash
# scripts/test.sh - install what is needed, build hyve twice (normal, and
# ASan+UBSan), build the test guests and fuzz targets, and run the whole
# suite (tests/run) against both builds.  Run as root on Debian 12.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
jobs=$(nproc 2>/dev/null || echo 2)
make -s -j"$jobs" all fuzz
make -s -j"$jobs" SAN=1 build/san/hyve san-unit
bash scripts/guest-kit.sh
exec bash tests/run build build/san
