#!/usr/bin/env bash
# The main job on the bundled seeds: ingest (which normalises), tokenise, the corpus
# summary, then the report.  Run through `make demo`, which installs first.
set -euo pipefail
cd "$(dirname "$0")/.."
policylex() { .venv/bin/policylex "$@"; }
export POLICYLEX_CORPUS="${POLICYLEX_CORPUS:-policylex.db}"

policylex ingest seeds/
policylex normalise
policylex tokenise
policylex info
policylex report --out report
echo "corpus: $POLICYLEX_CORPUS (open it with: sqlite3 $POLICYLEX_CORPUS)" >&2
echo "report: open report/report.html in a browser; its tables are the CSV files beside it" >&2
