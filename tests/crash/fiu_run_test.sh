#!/bin/sh
# fiu_run_test.sh: fail real libc calls under an unmodified rlog client with
# libfiu's POSIX preload (fiu-run -x), then check from another process that
# nothing acknowledged was lost.
#
# usage: fiu_run_test.sh WRITER WORKDIR [LIBASAN]
#
# For each fault, in a fresh directory:
#   1. the writer appends a few batches without faults (acknowledged data
#      already on disk when the faults start);
#   2. it runs again under the fault and prints one line per acknowledged
#      index ("ack N") and hard state ("hs T"); it must exit 0, or exit 1
#      after printing the error with rlog_strerror and rlog_errmsg (and, for
#      an I/O error of a mutating call, after checking that the handle is
#      poisoned: exit 2 means a broken promise);
#   3. "writer verify" reopens the directory in a new process without faults
#      and checks every acknowledged entry byte for byte and the hard state;
#   4. the writer appends again without faults (recovery continues normally)
#      and the result is verified once more.
#
# rlog calls pwrite, fdatasync, fsync, pread, fstat, flock, close, openat,
# unlinkat and renameat. The preload wraps the first six and close; it does
# not wrap openat, unlinkat or renameat (TOOLING.md), and rlog never calls
# write or rename, so those faults must not reach it: the writer must run
# through and print its acknowledgements (glibc's stdio writes through an
# internal alias of write that the preload does not intercept).
#
# Sanitizer builds: gcc's ASan runtime must come first in the process, and
# fiu-run puts its preload libraries first, so the ASan runtime refuses to
# start. With LIBASAN given (the path of the gcc ASan runtime) the script
# sets up the same environment as fiu-run by hand, with LIBASAN first in
# LD_PRELOAD, and suppresses LeakSanitizer reports about libfiu's own
# allocations (TOOLING.md, "fiu-run + gcc ASan").
set -u

WRITER=$1
WORK=$2
LIBASAN=${3:-}
PLIB=/usr/lib/fiu

if ! command -v fiu-run >/dev/null 2>&1 || [ ! -f "$PLIB/fiu_posix_preload.so" ]; then
	echo "fiu-run or $PLIB/fiu_posix_preload.so missing (install fiu-utils): skipped"
	exit 77
fi

rm -rf "$WORK"
mkdir -p "$WORK" || exit 1
SUPP="$WORK/lsan.supp"
printf 'leak:libfiu.so\nleak:fiu_run_preload.so\nleak:fiu_posix_preload.so\n' >"$SUPP"
# ASan and UBSan reports must not look like rlog errors (exit 1).
export ASAN_OPTIONS="exitcode=99:symbolize=0:detect_leaks=1"
export LSAN_OPTIONS="suppressions=$SUPP"
export UBSAN_OPTIONS="halt_on_error=1:exitcode=98"
# The preload's random points draw from a PRNG seeded here: the fault
# schedule is the same on every run.
export FIU_PRNG_SEED=42

failures=0
fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

# run_faulted FIU_COMMAND ARGS...: run the writer with one fiu command.
run_faulted() {
	cmd=$1
	shift
	if [ -n "$LIBASAN" ]; then
		FIU_ENABLE="$cmd" FIU_CTRL_FIFO="" \
			LD_PRELOAD="$LIBASAN $PLIB/fiu_run_preload.so $PLIB/fiu_posix_preload.so" \
			timeout 60 "$WRITER" "$@"
	else
		timeout 60 fiu-run -x -f "" -c "$cmd" "$WRITER" "$@"
	fi
}

# last_value FILE WORD: the number on the last "WORD N" line, or 0.
last_value() {
	awk -v w="$2" '$1 == w { v = $2 } END { print v + 0 }' "$1"
}

