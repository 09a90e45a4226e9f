# Verbs people use: setup, run, test, lint, dev, sample, bench, sources.
VENV     ?= .venv
PY       := $(VENV)/bin/python
BIN      := $(VENV)/bin
STAMP    := $(VENV)/.installed
MANIFEST := dbt_project/target/manifest.json
SAMPLE   ?= data/sample
SEED     ?= 7
# The built-in sample covers 2026: pin the as-of time so that nothing in it lies in the future.
AS_OF    ?= 2026-12-31T23:59:59+08:00
export SCORECARD_WAREHOUSE ?= $(CURDIR)/warehouse/scorecard.duckdb
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home

.PHONY: setup run docs test test-engines spark-up spark-down lint dev sample bench bench-spark catalogue sources clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(MANIFEST): $(STAMP) $(shell find dbt_project/models dbt_project/macros dbt_project/tests -type f 2>/dev/null) dbt_project/dbt_project.yml
	cd dbt_project && ../$(BIN)/dbt parse --quiet --profiles-dir . --target-path target

setup: $(STAMP) $(MANIFEST)
	@mkdir -p $(DAGSTER_HOME)

$(SAMPLE)/landing: | $(STAMP)
	$(BIN)/scorecard sample --out $(SAMPLE) --seed $(SEED)

sample: $(SAMPLE)/landing

run: setup sample
	$(BIN)/scorecard run --landing $(SAMPLE)/landing --config config/scorecard.yml \
		--warehouse $(SCORECARD_WAREHOUSE) --as-of $(AS_OF)

# The marts' docs (dbt docs generate --static, one page) from the published warehouse, opened read-only:
# <warehouse dir>/reports/dbt_docs/index.html, linked from reports/index.html. A run builds them too.
docs: setup
	$(BIN)/scorecard docs --warehouse $(SCORECARD_WAREHOUSE)

# two workers on the 2-core machine, whole test files per worker (module fixtures stay shared; the
# hand-made run is made once for both: tests/e2e/conftest.py)
test: setup
	$(BIN)/pytest -q -n 2 --dist loadfile --durations=40

# The same dbt project on Spark (local pyspark, Java 17): slow, outside `make test`.
test-engines: setup
	$(PY) -m pip install --quiet -e '.[dev,spark]'
	$(BIN)/pytest -q tests/engines_spark

# A standalone Spark cluster on 127.0.0.1 (master :7077, web UI :8080, one worker; state, pids and logs in
# .spark_cluster/): orchestration/engines/spark_cluster.py. Use it with SCORECARD_SPARK_MASTER=spark://127.0.0.1:7077.
# Other ports or sizes: make spark-up SPARK_CLUSTER_ARGS="--master-port 7078 --ui-port 8090 --worker-memory 4g"
SPARK_CLUSTER_ARGS ?=
spark-up: $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,spark]'
	$(PY) -m orchestration.engines.spark_cluster up $(SPARK_CLUSTER_ARGS)

# stops master, worker and their executors (needs no pyspark: pids and /proc only)
spark-down:
	$(PY) -m orchestration.engines.spark_cluster down $(SPARK_CLUSTER_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check orchestration tools tests

# dbt_project/macros/catalogue.sql and the score columns of dbt_project/models/marts/scorecard.yml from
# orchestration/catalogue.py (committed; tests/unit/test_catalogue.py)
catalogue: $(STAMP)
	$(PY) -m orchestration.catalogue --write

# dbt's sources (dbt_project/models/staging/__sources.yml) and docs/input_contract.md from the input
# contract, after a contract change
sources: $(STAMP)
	$(PY) -m orchestration.contract.dbt_sources --write
	$(PY) -m orchestration.contract.reference --write

dev: setup sample
	SCORECARD_LANDING=$(CURDIR)/$(SAMPLE)/landing SCORECARD_AS_OF=$(AS_OF) DAGSTER_EVENT_BATCH_SIZE=1000 \
		$(BIN)/dagster dev -w workspace.yaml

BENCH_SCALES ?= 10k,100k,1m,10m
# calendar years of generated history per scale (4 quarters each, ending in 2026)
BENCH_YEARS ?= 1
bench: setup
	$(BIN)/scorecard bench --scales $(BENCH_SCALES) --years $(BENCH_YEARS) --work /tmp/bench

# The whole run on a standalone Spark cluster (started and stopped for it) against DuckDB, same samples
SPARK_BENCH_SCALES ?= tiny,default,large
bench-spark: setup
	$(PY) -m pip install --quiet -e '.[dev,spark]'
	$(PY) -m tools.bench_spark --scales $(SPARK_BENCH_SCALES) --work /tmp/bench_spark

clean:
	rm -rf $(VENV) dbt_project/target dbt_project/logs warehouse data .dagster_home
