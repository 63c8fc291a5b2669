# starling — the commands that matter: `make demo` and `make test`. See README.md.
SHELL := /bin/bash
FUZZ_SECONDS ?= 10
JOBS ?= $(shell nproc)
CMAKE_COMMON := -G Ninja -DCMAKE_EXPORT_COMPILE_COMMANDS=ON

.PHONY: all deps configure build build-cli build-asan build-fuzz test test-release test-integration test-asan test-fuzz demo bench fuzz format format-check lint clean

all: build

deps:
	@bash scripts/deps.sh

configure: deps
	@cmake -S . -B build $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=Release >/dev/null

# Release binary at build/bin/starling.
build: configure
	@cmake --build build -j $(JOBS)

# The release binary and the benchmarks, without the unit-test binary (which `make test` builds
# and runs under ASan only).
build-cli: configure
	@cmake --build build -j $(JOBS) --target starling bench/all

# One clang build serves both: the tests under ASan+UBSan, and the fuzz targets (every object
# carries libFuzzer's coverage hooks, which are inert in the test binaries).
build-asan: deps
	@cmake -S . -B build-asan $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_COMPILER=clang++ -DSTARLING_SANITIZE=ON -DSTARLING_FUZZ=ON >/dev/null
	@cmake --build build-asan -j $(JOBS)

build-fuzz: build-asan

# Everything CI runs: formatting, the integration tests against the release binary, clang-tidy,
# every test (unit + integration) under ASan+UBSan, then every fuzz target for FUZZ_SECONDS on its
# seed corpus. The unit tests run once, under the sanitizers: compiling them a second time in
# release would add ~6 min on a 2-core CI machine (`make test-release` still runs them there).
# Each step prints its wall time.
TEST_STEPS := format-check test-integration lint test-asan test-fuzz
test:
	@for step in $(TEST_STEPS); do start=$$(date +%s); \
	  $(MAKE) --no-print-directory $$step || exit 1; \
	  echo "make test: $$step took $$(( $$(date +%s) - start )) s"; done
	@echo "make test: all passed"

test-release: build
	ctest --test-dir build --output-on-failure -j $(JOBS)

test-integration: build-cli
	ctest --test-dir build --output-on-failure -j $(JOBS) -L integration

test-asan: build-asan
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --test-dir build-asan --output-on-failure -j $(JOBS) -LE release_only

test-fuzz: build-asan
	@bash scripts/run-fuzzers.sh build-asan $(FUZZ_SECONDS) $(JOBS)

# Longer fuzzing session: make fuzz FUZZ_SECONDS=600
fuzz: build-asan
	@bash scripts/run-fuzzers.sh build-asan $(FUZZ_SECONDS) $(JOBS)

demo: build
	@bash scripts/demo.sh

bench: build
	@bash bench/create_bench.sh
	@bash bench/transfer_bench.sh
	@bash bench/utp_bench.sh
	@/usr/bin/python3 bench/flash_crowd.py --starling build/bin/starling --transport tcp \
	  --out build/bench/flash_crowd
	@/usr/bin/python3 bench/flash_crowd.py --starling build/bin/starling --transport tcp --peers 16 \
	  --size 96m --free-riders 0.125 --leave-when-done --out build/bench/flash_crowd_free_riders

format:
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

format-check: deps
	@bad=$$(git ls-files '*.cpp' '*.hpp' | xargs clang-format --dry-run -Werror 2>&1 | grep -o '^[^:]*\.[ch]pp' | sort -u); \
	  if [ -n "$$bad" ]; then echo "not clang-formatted (run make format):"; echo "$$bad"; exit 1; fi

# clang-tidy's bug-finding checks (.clang-tidy) over the library and the CLI.
lint: build-cli
	@run-clang-tidy -p build -quiet '/(src|apps)/' 2>&1 | sed 's/\x1b\[[0-9;]*m//g' > build/clang-tidy.log; \
	  if grep -qE '(warning|error):' build/clang-tidy.log; then \
	    grep -E '(warning|error):' build/clang-tidy.log | sort -u; exit 1; fi; echo "lint: clean"

clean:
	rm -rf build build-asan build-fuzz
