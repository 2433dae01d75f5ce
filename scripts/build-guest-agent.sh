#!/bin/sh
# Builds the guest agent bundle: one static binary that runs in any x86-64 Linux guest, with its
# init script, systemd unit and setup-disk installer (from dist/guest/).
#   scripts/build-guest-agent.sh            -> .build/guest/
#   scripts/build-guest-agent.sh --legacy   -> .build/guest-legacy/ (an older release, for version-management tests)
# Prints the bundle folder.
set -eu
cd "$(dirname "$0")/.."
flavour=""
scratch=.build-guest
bundle=.build/guest
if [ "${1:-}" = "--legacy" ]; then
    flavour="-Xswiftc -DVIRIDIAN_LEGACY_AGENT"
    scratch=.build-guest-legacy
    bundle=.build/guest-legacy
fi
# shellcheck disable=SC2086
swift build -c release --product viridian-guest --scratch-path "$scratch" \
    --static-swift-stdlib -Xswiftc -static-executable $flavour >&2
mkdir -p "$bundle"
strip -o "$bundle/viridian-guest.tmp" "$scratch/release/viridian-guest"
mv "$bundle/viridian-guest.tmp" "$bundle/viridian-guest"
cp dist/guest/viridian-guest.init dist/guest/viridian-guest.service dist/guest/install.sh "$bundle/"
echo "$(pwd)/$bundle"
