# Two commands on a fresh machine: `make demo` and `make test`. Both set up the
# virtualenv first; nothing else needs installing by hand.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEMO   ?= demo
DEMO_PORT ?= 8000

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
	$(BIN)/churn train --features $(DEMO)/features.parquet --truth $(DEMO)/data/truth.parquet --seed 7
	$(BIN)/churn promote
	@echo "Experiments and models: $(BIN)/mlflow ui --backend-store-uri sqlite:///mlflow.db  -> http://127.0.0.1:5000"
	@if [ -f $(DEMO)/serve.pid ]; then kill $$(cat $(DEMO)/serve.pid) 2>/dev/null || true; fi
	$(BIN)/churn serve --features $(DEMO)/features.parquet --port $(DEMO_PORT) > $(DEMO)/serve.log 2>&1 & echo $$! > $(DEMO)/serve.pid
	$(BIN)/python -m serving.demo_request --url http://127.0.0.1:$(DEMO_PORT) --features $(DEMO)/features.parquet --pid-file $(DEMO)/serve.pid \
		|| { kill $$(cat $(DEMO)/serve.pid); echo "the API did not start; see $(DEMO)/serve.log"; exit 1; }

test: install
	$(BIN)/python -m pytest -q

notebooks: install
	test -f $(DEMO)/features.parquet || $(MAKE) demo
	CHURN_DATA=$(DEMO)/data CHURN_FEATURES=$(DEMO)/features.parquet \
		$(BIN)/python notebooks/run.py --html notebooks/html notebooks/01_churn_signals.ipynb notebooks/02_experiment_review.ipynb

bench: install
	$(BIN)/python bench/bench_features.py
	$(BIN)/python bench/bench_dates.py
	$(BIN)/python bench/bench_training.py
	$(BIN)/python bench/bench_serving.py

clean:
	rm -rf $(VENV) $(DEMO) mlflow.db mlartifacts
