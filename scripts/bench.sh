#!/usr/bin/env bash
# Benchmarks: each prints our number beside the obvious baseline measured in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo bench --locked -p sessionkeeper-tests --bench push
