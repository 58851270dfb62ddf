#!/bin/sh
# `make fuzz`: build every regress/fuzz/fuzz_*.c as a libFuzzer target
# (clang, ASan+UBSan, against an instrumented libsmtpd.a under obj/fuzz/)
# and run each for FUZZ_TIME seconds (default 60), corpus kept in
# obj/fuzz/corpus/NAME.  Exits non-zero if a target crashes.
cd "$(dirname "$0")/.." || exit 1
command -v clang >/dev/null 2>&1 ||
    { echo "fuzz: clang is needed (apt-get install clang)" >&2; exit 1; }
time=${FUZZ_TIME:-60}
make -s O=obj/fuzz CC=clang FUZZ=1 obj/fuzz/libsmtpd.a || exit 1
flags="-g -O1 -std=c11 -D_GNU_SOURCE -DFUZZ_LIBFUZZER -I. -Icommon
    -fsanitize=fuzzer,address,undefined $(pkg-config --cflags libtls libevent libbsd-overlay libcares)"
libs="$(pkg-config --libs libtls libevent libbsd-overlay libcares) -lcrypt"
status=0
for src in regress/fuzz/fuzz_*.c; do
	[ -f "$src" ] || continue
	name=$(basename "$src" .c)
	mkdir -p "obj/fuzz/corpus/$name"
	# shellcheck disable=SC2086
	clang $flags -o "obj/fuzz/$name" "$src" obj/fuzz/libsmtpd.a $libs ||
	    { status=1; continue; }
	echo "fuzz: $name for ${time}s"
	"obj/fuzz/$name" -max_total_time="$time" -max_len=65536 \
	    -artifact_prefix="obj/fuzz/$name-" "obj/fuzz/corpus/$name" \
	    > "obj/fuzz/$name.log" 2>&1 ||
	    { echo "fuzz: $name FAILED, see obj/fuzz/$name.log" >&2; status=1; }
	tail -n 1 "obj/fuzz/$name.log"
done
exit $status
