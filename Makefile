# Developer entry points. `make test` sets up the Python SDK venv (tests/sdk_python.rs) first.
PYTHON ?= python3
VENV   := .venv
REQS   := tests/sdk/requirements.txt
STAMP  := $(VENV)/.requirements.stamp

.PHONY: venv test fmt lint

venv:
	@set -e; \
	if $(VENV)/bin/python -c "import openai, anthropic, pytest" 2>/dev/null && cmp -s $(REQS) $(STAMP); then \
		echo "$(VENV) is up to date"; \
	else \
		[ -x $(VENV)/bin/python ] || $(PYTHON) -m venv $(VENV); \
		$(VENV)/bin/pip install -q -r $(REQS); \
		cp $(REQS) $(STAMP); \
	fi

test: venv
	cargo test --all-targets

fmt:
	cargo fmt --all

lint:
	cargo clippy --all-targets -- -D warnings
