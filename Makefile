# Two commands for a newcomer: `make run` (the tool + a demo LMS on SQLite) and `make test`.
PORT ?= 8000

.PHONY: run test bench lint install

install:
	./scripts/bootstrap

run: install
	.venv/bin/microcred init
	.venv/bin/microcred demo --port $(PORT)

test:
	./scripts/test

lint: install
	.venv/bin/ruff check lti_microcred tests bench
	.venv/bin/mypy lti_microcred

bench: install
	.venv/bin/python bench/launch_bench.py