# scenario NAME EXPECT FIU_COMMAND
#   EXPECT: fail (the fault must stop the writer with a reported rlog
#   error), ok (the fault must not reach rlog or must be absorbed), any
#   (a random fault that may or may not hit).
scenario() {
	name=$1
	expect=$2
	cmd=$3
	dir="$WORK/$name"
	out="$WORK/$name.out"
	err="$WORK/$name.err"
	"$WRITER" write "$dir" 5 16384 >"$out" 2>"$err"
	rc=$?
	if [ $rc -ne 0 ]; then
		fail "$name: unfaulted writer exited $rc: $(cat "$err")"
		return
	fi
	start=$(last_value "$out" ack)
	start_hs=$(last_value "$out" hs)
	run_faulted "$cmd" write "$dir" 40 16384 >"$out" 2>"$err"
	rc=$?
	acked=$(last_value "$out" ack)
	hs=$(last_value "$out" hs)
	[ "$acked" -ge "$start" ] || acked=$start
	[ "$hs" -ge "$start_hs" ] || hs=$start_hs
	case "$rc" in
	0)
		if [ "$expect" = fail ]; then
			fail "$name: the fault never stopped the writer"
		fi
		;;
	1)
		if [ "$expect" = ok ]; then
			fail "$name: writer failed: $(cat "$err")"
		elif ! grep -q '^writer: .*: .*(errno [0-9]*)' "$err"; then
			fail "$name: error report lacks strerror/errmsg/errno: $(cat "$err")"
		fi
		;;
	*)
		fail "$name: writer exited $rc: $(cat "$err")"
		;;
	esac
	printf '%-22s exit %d  acks %4s -> %4s  hs %3s  %s\n' "$name" "$rc" \
		"$start" "$acked" "$hs" "$(head -n 1 "$err")"
	if ! "$WRITER" verify "$dir" "$acked" "$hs" >"$out" 2>"$err"; then
		fail "$name: verify after the fault: $(cat "$err")"
		return
	fi
	if ! "$WRITER" write "$dir" 4 16384 >"$out" 2>"$err"; then
		fail "$name: writer after the fault: $(cat "$err")"
		return
	fi
	acked=$(last_value "$out" ack)
	hs2=$(last_value "$out" hs)
	[ "$hs2" -ge "$hs" ] || hs2=$hs
	if ! "$WRITER" verify "$dir" "$acked" "$hs2" >"$out" 2>"$err"; then
		fail "$name: verify after recovery: $(cat "$err")"
	fi
}

# ENOSPC (28) on every pwrite: the faulted run cannot even settle the
# log's tail at open, or its first append fails.
scenario pwrite-enospc fail "enable name=posix/io/rw/pwrite,failinfo=28"
# ENOSPC on a random pwrite, after some batches went through.
scenario pwrite-enospc-random any \
	"enable_random name=posix/io/rw/pwrite,failinfo=28,probability=0.05"
# EIO (5) on every fdatasync, and on a random one.
scenario fdatasync-eio fail "enable name=posix/io/sync/fdatasync,failinfo=5"
scenario fdatasync-eio-random any \
	"enable_random name=posix/io/sync/fdatasync,failinfo=5,probability=0.1"
# EIO on the directory fsync (segment creation, open).
scenario fsync-dir-eio fail "enable name=posix/io/sync/fsync,failinfo=5"
# EDQUOT (122) on a random pwrite.
scenario pwrite-edquot-random any \
	"enable_random name=posix/io/rw/pwrite,failinfo=122,probability=0.05"
# EIO on every pread: the faulted open cannot read the log.
scenario pread-eio fail "enable name=posix/io/rw/pread,failinfo=5"
# Short writes and EINTR must be absorbed by the backend's loops.
scenario pwrite-short ok \
	"enable_random name=posix/io/rw/pwrite/reduce,probability=0.5"
scenario pwrite-eintr ok \
	"enable_random name=posix/io/rw/pwrite,failinfo=4,probability=0.3"
# rlog never calls rename or write: these faults must not reach it.
scenario rename-eio ok "enable name=posix/io/dir/rename,failinfo=5"
scenario write-enospc ok "enable name=posix/io/rw/write,failinfo=28"

if [ $failures -ne 0 ]; then
	echo "fiu_run_test: $failures failure(s)"
	exit 1
fi
echo "fiu_run_test: all scenarios passed"
rm -rf "$WORK"
exit 0
