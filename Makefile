# sigma.deploy — the two commands of the quick start are `make demo` and `make test`.
# Each installs what it needs (Debian packages as root, a pinned .venv, the test-host image)
# and reuses it on the next run. `make help` lists every target.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
# VENV may come from the environment: make test's check of the demo's path runs a copy of the
# checkout with the venv of the run (the release, the point of that check, is built anew).
VENV ?= $(ROOT)/.venv
BIN := $(VENV)/bin
COLLECTIONS := $(ROOT)/.build/collections
PYTHON ?= python3
HOSTCTL := $(PYTHON) $(ROOT)/tests/hosts/hostctl.py

export PATH := $(BIN):$(PATH)
export CONTAINERS_CONF := $(ROOT)/tests/hosts/containers.conf
export ANSIBLE_CONFIG := $(ROOT)/ansible.cfg
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export SIGMA_NETWORK ?= sigma-deploy

.PHONY: help demo demo-clean demo-path test lint sanity unit app release molecule integration integration-stack integration-other integration-fly integration-aws build image cloudsim bench \
	system-demo system-test venv venv-test collection-link hosts-clean clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# --- installing what is needed ---------------------------------------------------------
system-demo:
	@$(ROOT)/tools/bootstrap.sh system demo

system-test:
	@$(ROOT)/tools/bootstrap.sh system test

venv: system-demo ## the controller virtualenv (.venv, requirements.txt)
	@$(ROOT)/tools/bootstrap.sh venv requirements.txt

venv-test: system-test ## the test virtualenv (.venv, requirements-test.txt)
	@$(ROOT)/tools/bootstrap.sh venv requirements-test.txt

image: system-demo ## the Debian 12 systemd test-host image (built once per recipe)
	@bash $(ROOT)/tests/hosts/build-image.sh

collection-link: ## make this checkout resolvable as sigma.deploy
	@mkdir -p $(COLLECTIONS)/ansible_collections/sigma
	@ln -sfn ../../../.. $(COLLECTIONS)/ansible_collections/sigma/deploy

# --- the demo ---------------------------------------------------------------------------
PROVIDER ?= hetzner
DEMO := $(ROOT)/.build/demo
CLOUDSIM_ENV = eval "$$($(ROOT)/tools/cloudsim.sh env)"

RUNG ?= vps
FLY_DEMO := -i inventories/local/demo.fly.yml
demo: venv image collection-link ## provision 3 servers at the simulated provider (PROVIDER=hetzner|digitalocean), install the stack, deploy release 2 under load; RUNG=fly: the same app on the local Fly.io
ifeq ($(RUNG),fly)
	@$(ROOT)/tools/cloudsim.sh start
	@cd $(ROOT) && $(CLOUDSIM_ENV) && echo "demo: building the app's images and pushing them to the local registry" \
		&& $(PYTHON) tools/app_image.py --registry $$SIGMA_REGISTRY >.build/fly-images.json
	@cd $(ROOT) && $(CLOUDSIM_ENV) && ansible-playbook $(FLY_DEMO) playbooks/demo_fly.yml \
		-e fly_image_v1=$$($(PYTHON) -c 'import json; print(json.load(open(".build/fly-images.json"))["image"])') \
		-e fly_postgres_image=$$($(PYTHON) -c 'import json; print(json.load(open(".build/fly-images.json"))["postgres_image"])')
	@cd $(ROOT) && $(CLOUDSIM_ENV) && $(PYTHON) tools/demo_fly.py \
		--image $$($(PYTHON) -c 'import json; print(json.load(open(".build/fly-images.json"))["image"])')
	@echo; cat $(ROOT)/.build/demo-fly-summary.txt
else
	@$(ROOT)/tools/cloudsim.sh start
	@mkdir -p $(DEMO) && chmod 700 $(DEMO)
	@test -f $(DEMO)/id_ed25519 || ssh-keygen -q -t ed25519 -N '' -C sigma-demo -f $(DEMO)/id_ed25519
	@cd $(ROOT) && $(CLOUDSIM_ENV) && ansible-playbook playbooks/provision.yml \
		-e provider=$(PROVIDER) -e @playbooks/vars/demo-servers-$(PROVIDER).yml \
		-e sigma_ssh_public_key_file=$(DEMO)/id_ed25519.pub -e sigma_known_hosts_file=$(DEMO)/known_hosts
	@cd $(ROOT) && $(CLOUDSIM_ENV) && ansible-playbook playbooks/demo.yml
	@cd $(ROOT) && $(CLOUDSIM_ENV) && $(PYTHON) tools/demo_deploy.py
	@echo; cat $(ROOT)/.build/demo-summary.txt
endif

demo-clean: ## remove the demo servers and stop the simulator
	@if [ -f $(ROOT)/.build/cloudsim/pid ] && [ -d $(ROOT)/.build/fly-state ]; then cd $(ROOT) && $(CLOUDSIM_ENV) && \
		{ out=$$(ansible-playbook $(FLY_DEMO) playbooks/fly_app.yml -e state=absent 2>&1) \
			|| { echo "$$out" | tail -n 40; echo "demo-clean: removing the Fly apps failed (above);" \
				"the simulator runs: run make demo-clean again" >&2; exit 1; }; }; fi
	@if [ -f $(ROOT)/.build/cloudsim/pid ]; then cd $(ROOT) && $(CLOUDSIM_ENV) && \
		for p in hetzner digitalocean; do \
			test -f playbooks/tasks/destroy_$$p.yml || continue; \
			out=$$(ansible-playbook playbooks/destroy.yml -e provider=$$p -e sigma_project=demo 2>&1) \
				|| { echo "$$out" | tail -n 40; echo "demo-clean: destroy.yml failed at $$p (above);" \
					"the servers are left and the simulator runs: run make demo-clean again" >&2; exit 1; }; \
		done; fi
	@$(ROOT)/tools/cloudsim.sh stop
	@$(HOSTCTL) down --group demo >/dev/null

