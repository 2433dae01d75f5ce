#!/usr/bin/env bash
# Runs the whole test suite: unit tests, and integration tests that boot the real test guest
# under QEMU (the guest image is built once and cached in $VIRIDIAN_CACHE_DIR). The guest agent
# is built twice: this release, and an older one for the version-management tests.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/build-guest-agent.sh >/dev/null
scripts/build-guest-agent.sh --legacy >/dev/null
swift build --build-tests
swift test --skip-build "$@"
