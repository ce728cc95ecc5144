# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app voting_app
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test install translations db demo serve bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

.stamp-install: requirements.txt requirements-dev.txt | $(BIN)/activate
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: .stamp-install

translations: install
	$(BIN)/pybabel compile --use-fuzzy -d translations -f

db: install
	$(FLASK) db upgrade

demo: db translations
	$(FLASK) seed-demo

# The address to print: a server bound to every interface (HOST=0.0.0.0) is reached locally on 127.0.0.1.
SHOWN_HOST = $(if $(filter 0.0.0.0,$(HOST)),127.0.0.1,$(HOST))

run: demo
	@echo
	@$(FLASK) demo-logins --server http://$(SHOWN_HOST):$(PORT)
	@echo
	@echo "Serving on http://$(SHOWN_HOST):$(PORT)  (Ctrl+C to stop; another address: make run HOST=0.0.0.0 PORT=8080)"
	$(FLASK) run --host $(HOST) --port $(PORT)

serve: db translations
	BIND=$(HOST):$(PORT) $(BIN)/gunicorn --config gunicorn.conf.py

# Speed and fault figures as ratios to a bare Flask baseline measured in the same run
# (not part of `make test`); writes bench/out/latest.json.
bench: db translations
	$(BIN)/python -m bench.run $(BENCH_ARGS)

# SQLite always; PostgreSQL as well when TEST_DATABASE_URL names one (CI sets it). The tests
# run in two processes (pytest-xdist), one per core here: more would crowd the tests that
# start servers of their own; on PostgreSQL each gets a database of its own beside the one
# named (tests/conftest.py). TEST_PROCESSES=0 runs them in this process.
TEST_PROCESSES ?= 2
TEST_ARGS = -n $(TEST_PROCESSES)
test: translations
	env -u TEST_DATABASE_URL $(BIN)/python -m pytest $(TEST_ARGS)
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== again on PostgreSQL: $$TEST_DATABASE_URL"; \
		$(BIN)/python -m pytest $(TEST_ARGS) -m "not browser"; \
	fi

clean:
	rm -rf $(VENV) .stamp-install .pytest_cache test-output
