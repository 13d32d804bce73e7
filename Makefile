# The README's two commands: `make demo` and `make test`. Each does all set-up on a fresh Debian 12
# machine as root (packages below, idempotent), configures, builds and runs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Debian 12 packages the build, the tests and the demo need. Nothing is downloaded from elsewhere.
DEB_PACKAGES := cmake ninja-build g++ pkg-config make git ca-certificates openssl python3 \
  libboost1.81-all-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libtomlplusplus-dev \
  libssl-dev libsqlite3-dev sqlite3 libgtest-dev libgmock-dev googletest procps

BUILD_DEV := build/dev
BIN := $(BUILD_DEV)/src/kazoo-bridge

.PHONY: help bootstrap configure build test test-asan ci demo bench clean

help:
	@echo "make demo   run the daemon with the bundled Kazoo simulator and watch calls flow"
	@echo "make test   build and run every test"
	@echo "make bench  run the benchmarks (results in bench/README.md)"

# Installs only what is missing, so a second run does nothing.
bootstrap:
	@missing=$$(for p in $(DEB_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
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

test: build
	ctest --preset dev

test-asan: bootstrap
	cmake --preset asan-ubsan >/dev/null
	cmake --build --preset asan-ubsan
	ctest --preset asan-ubsan

ci: test test-asan

demo: build
	$(BIN) demo

bench: bootstrap
	cmake --preset release >/dev/null
	cmake --build --preset release
	bench/run.sh build/release

clean:
	rm -rf build
