#!/usr/bin/env bash
# The main job on the bundled seeds: ingest, normalise, tokenise, then the corpus
# summary and the top terms.  Run through `make demo`, which installs first.
set -euo pipefail
cd "$(dirname "$0")/.."
policylex() { .venv/bin/policylex "$@"; }
export POLICYLEX_CORPUS="${POLICYLEX_CORPUS:-policylex.db}"

policylex ingest seeds/
policylex normalise
policylex tokenise
policylex info
policylex freq --top 20
echo "corpus: $POLICYLEX_CORPUS (open it with: sqlite3 $POLICYLEX_CORPUS)" >&2
