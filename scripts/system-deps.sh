#!/usr/bin/env bash
# Installs what the test suite needs from Debian: a PostgreSQL server (the tests start their own cluster)
# and Chromium (driven by Playwright). Needs root; without it, says what is missing.
set -euo pipefail

need=()
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$pg_bin" ] && ! command -v initdb >/dev/null 2>&1; then need+=(postgresql); fi
if ! command -v chromium >/dev/null 2>&1; then need+=(chromium); fi
if ! command -v runuser >/dev/null 2>&1; then need+=(util-linux); fi
# Fonts so that pages render with real glyphs in screenshots.
if [ ! -d /usr/share/fonts/truetype/dejavu ]; then need+=(fonts-dejavu-core); fi

if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
    echo "missing system packages: ${need[*]} (run as root, or: sudo apt-get install -y ${need[*]})" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "installed: ${need[*]}"
