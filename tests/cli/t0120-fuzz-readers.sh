#!/usr/bin/env bash
# The readers under libFuzzer for a short while each: the document stream
# reader (BSON, NDJSON, auto-detect with gzip), change events as mongo-replay
# interprets them, and the checkpoint reader.  Each target starts from its
# seeds (tests/fuzz/seeds/<target>/, regression inputs included), so a bug
# that was fixed and comes back fails here at once.  A crash, a leak, a
# sanitizer report or a broken invariant fails the target's test; the input
# is kept in build-fuzz/crashes/.  The run is the same every time: a fixed
# seed and a fixed number of runs (MP_FUZZ_RUNS, 20000), at most
# MP_FUZZ_SECONDS (60) each, so make check never fails at random on a bug a
# lucky run found; bench/run-fuzz runs the long, random campaign.
. "$(dirname "$0")/lib.sh"

FUZZ_CC=${FUZZ_CC:-clang}
FUZZ_B=$TEST_ROOT/build-fuzz
seconds=${MP_FUZZ_SECONDS:-60}
runs=${MP_FUZZ_RUNS:-20000}

command -v "$FUZZ_CC" >/dev/null || skip_all "no $FUZZ_CC (make deps installs clang and libFuzzer)"
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' >probe.c
"$FUZZ_CC" -fsanitize=fuzzer,address,undefined -o probe probe.c 2>/dev/null ||
	skip_all "$FUZZ_CC cannot link libFuzzer (make deps installs libclang-rt-*-dev)"
# The targets carry their own sanitizers and do not use the tools of
# MP_BUILD: tests/run's second pass (the sanitizer build) would repeat the
# first one, so they run once.
case $(basename "$MP_BUILD") in
*asan*) skip_all "the fuzz targets have their own sanitizers: run once, in the first pass" ;;
esac

test_expect_success 'make fuzz builds every target' '
	make --no-print-directory -C "$TEST_ROOT" fuzz FUZZ_CC="$FUZZ_CC" >build.log 2>&1 || { tail -n 30 build.log; false; }
'

for src in "$TEST_ROOT"/tests/fuzz/fuzz_*.c; do
	t=$(basename "$src" .c)
	name=${t#fuzz_}
	test_expect_success "$name: $runs runs of fuzzing from its seeds (seed 1), no crash" '
		mkdir -p corpus-'"$name"' "$FUZZ_B/crashes" &&
		if ! "$FUZZ_B/'"$t"'" -seed=1 -runs='"$runs"' -max_total_time='"$seconds"' -timeout=10 -rss_limit_mb=2048 \
			-print_final_stats=1 -artifact_prefix="$FUZZ_B/crashes/'"$name"'-" \
			corpus-'"$name"' "$TEST_ROOT/tests/fuzz/seeds/'"$name"'" >log 2>&1; then
			grep -E -A 12 "ERROR|runtime error|invariant broken|leak" log | head -n 40
			grep "Test unit written" log
			false
		fi &&
		grep "^stat::number_of_executed_units" log
	'
done

test_done
