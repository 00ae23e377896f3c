#!/usr/bin/env bash
# Fetches the official DynamoDB Local (Java) into .cache/dynamodb-local.
# It ships inside the npm package amplify-dynamodb-simulator under emulator/;
# we `npm pack` it and extract only that folder (the package itself would pull
# in hundreds of MB of dependencies).
set -euo pipefail
cd "$(dirname "$0")/.."
dest="${DYNAMODB_LOCAL_DIR:-.cache/dynamodb-local}"
version="2.9.30"
if [ -f "$dest/DynamoDBLocal.jar" ]; then
  echo "DynamoDB Local present in $dest"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "amplify-dynamodb-simulator@$version" >/dev/null)
mkdir -p "$dest"
tar -xzf "$tmp"/amplify-dynamodb-simulator-*.tgz -C "$tmp" package/emulator
cp -R "$tmp"/package/emulator/. "$dest"/
test -f "$dest/DynamoDBLocal.jar"
echo "DynamoDB Local installed in $dest"
