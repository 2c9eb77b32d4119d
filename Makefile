# The two commands: `make demo` (set up, then run the main job on seeds/) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test setup bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	bash examples/seeds.sh

test: $(STAMP)
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) policylex.db policylex.db-wal policylex.db-shm policylex.db.dtm.npz policylex.db.slogans.npz report
