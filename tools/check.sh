#!/bin/sh
# Run the Kyua suite and end with the plain line "N passed, N failed".
cd "$(dirname "$0")/../regress" || exit 1
# Under `make SANITIZE=1`: libatf and exiting daemons leak by design.
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
export ASAN_OPTIONS
rm -f ../obj/results.db
kyua test --kyuafile Kyuafile --results-file ../obj/results.db > ../obj/kyua.out 2>&1
cat ../obj/kyua.out
kyua report --results-file ../obj/results.db --verbose \
    --results-filter broken,failed 2>/dev/null | sed -n '/Test case/,$p' | head -400
passed=$(grep -c -- '->  passed' ../obj/kyua.out)
xfail=$(grep -c -- '->  expected_failure' ../obj/kyua.out)
skipped=$(grep -c -- '->  skipped' ../obj/kyua.out)
failed=$(grep -cE -- '->  (failed|broken)' ../obj/kyua.out)
passed=$((passed + xfail))
[ "$skipped" -gt 0 ] && echo "($skipped skipped)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
