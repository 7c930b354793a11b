# Two commands on a fresh machine: `make demo` and `make test`. Both set up the
# virtualenv first; nothing else needs installing by hand.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEMO   ?= demo

.PHONY: install demo test bench notebooks clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/churn generate --out $(DEMO)/data --accounts 2000 --months 12 --seed 7
	$(BIN)/churn features --data $(DEMO)/data --out $(DEMO)/features.parquet
	@echo "Demo data: $(DEMO)/data   features: $(DEMO)/features.parquet"

test: install
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python bench/bench_features.py

clean:
	rm -rf $(VENV) $(DEMO) mlflow.db mlartifacts
