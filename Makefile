# altermag — two commands on a fresh machine:
#   make run    install (first time) and run the main job on the embedded default data
#   make test   install (first time) and run the whole test suite, slow real runs included;
#               CI=true: a test whose tool (pw.x, PostgreSQL, Chromium...) is missing fails
#   make serve  the REST API (http://127.0.0.1:8000/docs) over the store that make run filled
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.altermag-installed
export PYTHONHASHSEED := 0

.PHONY: install run test test-fast lint bench serve clean

$(STAMP): pyproject.toml scripts/bootstrap.sh scripts/apt-packages.txt scripts/extras.txt
	VENV=$(VENV) bash scripts/bootstrap.sh
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/altermag run

test: $(STAMP)
	bash scripts/ensure-postgres.sh
	CI=true $(PY) -m pytest -q

test-fast: $(STAMP)
	$(PY) -m pytest -q -x -m "not slow and not dft and not prefect and not browser and not slurm"

lint: $(STAMP)
	$(VENV)/bin/ruff check altermag flows api tests benchmarks scripts
	$(VENV)/bin/ruff format --check altermag flows api tests benchmarks scripts
	$(VENV)/bin/mypy  # the library, configured in pyproject.toml [tool.mypy]

serve: $(STAMP)
	$(VENV)/bin/altermag api --host $${HOST:-127.0.0.1} --port $${PORT:-8000}

bench: $(STAMP)
	$(PY) benchmarks/bench_symmetry.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
