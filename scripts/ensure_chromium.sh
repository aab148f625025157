#!/usr/bin/env bash
# Make sure Debian's Chromium is installed, for the workbench's browser tests (Playwright).
#
# Why Debian's and not Playwright's download: bank build machines are offline and pin what
# they install to the distribution; `playwright install` would fetch a browser from the
# internet at test time. The tests launch this binary by path (executable_path) with headless
# flags. Installs `chromium` with apt-get only when it is missing. Progress goes to stderr; the
# last line on stdout is the executable, so `XIAOWEI_CHROMIUM="$(bash scripts/ensure_chromium.sh)"`
# works.
set -euo pipefail

say() { echo "ensure_chromium: $*" >&2; }

find_chromium() {
    command -v chromium || command -v chromium-browser || true
}

if [[ -z "$(find_chromium)" ]]; then
    if [[ "$(id -u)" -ne 0 ]]; then
        say "chromium is missing and installing it needs root: apt-get install chromium"
        exit 1
    fi
    say "chromium is missing; installing Debian's chromium with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update >&2
    apt-get install -y --no-install-recommends chromium fonts-noto-cjk >&2
fi

browser="$(find_chromium)"
"$browser" --version 2>/dev/null | tail -n 1 >&2 || true
echo "$browser"
