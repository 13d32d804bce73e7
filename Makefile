# The README's two commands: `make demo` and `make test`. Each does all set-up on a fresh Debian 12
# machine as root (packages below, idempotent), configures, builds and runs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Debian 12 packages the build, the tests and the demo need. Nothing is downloaded from elsewhere.
DEB_PACKAGES := cmake ninja-build g++ pkg-config make git ca-certificates openssl python3 \
  libboost1.81-all-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libtomlplusplus-dev \
  libssl-dev libsqlite3-dev sqlite3 libgtest-dev libgmock-dev googletest procps chromium
# Node.js and npm for the JavaScript e2e tests (tests/js): Debian's nodejs + npm, unless the machine already has
# `node` and `npm` commands (e.g. a NodeSource nodejs, which bundles npm and conflicts with Debian's npm package).
NODE_PACKAGES := $(if $(shell command -v node),,nodejs) $(if $(shell command -v npm),,npm)
# npm packages of tests/js and of the Zapier app in zapier/ (exact versions in each package-lock.json, from
# registry.npmjs.org); npm writes node_modules/.package-lock.json on every install, so it is older than the
# lock when the lock changed.
JS_DEPS := tests/js/node_modules/.package-lock.json zapier/node_modules/.package-lock.json

BUILD_DEV := build/dev
BIN := $(BUILD_DEV)/src/kazoo-bridge

.PHONY: help bootstrap configure build test test-asan ci demo bench clean js-deps

help:
	@echo "make demo   run the daemon with the bundled Kazoo simulator and watch calls flow"
	@echo "make test   build and run every test"
	@echo "make bench  run the benchmarks (results in bench/README.md)"

# Installs only what is missing, so a second run does nothing.
bootstrap:
	@missing=$$(for p in $(DEB_PACKAGES) $(NODE_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
	  grep -q "install ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "bootstrap: installing Debian packages:" $$missing; \
	  if [ "$$(id -u)" != 0 ]; then echo "bootstrap: run as root (or install: $$missing)"; exit 1; fi; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -q && apt-get install -y -q --no-install-recommends $$missing; \
	fi

configure: bootstrap
	@cmake --preset dev >/dev/null

build: configure
	cmake --build --preset dev

test: build js-deps
	ctest --preset dev

test-asan: bootstrap js-deps
	cmake --preset asan-ubsan >/dev/null
	cmake --build --preset asan-ubsan
	ctest --preset asan-ubsan

js-deps: bootstrap $(JS_DEPS)

tests/js/node_modules/.package-lock.json: tests/js/package-lock.json tests/js/package.json
	npm ci --prefix tests/js --no-audit --no-fund
	@touch $@

zapier/node_modules/.package-lock.json: zapier/package-lock.json zapier/package.json
	npm ci --prefix zapier --no-audit --no-fund
	@touch $@

ci: test test-asan

demo: build
	$(BIN) demo

bench: bootstrap
	cmake --preset release >/dev/null
	cmake --build --preset release
	bench/run.sh build/release

clean:
	rm -rf build
