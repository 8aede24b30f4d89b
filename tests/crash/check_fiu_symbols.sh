#!/bin/sh
# check_fiu_symbols.sh: does librlog carry libfiu?
#
# usage: check_fiu_symbols.sh absent|present SHARED_LIB STATIC_LIB NM READELF
#
# absent (builds with RLOG_FAULT_INJECTION=OFF, the production builds): no
# symbol of the shared library (nm -D) or of the static one (nm) may
# contain "fiu", and the shared library must not list libfiu as NEEDED.
# present (fault-injection builds): the same commands must find libfiu, which
# shows that the absent check would notice it.
set -u
want=$1
so=$2
archive=$3
nm=$4
readelf=$5

dyn=$("$nm" -D "$so" | grep -i fiu)
dyn_rc=$?
sta=$("$nm" "$archive" 2>/dev/null | grep -i fiu)
sta_rc=$?
needed=$("$readelf" -d "$so" | grep NEEDED | grep -i fiu)
needed_rc=$?
echo "nm -D $so: ${dyn:-no fiu symbol}"
echo "nm $archive: ${sta:-no fiu symbol}"
echo "readelf -d $so NEEDED: ${needed:-no libfiu}"

if [ "$want" = absent ]; then
	if [ $dyn_rc -eq 0 ] || [ $sta_rc -eq 0 ] || [ $needed_rc -eq 0 ]; then
		echo "FAIL: a build without fault injection carries libfiu"
		exit 1
	fi
	echo "ok: no libfiu in librlog"
	exit 0
fi
if [ $dyn_rc -ne 0 ] || [ $sta_rc -ne 0 ]; then
	echo "FAIL: a fault-injection build shows no libfiu symbol: the check is blind"
	exit 1
fi
echo "ok: the fault-injection build's libfiu symbols are visible"
exit 0
