# kehu — two commands on a fresh Debian/Ubuntu machine with Python 3.11:
#   make report   build the sample city, run the monthly batch, write the HTML reports
#   make test     run the whole test suite
# Both are idempotent and install what they need: OS packages (CJK font, Chromium) via apt-get,
# Python packages into the local virtual environment .venv.

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SIZE   ?= default
SEED   ?= 7
MONTH  ?= 2026-10
JOBS   ?=
SUDO   := $(shell [ "$$(id -u)" = "0" ] || echo sudo)

.DEFAULT_GOAL := help
.PHONY: help report test sample os-deps install bench lab lock clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

report: os-deps install ## build the default sample city and run the month's batch into reports/
	$(BIN)/kehu sample --size $(SIZE) --seed $(SEED) --if-missing
	$(BIN)/kehu run --month $(MONTH) $(if $(JOBS),--jobs $(JOBS),)
	@echo "reports: reports/$(MONTH)/index.html"

test: os-deps install ## run the whole test suite (unit, notebooks, browser)
	$(BIN)/python -m pytest -n 2

sample: install ## (re)build the sample city: make sample SIZE=small|default|city
	$(BIN)/kehu sample --size $(SIZE) --seed $(SEED)

bench: install ## run the benchmarks (store, ingest, batch, page sizes, market sections, forecasts); BENCH_BASE=<git rev> times the batch against it
	@# statsforecast (the outside reference) pins pandas<3: install it, then restore kehu's pandas
	PANDAS=$$($(BIN)/python -c 'import pandas; print(pandas.__version__)'); \
	$(BIN)/pip install -q -e '.[bench]' && $(BIN)/pip install -q "pandas==$$PANDAS"
	$(BIN)/python benchmarks/store_bench.py
	$(BIN)/python benchmarks/ingest_bench.py
	$(BIN)/python benchmarks/batch_bench.py --repeat 3
	$(BIN)/python benchmarks/html_bench.py $(if $(BENCH_BASE),--baseline $(BENCH_BASE) --repeat 3,)
	$(BIN)/python benchmarks/market_sections_bench.py --store data/store
	$(BIN)/python benchmarks/forecast_bench.py

lab: install ## open JupyterLab on notebooks/ with the project's kernel
	$(BIN)/kehu lab

os-deps: ## install the CJK font and headless Chromium (apt-get) if missing
	@if ! fc-list 2>/dev/null | grep -q "Noto Sans CJK" || ! command -v chromium >/dev/null; then \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq fonts-noto-cjk chromium fontconfig >/dev/null && \
		fc-cache -f >/dev/null; \
	fi

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

$(STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]' -c constraints.txt
	$(BIN)/python -m ipykernel install --sys-prefix --name kehu --display-name "kehu (Python 3)" >/dev/null
	touch $(STAMP)

install: $(STAMP) ## create .venv and install kehu with its test dependencies (versions from constraints.txt)

lock: install ## re-pin constraints.txt to the newest versions pyproject.toml allows (then run make test)
	$(BIN)/pip install -q --upgrade --upgrade-strategy eager -e '.[test]'
	{ sed -n '1,2p' constraints.txt; $(BIN)/pip freeze --exclude-editable | grep -v '^kehu=='; } > constraints.new && mv constraints.new constraints.txt

clean: ## remove the virtual environment, caches and reports (not the store)
	rm -rf $(VENV) .cache reports test-artifacts
