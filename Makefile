# Front door. `make up` brings the environments up on this machine; `make test`
# runs every test (the same command .ci/run calls).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.setup-stamp
export PATH := $(CURDIR)/$(BIN):$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
ENV ?= dev
# `make up` picks the offline image source when no registry answers.
DEV_IMAGE_SOURCE ?= $(shell scripts/detect_image_source.sh)

.PHONY: help setup up up-dev up-staging up-prod dr-drill down emulator emulator-stop test lint sanity unit molecule e2e images bench bench-dev bench-staging bench-prod clean

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

setup: $(STAMP) ## create .venv with the pinned tools and collections (no-op when done)

$(STAMP): pyproject.toml constraints.txt requirements.yml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python scripts/pyproject_deps.py pyproject.toml > $(VENV)/requirements.txt
	$(BIN)/pip install --quiet --disable-pip-version-check -r $(VENV)/requirements.txt -c constraints.txt
	$(BIN)/python scripts/check_collections.py requirements.yml
	touch $@

up: up-dev up-staging up-prod ## the main job: dev on Docker, staging and prod on the local AWS emulator

up-dev: setup ## converge the dev environment on this machine's Docker engine
	@echo "dev image source: $(DEV_IMAGE_SOURCE)"
	$(BIN)/ansible-playbook -i inventories/dev playbooks/site.yml -e dev_image_source=$(DEV_IMAGE_SOURCE)

up-staging: setup emulator ## converge staging into the local emulator (left running)
	eval "$$(scripts/emulator.sh env)" && $(BIN)/ansible-playbook -i inventories/staging playbooks/site.yml
	@echo "The emulator keeps running: eval \"\$$(scripts/emulator.sh env)\" then e.g. aws --endpoint-url \$$AWS_ENDPOINT_URL ecs list-services --cluster reelle-staging"

up-prod: setup emulator ## converge prod (us-east-1 + eu-west-1) into the local emulator (left running)
	eval "$$(scripts/emulator.sh env)" && $(BIN)/ansible-playbook -i inventories/prod playbooks/site.yml

dr-drill: setup emulator ## prod's disaster-recovery drill in the local emulator: failover, failback, RTO/RPO
	eval "$$(scripts/emulator.sh env)" && $(BIN)/ansible-playbook -i inventories/prod playbooks/dr_drill.yml -e dr_confirm=prod

down: setup ## tear dev down (data volumes kept) and stop the emulator
	$(BIN)/ansible-playbook -i inventories/dev playbooks/teardown.yml
	scripts/emulator.sh stop

emulator: setup ## start the local AWS emulator (moto server) unless running
	scripts/emulator.sh start

emulator-stop: ## stop the local AWS emulator (its state is lost)
	scripts/emulator.sh stop

images: setup ## build the offline images (Debian packages, no registry)
	$(BIN)/ansible-playbook -i inventories/dev playbooks/images.yml -e dev_image_source=offline

test: setup lint sanity unit molecule e2e ## run every test: lint, sanity, unit, molecule, end to end

lint: setup ## ansible-lint (production profile), yamllint, ruff
	$(BIN)/yamllint --strict .
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/ansible-lint

# The unit tests wait mostly on the emulator (one moto process per pytest worker):
# two workers, each test file on one of them.
UNIT_WORKERS ?= 2
sanity: setup ## ansible-test sanity of the collection reelle.infra (validate-modules, pep8, import, docs, ...)
	scripts/sanity.sh

unit: setup ## pytest unit tests (modules, filters)
	$(BIN)/pytest -n $(UNIT_WORKERS) --dist loadfile tests/unit

molecule: setup images ## one molecule scenario per role (converge, idempotence, verify)
	scripts/molecule_all.sh

# End-to-end files own distinct names (dev on Docker; each AWS file its own emulator)
# and wait mostly on ansible-playbook and the emulator: two workers, files kept whole.
E2E_WORKERS ?= 2
e2e: setup images ## end-to-end tests against the real engine (and emulator)
	$(BIN)/pytest -n $(E2E_WORKERS) --dist loadfile tests/e2e

bench: bench-dev bench-staging bench-prod ## benchmarks (see README: Benchmarks)

bench-dev: setup images ## dev: Ansible vs docker-compose, same run
	bench/dev_vs_compose.sh

bench-staging: setup ## staging: Ansible vs the Terraform peer on the same emulator, same run
	bench/aws_vs_terraform.sh staging

bench-prod: setup ## prod: Ansible vs the Terraform peer on the same emulator, same run
	bench/aws_vs_terraform.sh prod

clean: ## remove .venv and caches
	rm -rf $(VENV) .pytest_cache .ruff_cache

# Plan, drift, validation (scripts/plan.sh). staging/prod target AWS unless
# AWS_ENDPOINT_URL is set; EMULATOR=1 uses the local emulator (make emulator).
.PHONY: plan drift validate
plan: setup ## what a converge of ENV=dev|staging|prod would change (check mode; nothing is changed)
	scripts/plan.sh plan $(ENV)

drift: setup ## resources of ENV whose live state differs from the inventory; exit 2 on drift
	scripts/plan.sh drift $(ENV)

validate: setup ## validate ENV's inventory alone (all problems, with their files; nothing is touched)
	scripts/plan.sh validate $(ENV)

# AWX as code (awx/) and its execution environment (execution-environment.yml).
.PHONY: awx-config ee-context collection
collection: setup ## build the collection reelle.infra (this repository) into build/collection
	$(BIN)/ansible-galaxy collection build --force --output-path build/collection

awx-config: setup ## create/update the AWX objects of awx/vars/controller.yml (CONTROLLER_HOST etc. set; AWX_ARGS for -e)
	$(BIN)/ansible-playbook awx/configure.yml $(AWX_ARGS)

ee-context: setup collection ## the execution environment's build context in .cache/ee (ansible-builder create; no image build)
	$(BIN)/ansible-builder create --file execution-environment.yml --context .cache/ee --output-filename Containerfile

# Teardown and parity (playbooks/teardown.yml, playbooks/parity.yml). staging/prod
# target AWS unless AWS_ENDPOINT_URL is set; EMULATOR=1 uses the local emulator.
.PHONY: teardown parity
teardown: setup ## tear ENV down; staging/prod need CONFIRM=<env> (DELETE_BUCKET_OBJECTS=true empties buckets; CHECK=1 only shows)
	$(if $(filter 1,$(EMULATOR)),eval "$$(scripts/emulator.sh env)" && )$(BIN)/ansible-playbook -i inventories/$(ENV) playbooks/teardown.yml \
		-e teardown_confirm=$(CONFIRM) -e teardown_delete_bucket_objects=$(or $(DELETE_BUCKET_OBJECTS),false) \
		$(if $(filter 1,$(CHECK)),--check --diff)

parity: setup ## the seed's parity checklist from the inventories, checked against what is up; fails on a break
	$(if $(filter 1,$(EMULATOR)),eval "$$(scripts/emulator.sh env)" && )$(BIN)/ansible-playbook -i localhost, playbooks/parity.yml