# --- the tests --------------------------------------------------------------------------
# make test builds the test-host image itself, in a podman storage of its own (tools/test-all.sh).
test: venv-test collection-link ## every check, from a fresh podman storage: lint, sanity, unit, app, molecule, integration, the demo's path
	@$(ROOT)/tools/test-all.sh

demo-path: venv image ## make demo as a new user meets it: a copy of this checkout with no .build, then demo-clean
	@$(ROOT)/tools/demo-path.sh

lint: venv-test collection-link ## ruff, shellcheck, ansible-lint (production profile), changelog lint
	@cd $(ROOT) && ruff check . && ruff format --check .
	@cd $(ROOT) && shellcheck tools/*.sh tests/hosts/*.sh examples/app/*/test.sh .ci/run
	@cd $(ROOT) && ansible-lint --profile production --offline
	@cd $(ROOT) && antsibull-changelog lint

sanity: venv-test ## ansible-test sanity on a copy of the collection in .build/sanity
	@$(ROOT)/tools/sanity.sh

unit: venv-test ## pytest unit tests (no hosts needed)
	@cd $(ROOT) && pytest tests/unit

release: venv collection-link ## build the reference app's release artifacts into .build/artifacts (once per source)
	@cd $(ROOT) && ansible-playbook -i localhost, playbooks/build.yml -e sigma_artifacts_dir=$(ROOT)/.build/artifacts

app: system-test ## the reference app's own tests: API (pytest, PostgreSQL) and web (build, render check)
	@cd $(ROOT) && bash examples/app/api/test.sh
	@cd $(ROOT) && bash examples/app/web/test.sh

# The scenarios run with the mitogen strategy (the optional accelerator of the README), about a
# third faster; SIGMA_MITOGEN=0 runs them with Ansible's own. test_site.py runs without it.
MITOGEN_ENV = $$(cd $(ROOT) && $(BIN)/python -c 'from tests.integration.support import mitogen_env; \
	print(" ".join(f"{k}={v}" for k, v in mitogen_env().items()))')

# One scenario after the other, each to its end; a line a scenario says how long it took.
MOLECULE_SCENARIOS := $(filter-out shared,$(notdir $(wildcard $(ROOT)/extensions/molecule/*)))
molecule: venv-test image collection-link ## the role scenarios (podman driver; SCENARIO=name for one)
	@$(HOSTCTL) network
	@cd $(ROOT) && export SIGMA_TEST_IMAGE=$$(bash tests/hosts/build-image.sh --print-tag) $(MITOGEN_ENV) \
		&& status=0 && for scenario in $(or $(SCENARIO),$(MOLECULE_SCENARIOS)); do \
			start=$$(date +%s); result=passed; \
			molecule test -s $$scenario || { result=FAILED; status=1; }; \
			echo "molecule scenario $$scenario: $$result in $$(( $$(date +%s) - start )) s"; \
		done && exit $$status

# The slowest tests are listed at the end of each run: where the time of a CI run goes.
DURATIONS := --durations=10 --durations-min=20

integration: venv-test image collection-link ## playbooks against local hosts over SSH
	@cd $(ROOT) && pytest $(DURATIONS) tests/integration

# make test runs the integration tests as two jobs side by side: the application stack
# (site.yml, then deploys, on four hosts) and everything else.
STACK_TESTS := tests/integration/test_site.py tests/integration/test_site_deploy.py
integration-stack: venv-test image collection-link
	@cd $(ROOT) && pytest $(DURATIONS) $(STACK_TESTS)

FLY_TESTS := $(wildcard tests/integration/test_fly_*.py)
AWS_TESTS := $(wildcard tests/integration/test_aws_*.py) tests/integration/test_pg_move.py
integration-other: venv-test image collection-link
	@cd $(ROOT) && pytest $(DURATIONS) tests/integration $(addprefix --ignore=,$(STACK_TESTS) $(FLY_TESTS) $(AWS_TESTS))

# The Fly.io rung: machines as containers of the app's image from the local registry.
integration-fly: venv-test image collection-link ## the Fly.io rung's tests (local Fly: real machines, proxy, registry)
	@cd $(ROOT) && pytest $(DURATIONS) $(FLY_TESTS)

# The AWS rung: ECS tasks, the ALB's traffic and RDS's PostgreSQL real (local AWS), the data
# move between two PostgreSQL servers, and the rung's provisioning playbook (many amazon.aws
# module runs: here, late in make test, not in the unit tests, whose CPU the host checks share).
integration-aws: venv-test image collection-link ## the AWS rung's tests (local AWS: real tasks, ALB stand-in, RDS, data move)
	@cd $(ROOT) && pytest $(DURATIONS) $(AWS_TESTS)

build: venv ## build the collection tarball into dist/
	@cd $(ROOT) && ansible-galaxy collection build --force --output-path dist .

# --- benchmarks -------------------------------------------------------------------------
bench: venv-test image collection-link release ## performance measurements (inventory, provisioning, deploys on local hosts), printed as a table
	@cd $(ROOT) && python tools/bench.py

# --- the local cloud --------------------------------------------------------------------
cloudsim: venv-test ## serve the Hetzner and DigitalOcean API simulators in the foreground
	@cd $(ROOT) && python -m tests.cloudsim

# --- cleaning up ------------------------------------------------------------------------
hosts-clean: ## remove every test host of this project (also stale ones)
	@$(HOSTCTL) down --all

clean: ## remove build output (keeps .venv and the image)
	rm -rf $(ROOT)/.build $(ROOT)/dist
