#!/usr/bin/env bash
# Runs the benchmarks on the machine's own Node (e.g. Node 20, where DESIGN.md §3's figures were
# measured), which cannot run TypeScript: compiles src/ and bench/ to .bench-dist/ first.
set -euo pipefail
cd "$(dirname "$0")/.."
system_node=$(which -a node | grep -v node_modules | head -n 1)
node_modules/.bin/tsc -p tsconfig.bench.json
echo "running on $("$system_node" --version) ($system_node)"
exec "$system_node" .bench-dist/bench/main.js "$@"
