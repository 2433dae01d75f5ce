#!/usr/bin/env bash
# Runs the whole test suite: unit tests, and integration tests that boot the real test guest
# under QEMU (the guest image is built once and cached in $VIRIDIAN_CACHE_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
swift build --build-tests
swift test --skip-build "$@"
