# `make test` and `make demo` work on a fresh machine with only python3 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test lint typecheck unit demo demo-check bench clean system-deps venv-deps demo-deps

# Debian's python3 has no venv module without python3-venv.
venv-deps:
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || .ci/apt-install python3-venv

# System packages the tests need: Chromium for tests/test_browser.py (CHROMIUM=/path/to/chrome
# overrides), redis-server for the revocation tests (they start it themselves on 127.0.0.1).
# Instant when already installed.
system-deps:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
		|| [ -n "$${CHROMIUM:-}" ] || .ci/apt-install chromium
	@command -v redis-server >/dev/null 2>&1 || .ci/apt-install redis-server

# The demo page's browser client (graphql-ws, pinned with its integrity hash in
# examples/demo/package-lock.json), from the npm registry into a gitignored node_modules: the
# page works offline, and no third-party code is committed.
DEMO_JS := examples/demo/node_modules/graphql-ws/umd/graphql-ws.min.js

$(DEMO_JS): examples/demo/package.json examples/demo/package-lock.json
	@command -v npm >/dev/null 2>&1 || .ci/apt-install npm
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix examples/demo --omit=peer --ignore-scripts --no-audit --no-fund \
			--loglevel=error && test -f $@ && touch $@; \
	else echo "make: no npm: the demo page's graphql-ws client is not installed" >&2; fi

demo-deps: $(DEMO_JS)

$(STAMP): pyproject.toml | venv-deps
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check asgi_hasura_jwt tests examples benchmarks
	$(BIN)/ruff format --check asgi_hasura_jwt tests examples benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP) system-deps $(DEMO_JS)
	$(BIN)/pytest --cov --cov-report=term

test: lint typecheck unit

# The local Clerk-style issuer and a GraphQL app behind the middleware; prints what to try.
# The demo is an example, not part of the package: python -m finds it in this directory.
demo: $(STAMP) $(DEMO_JS)
	$(BIN)/python -m examples.demo

# The demo as a self-check: mint, query, subscribe, closed at expiry (3 s tokens); exit 0 or 1.
demo-check: $(STAMP)
	$(BIN)/python -m examples.demo --check --lifetime 3

# Benchmarks (issue 6; not part of `make test`): ratios measured side by side, each figure next
# to its target; writes benchmarks/results/summary.{json,md}. wrk is the HTTP load generator
# (Debian's; installed here when possible, else a slower httpx client stands in); valgrind counts
# the in-process figures' instructions (bench_instructions.py).
bench: $(STAMP)
	@command -v wrk >/dev/null 2>&1 || .ci/apt-install wrk
	@command -v valgrind >/dev/null 2>&1 || .ci/apt-install valgrind
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage examples/demo/node_modules
