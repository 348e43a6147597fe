#!/usr/bin/env bash
# choreo's test command: every unit and integration test (release profile, so the tests that
# load the whole Tang2018 corpus from ../shared are quick). Tests needing ../shared skip without it.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --release --locked "$@"
