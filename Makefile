# meta_graph_connector — developer entry points. See README.md.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Odoo's Python: ODOO_PYTHON when given, else the environment that
# tools/odoo_venv.py makes once from the Odoo tree's requirements (.odoo-venv).
ODOO_PY = $(if $(ODOO_PYTHON),$(ODOO_PYTHON),$$($(PYTHON) tools/odoo_venv.py --odoo "$(ODOO)" | tail -n 1))
ADDON := meta_graph_connector

.PHONY: help venv lint test test-odoo bench-intake bench-leads bench-two-servers bench-throttle bench-audiences bench-comments bench-inbox demo clean

help:
	@echo "make test                      lints + core/simulator pytest suite with coverage"
	@echo "make test-odoo ODOO=<odoo>     addon tests on a real Odoo 18.0 or 19.0 [ODOO_PYTHON=... TAGS=...]"
	@echo "make bench-intake ODOO=<odoo>   webhook intake figures against a running Odoo"
	@echo "make bench-leads ODOO=<odoo>    speed-to-lead (webhook -> committed lead) and backfill"
	@echo "make bench-two-servers ODOO=<odoo>   two Odoo servers drain 2,000 leads: lost, duplicated, processed twice"
	@echo "make bench-comments ODOO=<odoo>   Page comment webhook -> on the customer card [N=200 RATE=10]"
	@echo "make bench-inbox ODOO=<odoo>     Messenger webhook -> agent's Discuss, answer -> Send API [N=200 RATE=5 SENDS=40]"
	@echo "make bench-throttle ODOO=<odoo>   a throttled connection waits, the others flow"
	@echo "make bench-audiences ODOO=<odoo>   Custom Audiences: full sync, delta, memory, hashing"
	@echo "                               [PARTNERS=100000 SMALL=10000 KEEP=1]"
	@echo "make demo                      Odoo 18.0 or 19.0 + simulator, a realistic lead every few seconds"
	@echo "                               [ODOO=<odoo> ODOO_PYTHON=... PORT=8069 DB=meta_demo REUSE=1"
	@echo "                               COUNT=N INTERVAL=5 ODOO_GIT_URL=... ODOO_BRANCH=18.0 or 19.0]"

$(BIN)/.installed: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(BIN)/.installed

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pylint --rcfile=.pylintrc-mandatory $(ADDON)

test: lint
	$(BIN)/python -m pytest tests --cov=graph --cov-report=term-missing:skip-covered \
		--cov-fail-under=90

test-odoo:
	@test -n "$(ODOO)" || { echo "usage: make test-odoo ODOO=<Odoo 18.0 or 19.0 source tree> [ODOO_PYTHON=...]"; exit 2; }
	@py=$(ODOO_PY) && $$py tools/run_odoo_tests.py --odoo "$(ODOO)" --python "$$py" \
		$(if $(TAGS),--tags "$(TAGS)")

bench-intake:
	@test -n "$(ODOO)" || { echo "usage: make bench-intake ODOO=<Odoo 18.0 or 19.0 source tree> [ODOO_PYTHON=...]"; exit 2; }
	@py=$(ODOO_PY) && $$py tools/bench_intake.py --odoo "$(ODOO)" --python "$$py"

bench-comments:
	@test -n "$(ODOO)" || { echo "usage: make bench-comments ODOO=<Odoo 18.0 or 19.0 source tree> [ODOO_PYTHON=...] [N=200 RATE=10]"; exit 2; }
	@py=$(ODOO_PY) && $$py tools/bench_comments.py --odoo "$(ODOO)" --python "$$py" \
		--n $(or $(N),200) --rate $(or $(RATE),10)

bench-inbox:
	@test -n "$(ODOO)" || { echo "usage: make bench-inbox ODOO=<Odoo 18.0 or 19.0 source tree> [ODOO_PYTHON=...] [N=200 RATE=5 SENDS=40]"; exit 2; }
	@py=$(ODOO_PY) && $$py tools/bench_inbox.py --odoo "$(ODOO)" --python "$$py" \
		--n $(or $(N),200) --rate $(or $(RATE),5) --sends $(or $(SENDS),40)

bench-leads:
	@test -n "$(ODOO)" || { echo "usage: make bench-leads ODOO=<Odoo 18.0 or 19.0 source tree> [ODOO_PYTHON=...] [N=200 RATE=10]"; exit 2; }
	@py=$(ODOO_PY) && $$py tools/bench_leads.py --odoo "$(ODOO)" --python "$$py" \
		--n $(or $(N),200) --rate $(or $(RATE),10)

bench-two-servers:
	@test -n "$(ODOO)" || { echo "usage: make bench-two-servers ODOO=<Odoo 18.0 or 19.0 source tree> [ODOO_PYTHON=...]"; exit 2; }
	@py=$(ODOO_PY) && $$py tools/bench_two_servers.py --odoo "$(ODOO)" --python "$$py"

bench-throttle:
	@test -n "$(ODOO)" || { echo "usage: make bench-throttle ODOO=<Odoo 18.0 or 19.0 source tree> [ODOO_PYTHON=...]"; exit 2; }
	@py=$(ODOO_PY) && $$py tools/bench_throttle.py --odoo "$(ODOO)" --python "$$py"

bench-audiences:
	@test -n "$(ODOO)" || { echo "usage: make bench-audiences ODOO=<Odoo 18.0 or 19.0 source tree> [ODOO_PYTHON=...] [PARTNERS=100000 SMALL=10000 KEEP=1]"; exit 2; }
	@py=$(ODOO_PY) && $$py tools/bench_audiences.py --odoo "$(ODOO)" --python "$$py" \
		--partners $(or $(PARTNERS),100000) --small $(or $(SMALL),10000) $(if $(KEEP),--keep)

# Without ODOO, the demo clones Odoo 18.0 into .odoo-src/ (ODOO_GIT_URL and
# ODOO_BRANCH, read by tools/demo.py from the environment make gives it, pick
# another source: ODOO_BRANCH=19.0 takes Odoo 19.0); without a
# PostgreSQL answering at PG*, it starts a private one in .demo-pg/. exec: the
# SIGTERM make forwards reaches the demo, which stops Odoo and PostgreSQL.
demo:
	@exec $(PYTHON) tools/demo.py $(if $(ODOO),--odoo "$(ODOO)") \
		$(if $(ODOO_PYTHON),--python "$(ODOO_PYTHON)") \
		--port $(or $(PORT),8069) --database "$(or $(DB),meta_demo)" \
		$(if $(REUSE),--reuse) $(if $(COUNT),--count $(COUNT)) \
		$(if $(INTERVAL),--interval $(INTERVAL))

clean:
	rm -rf $(VENV) .pytest_cache .coverage odoo-tests.log
