# The commands a newcomer types: `make demo` and `make test`. Everything else is here for them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Prefect stays inside the project (no ~/.prefect). tintype sets its other Prefect defaults itself
# (no analytics, a patient temporary server: flows/prefect_defaults.py), with or without make.
export PREFECT_HOME := $(CURDIR)/.prefect
export PYTHONUNBUFFERED := 1

.PHONY: setup demo serve browser azurite test bench clean

setup: $(STAMP)

# Re-installs only when the declared dependencies or the pins change; otherwise a no-op.
$(STAMP): pyproject.toml constraints.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test]'
	touch $(STAMP)

demo: setup
	$(BIN)/tintype demo --out demo-out

# Prefect server + UI on 127.0.0.1:4200, every deployment in prefect.yaml, a worker; Ctrl-C stops all.
serve: setup
	PREFECT_UI_ENABLED=true $(BIN)/tintype serve --port 4200

# Browser tests drive Debian's Chromium; installed here when missing and we may (root), else they skip.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) ; } || \
		echo "chromium is not installed: the browser tests will skip"

# The az:// tests talk to azurite (Azure's storage emulator, an npm package; ~22 s and 360 MB into the
# ignored .azurite/ on a fresh machine); installed here when npm is, else they skip.
AZURITE_VERSION := 3.37.0
azurite:
	@test -x .azurite/node_modules/.bin/azurite-blob || { command -v npm >/dev/null 2>&1 && \
		npm install --prefix .azurite --no-audit --no-fund --loglevel=error azurite@$(AZURITE_VERSION) >/dev/null ; } || \
		echo "azurite is not installed: the azure tests will skip"

test: setup browser azurite
	$(BIN)/python -m pytest -q

bench: setup
	mkdir -p bench-out
	$(BIN)/python benchmarks/shards.py --out bench-out/shards.json
	$(BIN)/python benchmarks/scrape.py --count 5000 --threads 16 --out bench-out/scrape.json
	$(BIN)/python benchmarks/train.py --out bench-out/train.json
	$(BIN)/python benchmarks/dedup.py --out bench-out/dedup.json
	$(BIN)/python benchmarks/colour_filter_calibration.py --out bench-out/colour_filter.json
	$(BIN)/python benchmarks/colorize.py --model default --out bench-out/colorize-default.json
	$(BIN)/python benchmarks/colorize.py --model fast --out bench-out/colorize-fast.json
	$(BIN)/python benchmarks/large_scans.py --out bench-out/large-scans.json
	$(BIN)/python benchmarks/studio.py --out bench-out/studio.json
	$(BIN)/python benchmarks/cli_startup.py --out bench-out/cli-startup.json

clean:
	rm -rf $(VENV) .prefect demo-out bench-out
