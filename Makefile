# The two commands: `make demo` (set up, then run the main job on seeds/) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-fast setup bench eval clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	@# opencc-python-reimplemented (an earlier dependency) installs the same module as opencc: keep only opencc.
	$(BIN)/pip uninstall --quiet --yes opencc-python-reimplemented opencc 2>/dev/null || true
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	bash examples/seeds.sh

test: $(STAMP)
	$(BIN)/python -m pytest -q

# A quick loop while working: without the benchmark run and the real-process interruption tests.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q --ignore=tests/test_bench.py --ignore=tests/test_interruptions.py

# Text reuse with planted paragraphs, scored (benchmarks/README.md#reuse): REUSE_SIZES=2000 make bench-reuse.
.PHONY: bench-reuse
REUSE_SIZES ?= 2000,10000
bench-reuse: $(STAMP)
	$(BIN)/python benchmarks/reuse.py --sizes $(REUSE_SIZES)

clean:
	rm -rf $(VENV) .bench policylex.db policylex.db-wal policylex.db-shm policylex.db.dtm.npz policylex.db.slogans.npz report

# The performance benchmark (benchmarks/README.md): BENCH_SIZES=1000,10000 make bench for fewer sizes.
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

# Metadata extraction scored against the labelled development set (benchmarks/eval_metadata.py).
eval: $(STAMP)
	$(BIN)/python benchmarks/eval_metadata.py
