#!/usr/bin/env bash
# Fetches the official DynamoDB Local (Java) into .cache/dynamodb-local.
# It ships inside the npm package amplify-dynamodb-simulator under emulator/;
# we `npm pack` it and extract only that folder (the package itself would pull
# in hundreds of MB of dependencies).
set -euo pipefail
cd "$(dirname "$0")/.."
dest="${DYNAMODB_LOCAL_DIR:-.cache/dynamodb-local}"
version="2.9.30"
# SHA-256 of the DynamoDBLocal.jar (1.25.1) inside that package version.
jar_sha256="454305e9bc3e6ebcca5b62569869e31563b8d7e346474e94557b2600702146c7"
if [ -f "$dest/DynamoDBLocal.jar" ]; then
  echo "DynamoDB Local present in $dest"
  exit 0
fi
# Test runs started at once (vitest's globalSetup, .ci/run) install one at a time;
# whoever waited finds the jar and stops.
mkdir -p "$(dirname "$dest")"
if command -v flock >/dev/null 2>&1; then
  exec 9>"$dest.lock"
  flock 9
  if [ -f "$dest/DynamoDBLocal.jar" ]; then
    echo "DynamoDB Local present in $dest"
    exit 0
  fi
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "amplify-dynamodb-simulator@$version" >/dev/null)
tar -xzf "$tmp"/amplify-dynamodb-simulator-*.tgz -C "$tmp" package/emulator
actual=$(sha256sum "$tmp/package/emulator/DynamoDBLocal.jar" | cut -d' ' -f1)
if [ "$actual" != "$jar_sha256" ]; then
  echo "DynamoDBLocal.jar checksum mismatch: expected $jar_sha256, got $actual" >&2
  exit 1
fi
# The jar goes in last (atomically): its presence is what marks the install complete.
mv "$tmp/package/emulator/DynamoDBLocal.jar" "$tmp/DynamoDBLocal.jar"
mkdir -p "$dest"
cp -R "$tmp"/package/emulator/. "$dest"/
cp "$tmp/DynamoDBLocal.jar" "$dest/DynamoDBLocal.jar.partial"
mv "$dest/DynamoDBLocal.jar.partial" "$dest/DynamoDBLocal.jar"
echo "DynamoDB Local installed in $dest"
