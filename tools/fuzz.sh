#!/bin/sh
# `make fuzz`: build every regress/fuzz/fuzz_*.c with libFuzzer and
# AddressSanitizer (clang) and run each for a bounded time.
# FUZZ_TIME (seconds per target, default 60) bounds each run.
cd "$(dirname "$0")/.." || exit 1
if ! command -v clang >/dev/null 2>&1; then
	echo "fuzz: clang missing; installing (Debian package clang)"
	apt-get install -y clang >/dev/null || { echo "fuzz: no clang"; exit 1; }
fi
time=${FUZZ_TIME:-60}
out=obj/fuzz
mkdir -p "$out"
cflags="-g -O1 -std=c11 -D_GNU_SOURCE -DFUZZ_LIBFUZZER -I. -Icommon \
    $(pkg-config --cflags libbsd-overlay libevent 2>/dev/null) \
    -fsanitize=fuzzer,address,undefined"
libs="$(pkg-config --libs libbsd-overlay libevent 2>/dev/null)"
# The sources each target needs (pure parsers only, no process code).
srcs_for() {
	case "$1" in
	fuzz_addr) echo common/addr.c ;;
	fuzz_cmd) echo common/smtp_cmd.c ;;
	fuzz_data) echo smtpd/smtp_data.c common/buf.c common/log.c ;;
	*) sed -n 's/^ \* fuzz-sources: //p' "regress/fuzz/$1.c" ;;
	esac
}
rc=0
for f in regress/fuzz/fuzz_*.c; do
	name=$(basename "$f" .c)
	echo "fuzz: building $name"
	# shellcheck disable=SC2046
	if ! clang $cflags -o "$out/$name" "$f" $(srcs_for "$name") $libs; then
		echo "fuzz: $name: build failed"; rc=1; continue
	fi
	mkdir -p "$out/corpus-$name"
	echo "fuzz: running $name for ${time}s"
	if ! "$out/$name" -max_total_time="$time" -max_len=4096 \
	    -timeout=10 -rss_limit_mb=1024 -print_final_stats=0 \
	    -artifact_prefix="$out/$name-" "$out/corpus-$name" \
	    >"$out/$name.log" 2>&1; then
		echo "fuzz: $name FAILED (see $out/$name.log)"; rc=1
		tail -30 "$out/$name.log"
	else
		echo "fuzz: $name ok ($(grep -c . "$out/$name.log") log lines)"
	fi
done
exit $rc
