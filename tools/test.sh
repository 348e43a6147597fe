#!/usr/bin/env bash
# choreo's test command: every unit and integration test (release profile, so the tests that
# load the whole Tang2018 corpus from ../shared are quick).
# A test whose input is missing (../shared, vendor/media, index/default) FAILS when CI is set;
# locally it is skipped loudly, and the skips are counted below.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p target
rm -f target/skipped-tests.log
status=0
cargo test --release --locked "$@" || status=$?
# The library compiles without the command line (clap is behind the default `cli` feature):
# `cargo check`, a few minutes on 2 cores the first time (no code generation).
cargo check --locked --no-default-features --lib || status=$?
# The cluster build (issue 15): a local Ray with 2 workers, about 80 s; needs setup's venv.
if [ -x vendor/venv-cluster/bin/python ]; then
  vendor/venv-cluster/bin/python tools/cluster/test_cluster.py || status=$?
elif [ -n "${CI:-}" ]; then
  echo "FAIL: vendor/venv-cluster missing (tools/setup.sh makes it); the cluster test cannot run"
  status=1
else
  echo "tools/cluster/test_cluster.py: vendor/venv-cluster missing (tools/setup.sh)" >> target/skipped-tests.log
fi
if [ -s target/skipped-tests.log ]; then
  n=$(wc -l < target/skipped-tests.log)
  echo
  echo "WARNING: $n test(s) skipped for missing inputs (they fail under CI=1):"
  sed 's/^/  /' target/skipped-tests.log
fi
exit $status
