#!/usr/bin/env bash
# Prints the commands of the README's Quick start: the lines of the first fenced code block after
# the "## Quick start" heading, one per line. .ci/run uses it to run exactly what the README says.
set -euo pipefail
cd "$(dirname "$0")/.."
awk '
  /^## Quick start/ { inside = 1; next }
  inside && /^## / { exit }
  inside && /^```/ { if (block) exit; block = 1; next }
  inside && block && NF { print }
' README.md
