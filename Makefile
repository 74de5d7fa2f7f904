# Zhiyuan: `make run` sets up and starts the demo; `make test` sets up and runs every test.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export ZHIYUAN_DATA_DIR ?= $(CURDIR)/var

.PHONY: run test test-sqlite test-postgres lint venv system-deps messages bench clean

$(STAMP): pyproject.toml requirements-dev.lock
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

venv: $(STAMP)

# Debian packages the tests and the demo need: Chromium for the browser journeys, gettext for the
# catalogue check, a CJK font for the monthly report's charts (matplotlib draws boxes without one).
system-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! command -v msgfmt >/dev/null 2>&1 \
	    || [ -z "$$(fc-list :lang=zh 2>/dev/null)" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium gettext fonts-noto-cjk >/dev/null; \
	  else echo "Install chromium, gettext and a CJK font (apt-get install chromium gettext fonts-noto-cjk)"; fi; \
	fi

run: $(STAMP) system-deps
	$(BIN)/zhiyuan migrate --noinput
	$(BIN)/zhiyuan demo --if-empty
	$(BIN)/zhiyuan datalink keygen
	$(BIN)/zhiyuan serve --citysim

test: $(STAMP) system-deps lint test-sqlite test-postgres

lint: $(STAMP)
	$(BIN)/ruff check .

test-sqlite: $(STAMP)
	ZHIYUAN_ENV=test $(BIN)/pytest -n 2

test-postgres: $(STAMP)
	ZHIYUAN_ENV=test $(BIN)/python tools/with_postgres.py -- $(BIN)/pytest -n 2 -m "not browser"

messages: $(STAMP)
	cd src/zhiyuan && ../../$(BIN)/zhiyuan makemessages -l zh_Hans --no-location --no-obsolete && ../../$(BIN)/zhiyuan compilemessages -l zh_Hans

bench: $(STAMP)
	$(BIN)/python bench/import_enterprises.py
	$(BIN)/python bench/datalink_drill.py
	$(BIN)/python bench/datalink_drill.py --postgres
	$(BIN)/python bench/credit.py
	$(BIN)/python bench/cockpit.py

clean:
	rm -rf $(VENV) var
