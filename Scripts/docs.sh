#!/usr/bin/env bash
# Builds the DocC documentation of every library product (swift-docc-plugin) with warnings as
# errors, and fails when a public symbol has no documentation comment.
# Usage: bash Scripts/docs.sh [Target ...]    Output: .build/docs/<Target>.doccarchive
set -euo pipefail
cd "$(dirname "$0")/.."
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(AudioDSP TensorKit TBLogger ResNetAudio ESC50 Training AudioClassification DataParallel)
mkdir -p .build/docs
failed=()
for target in "${targets[@]}"; do
  echo "== $target"
  out=".build/docs/$target.doccarchive"
  rm -rf "$out"
  if ! swift package --allow-writing-to-directory .build/docs generate-documentation --target "$target" \
    --output-path "$out" --warnings-as-errors --experimental-skip-synthesized-symbols \
    --experimental-documentation-coverage --coverage-summary-level none 2>&1 | grep -v '^\[[0-9]*/[0-9]*\]'; then
    failed+=("$target"); continue
  fi
  python3 - "$out/documentation-coverage.json" "$target" <<'PY' || failed+=("$target")
import json, sys
entries = json.load(open(sys.argv[1]))
# Extension containers have no comment to write; Codable's and RawRepresentable's members are
# documented by those protocols.
def needs_docs(e):
    path = e.get("referencePath", "")
    if not e["kind"].get("isSymbol", True) or "extended" in e["kind"]["id"]:
        return False
    synthesized = ("-Implementations", "/init(from:)", "/encode(to:)", "/init(rawValue:)")
    return not path.endswith(synthesized) and "/$" not in path
symbols = [e for e in entries if needs_docs(e)]
missing = [e for e in symbols if not e.get("hasAbstract", True)]
print(f"{sys.argv[2]}: {len(symbols) - len(missing)} of {len(symbols)} public symbols documented")
for e in missing:
    print("  undocumented:", e.get("referencePath", "").split("/documentation/")[-1])
sys.exit(1 if missing else 0)
PY
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "Documentation problems in: ${failed[*]}" >&2
  exit 1
fi
