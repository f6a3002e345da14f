# The portal's two commands: `make run` and `make test`. Both set up everything they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export WEB_PORT ?= 8000
export SANDBOX_PORT ?= 8001

.PHONY: run test bench install install-dev chromium

## make run: install, migrate, print the first admin login, start web + worker + beat.
run: install .env
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput -v 0
	$(BIN)/python manage.py bootstrap
	@echo "Portal: http://127.0.0.1:$(WEB_PORT)/   (Ctrl-C stops every process)"
	$(BIN)/honcho start -f Procfile

## make test: install the test tools (and Debian's chromium) and run the whole suite.
test: install-dev chromium
	DJANGO_SETTINGS_MODULE=portal.test_settings $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## make bench: the benchmarks in bench/, each printing a table (takes minutes).
bench: install
	$(BIN)/python -m bench.salesforce_connector
	$(BIN)/python -m bench.sync_engine
	$(BIN)/python -m bench.lemontaps_push
	$(BIN)/python -m bench.matcher --sizes 2000 100000
	$(BIN)/python -m bench.matching_pass
	$(BIN)/python -m bench.queue_pages
	$(BIN)/python -m bench.zoho_campaigns --records 10000
	$(BIN)/python -m bench.latency --changes 50

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

.env: .env.example | $(BIN)/python
	$(BIN)/python -m portal.envfile .env

chromium:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q chromium; }
