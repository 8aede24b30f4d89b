#!/usr/bin/env bash
# End-to-end tests of the rlog tool: every subcommand's output and exit
# status on healthy, torn and corrupted log directories (built with the
# engine through tool_helper, then damaged byte by byte) and on d-engine
# directories from gen_dengine (an independent encoder of d-engine's
# formats). Deterministic: no randomness, no timing beyond a bounded wait
# for a helper process that holds the log open.
#
#   run_tool_tests.sh RLOG TOOL_HELPER GEN_DENGINE WORKDIR
set -u
RLOG=$1
HELPER=$2
GEN=$3
WORK=$4
rm -rf "$WORK"
mkdir -p "$WORK"
OUT=$WORK/out
fails=0
checks=0

fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}
show() {
	sed 's/^/    | /' "$OUT" | head -n 60
}
# run CMD...: output (stdout and stderr) in $OUT, exit status in $rc.
run() {
	"$@" >"$OUT" 2>&1
	rc=$?
}
# expect CODE CMD...: run it and check the exit status.
expect() {
	local want=$1
	shift
	run "$@"
	checks=$((checks + 1))
	if [ "$rc" -ne "$want" ]; then
		fail "$* -> exit $rc, want $want"
		show
	fi
}
# has REGEX: the last output matches (extended regex).
has() {
	checks=$((checks + 1))
	if ! grep -qE -- "$1" "$OUT"; then
		fail "output lacks /$1/"
		show
	fi
}
# lacks REGEX: the last output does not match.
lacks() {
	checks=$((checks + 1))
	if grep -qE -- "$1" "$OUT"; then
		fail "output has /$1/"
		show
	fi
}
same() {
	checks=$((checks + 1))
	if [ "$1" != "$2" ]; then
		fail "$3: got [$1], want [$2]"
	fi
}
# A fingerprint of a directory: names, sizes and contents.
fingerprint() {
	(cd "$1" && for f in $(ls -A | sort); do
		echo "$f $(cksum <"$f")"
	done)
}
# Where the record of entry INDEX lies in DIR: "FILE OFFSET".
record_of() {
	"$RLOG" dump --raw "$1" |
		awk -v i="index=$2" '$2 == "entry" && $3 == i {
			split($1, a, "@"); print a[1], a[2]; exit }'
}
# Invert a byte inside the body of entry INDEX's record.
damage_entry() {
	local where
	where=$(record_of "$1" "$2")
	set -- "$1" $where
	"$HELPER" flip "$1/$2" $(($3 + 44)) || fail "flip $1/$2"
}
lines() {
	grep -cE -- "$1" "$OUT"
}
# A path as a literal inside an extended regex.
re() {
	printf '%s' "$1" | sed 's/[][\\.*^$+?(){}|]/\\&/g'
}
# N as little-endian hex bytes, 4 or 8 of them (for tool_helper put).
le32() {
	printf '%08x' "$1" | fold -w2 | tac | tr -d '\n'
}
le64() {
	printf '%016x' "$1" | fold -w2 | tac | tr -d '\n'
}
# A field of a seal's header line in `rlog dump --raw`: seal_field DIR SEQ NAME
seal_field() {
	"$RLOG" dump --raw "$1" |
		awk -v f="$(printf '%016x.seal' "$2")" -v k="$3=" '
		$1 == f && $2 == "seal" { for (i = 3; i <= NF; i++)
			if (index($i, k) == 1) { print substr($i, length(k) + 1); exit } }'
}

# ---------------------------------------------------------------------
echo "== usage, help, exit codes"
expect 2 "$RLOG"
expect 0 "$RLOG" --help
has '^exit status'
has '^  0  success'
has '^  1  problems found'
has '^  2  bad usage'
has '^  3  I/O error'
for c in stat dump verify repair import-dengine; do
	expect 0 "$RLOG" "$c" --help
	has "^usage: rlog $c"
	has 'exit status'
done
expect 2 "$RLOG" frobnicate
has "unknown command 'frobnicate'"
expect 2 "$RLOG" stat
has 'missing DIR'
expect 2 "$RLOG" stat a b
expect 2 "$RLOG" verify --bogus x
expect 2 "$RLOG" dump "$WORK" --from
expect 2 "$RLOG" dump "$WORK" --from x
expect 2 "$RLOG" dump "$WORK" --from 5 --to 2
expect 2 "$RLOG" repair "$WORK" --bogus
expect 2 "$RLOG" import-dengine onlyone
expect 2 "$RLOG" import-dengine a b --segment-size 10
expect 3 "$RLOG" stat "$WORK/missing"
has "rlog stat: $(re "$WORK")/missing: No such file or directory"
expect 3 "$RLOG" verify "$WORK/out"
has 'not a directory'
expect 3 "$RLOG" repair "$WORK/missing"
expect 3 "$RLOG" dump "$WORK/missing"

# ---------------------------------------------------------------------
echo "== healthy log"
H=$WORK/healthy
expect 0 "$HELPER" build "$H" seg 4096 hs 5 2 5 committed batches 15 10 sync \
	kind noop append 1 kind command append 2 sync
before=$(fingerprint "$H")
expect 0 "$RLOG" stat "$H"
has '^format: version 1'
has '^lock: free'
has '^hard_state: term 5, vote \{id 2, term 5, committed yes\}'
has '^purge_boundary: index 0 term 0'
has '^first_index: 1$'
has '^last_index: 153$'
has '^segments: 3 file\(s\), 3 on the live chain'
has '0000000000000001.seg sealed .* entries 1\.\.'
has '0000000000000003.seg last '
same "$(lines '^      seal: valid, [0-9]+ entries \(rlog_open reads the seal, not the records\)$')" 3 \
	"every segment has a valid seal (the last one from the clean close)"
lacks 'orphan seals'
has '^tail: clean'
has '^status: ok'
expect 0 "$RLOG" verify "$H"
has '0 problem\(s\)'
has '^seals: 3 used by rlog_open, checked against a full read of their segments: 3 agree, 0 disagree, 0 with damaged records$'
has '^rlog_open: would succeed$'
has '^rlog_open with verify_on_open: would succeed$'
expect 0 "$RLOG" dump "$H"
same "$(lines '^[0-9]+ term=')" 153 "dump lines"
has '^7 term=1 kind=command size=16 data="e7t1\.e7t1\.e7t1\.e"$'
has '^151 term=1 kind=noop size=0$'
expect 0 "$RLOG" dump "$H" --from 10 --to 12
same "$(lines '^[0-9]+ term=')" 3 "dump --from 10 --to 12"
has '^10 term=1'
has '^12 term=1'
expect 0 "$RLOG" dump "$H" --from 62 --preview-bytes 4
has '^62 term=1 kind=command size=16 data="e62t"\.\.\.$'
expect 0 "$RLOG" dump "$H" --json --from 63
has '^\{"index":63,"term":1,"kind":"command","size":16,"payload_hex":"6536337431'
if command -v python3 >/dev/null 2>&1; then
	"$RLOG" dump "$H" --json >"$WORK/json"
	expect 0 python3 -c 'import json,sys
n = 0
for line in open(sys.argv[1]):
    e = json.loads(line)
    assert e["index"] == n + 1, e
    assert len(e["payload_hex"]) == 2 * e["size"], e
    n += 1
assert n == 153, n' "$WORK/json"
	"$RLOG" dump "$H" --raw --json >"$WORK/json"
	expect 0 python3 -c 'import json,sys
[json.loads(l) for l in open(sys.argv[1])]' "$WORK/json"
fi
expect 0 "$RLOG" dump "$H" --raw
has '^0000000000000002.seg segment role=chain bytes=[0-9]+ first_index='
has '^0000000000000001.seg@64 entry index=1 term=1 durable=0'
has '^0000000000000001.seal seal state=used bytes=[0-9]+ seq=1 end_offset=[0-9]+ start=1 first=1 count=[0-9]+ runs=1$'
has '^0000000000000001.seal@64 run index=1 term=1$'
has '^0000000000000001.seal@80 listed index=1 term=1 record_offset=64 record_bytes=[0-9]+$'
expect 0 "$RLOG" repair "$H" --dry-run
has '^nothing to repair'
after=$(fingerprint "$H")
same "$after" "$before" "stat, verify, dump and a dry run change nothing"
expect 0 "$RLOG" repair "$H"
has '^nothing to repair'
expect 0 "$HELPER" check "$H"

echo "== purge boundary and empty logs"
P=$WORK/purged
expect 0 "$HELPER" build "$P" seg 4096 batches 3 10 sync purge 25 append 2 sync
expect 0 "$RLOG" stat "$P"
has '^purge_boundary: index 25 term 1'
has '^first_index: 26$'
has '^last_index: 32$'
expect 0 "$RLOG" dump "$P" --from 1 --to 27
has '^26 term=1'
lacks '^25 term'
E=$WORK/empty
mkdir -p "$E"
expect 0 "$RLOG" stat "$E"
has '^format: none yet'
has '^first_index: 1$'
has '^last_index: 0$'
expect 0 "$RLOG" verify "$E"
has 'no entries \(next index 1\)'
expect 0 "$RLOG" dump "$E"
same "$(cat "$OUT")" "" "dump of an empty log"
same "$(ls -A "$E")" "" "the tool creates nothing in an empty directory"

# ---------------------------------------------------------------------
echo "== torn tail (never acknowledged)"
T=$WORK/torn
expect 0 "$HELPER" build "$T" payload 40 append 5 sync append 5 sync append 5
set -- $(record_of "$T" 13)
tseg=$1 toff=$2
tsize=$(stat -c %s "$T/$tseg")
damage_entry "$T" 13
expect 0 "$RLOG" stat "$T"
has "^tail: torn at $tseg@$toff: $((tsize - toff)) bytes never acknowledged"
has '^status: ok'
expect 0 "$RLOG" verify "$T"
has "^note $tseg@$toff: torn tail: $((tsize - toff)) bytes .* entries 14\.\.15"
has '0 problem\(s\)'
expect 0 "$RLOG" dump "$T"
same "$(lines '^[0-9]+ term=')" 12 "entries before the torn tail"
before=$(fingerprint "$T")
expect 0 "$RLOG" repair "$T" --dry-run
has "truncate $tseg at $toff \(drop $((tsize - toff)) bytes"
has '^dry run: nothing changed'
lacks FORCED
same "$(fingerprint "$T")" "$before" "repair --dry-run changes nothing"
expect 0 "$RLOG" repair "$T"
has "^done 1: backup $(re "$T")/repair-backup-0000000000000001-$toff\.bin"
has '^repaired: entries \[1, 12\]'
same "$(stat -c %s "$T/$tseg")" "$toff" "segment truncated at the torn tail"
same "$(stat -c %s "$T/repair-backup-0000000000000001-$toff.bin")" \
	"$((tsize - toff))" "backup holds the removed bytes"
expect 0 "$RLOG" verify "$T"
lacks 'torn tail'
has 'repair backup file'
expect 0 "$RLOG" repair "$T"
has '^nothing to repair'
expect 0 "$HELPER" open "$T"
has '^ok first=1 last=12$'
expect 0 "$HELPER" check "$T"
expect 0 "$HELPER" build "$T" append 3 sync
expect 0 "$HELPER" check "$T"
has 'checked \[1, 15\]: ok'

echo "== torn segment creation"
C=$WORK/creation
expect 0 "$HELPER" build "$C" append 3 sync
printf 'RLOGSEG1 torn header' >"$C/0000000000000009.seg"
expect 0 "$RLOG" verify "$C"
has '^note 0000000000000009.seg@0: header torn while the segment was being created'
expect 0 "$RLOG" stat "$C"
has '0000000000000009.seg torn-creation'
expect 0 "$RLOG" repair "$C"
has 'remove 0000000000000009.seg \(20 bytes'
same "$(ls "$C" | grep -c '^0000000000000009.seg$')" 0 "torn creation removed"
same "$(cat "$C/repair-backup-0000000000000009-0.bin")" "RLOGSEG1 torn header" \
	"torn creation backed up"
expect 0 "$HELPER" check "$C"

# ---------------------------------------------------------------------
echo "== damage to acknowledged data (last segment)"
A=$WORK/acked
expect 0 "$HELPER" build "$A" payload 40 append 5 sync append 5 sync append 5 sync
set -- $(record_of "$A" 3)
aseg=$1 aoff=$2
damage_entry "$A" 3
# The clean close sealed the last segment too; the next open would take it
# from its seal and not see the damage (checked below on AS). Without the
# seal (lost, or a log written with verify_on_open) the open reads it.
AS=$WORK/acked.sealed
rm -rf "$AS" "$WORK/acked.copy"
cp -r "$A" "$AS"
rm "$A"/*.seal
cp -r "$A" "$WORK/acked.copy"
expect 1 "$HELPER" open "$WORK/acked.copy"
has "^error RLOG_ECORRUPT: open: $aseg@$aoff"
expect 1 "$RLOG" verify "$A"
has "^problem $aseg@$aoff: checksum or field mismatch in acknowledged data"
has "^rlog_open: would fail with RLOG_ECORRUPT: $aseg@$aoff"
expect 1 "$RLOG" stat "$A"
has "^status: rlog_open would fail with RLOG_ECORRUPT: $aseg@$aoff"
expect 1 "$RLOG" dump "$A"
same "$(lines '^[0-9]+ term=')" 2 "entries readable before the damage"
has 'the log does not open'
before=$(fingerprint "$A")
expect 1 "$RLOG" repair "$A"
has "truncate $aseg at $aoff .*\[FORCED\]"
has 'drops acknowledged data: 12 intact entry record\(s\), indexes 4\.\.15'
has '^refused: acknowledged data is damaged'
same "$(fingerprint "$A")" "$before" "a refused repair changes nothing"
expect 0 "$RLOG" repair "$A" --dry-run --force
has '^dry run: nothing changed'
same "$(fingerprint "$A")" "$before" "a forced dry run changes nothing"
expect 0 "$RLOG" repair "$A" --force
has '^repaired: entries \[1, 2\]'
has '^lost: the damaged bytes and 12 intact entry record\(s\) with indexes 4\.\.15'
expect 0 "$HELPER" open "$A"
has '^ok first=1 last=2$'
expect 0 "$HELPER" check "$A"
expect 0 "$RLOG" verify "$A"
amsg="$aseg@$aoff: checksum or field mismatch in acknowledged data \\(the record at offset [0-9]+ was written after it was synced\\)"
expect 1 "$RLOG" verify "$AS"
has "^problem $amsg \\(rlog_open takes this segment from 0000000000000001.seal and does not read these records\\); rlog_get fails with RLOG_ECORRUPT for entry 3$"
has "^rlog_open with verify_on_open: would fail with RLOG_ECORRUPT: $amsg$"
expect 0 "$RLOG" stat "$AS"
has '^status: ok: rlog_open would succeed'
has '^      seal: valid, 15 entries'
rm -rf "$AS.open" "$AS.verify"
cp -r "$AS" "$AS.open"
cp -r "$AS" "$AS.verify"
expect 1 "$HELPER" get "$AS.open"
has "^error 3 RLOG_ECORRUPT: get: $aseg@$aoff: "
has '^read 15 entries: 1 failed$'
expect 1 "$HELPER" open --verify "$AS.verify"
has "^error RLOG_ECORRUPT: open: $amsg$"
expect 0 "$RLOG" repair "$AS" --force
has '^  1\. remove 0000000000000001.seal .*\[FORCED\]'
has "^  2\\. truncate $aseg at $aoff .*\\[FORCED\\]"
has '^repaired: entries \[1, 2\]'
same "$(ls "$AS" | grep -c '\.seal$')" 0 "the cut segment's seal removed"
expect 0 "$HELPER" check "$AS"

echo "== damage to a sealed segment"
# rlog_open takes a segment the log moved on from from its seal and does
# not read it: the damage shows when the entry is read, and to verify
# (which reads everything), to rlog_open with verify_on_open, and to
# rlog_open once the seals are gone.
S=$WORK/sealed
expect 0 "$HELPER" build "$S" seg 4096 payload 100 hs 3 1 3 batches 6 10 sync
set -- $(record_of "$S" 10)
sseg=$1 soff=$2
set -- $(record_of "$S" 13)
soff13=$2
damage_entry "$S" 10
damage_entry "$S" 13
smsg="$sseg@$soff: checksum or field mismatch, inside data synced before 0000000000000002.seg was started"
expect 1 "$RLOG" verify "$S"
has "^problem $smsg \\(rlog_open takes this segment from 0000000000000001.seal and does not read these records\\); rlog_get fails with RLOG_ECORRUPT for entry 10$"
has "^problem $sseg@$soff13: 152 damaged bytes inside data synced before the next segment was started \\(rlog_open takes this segment from 0000000000000001.seal and does not read them\\); rlog_get fails with RLOG_ECORRUPT for entry 13$"
same "$(lines '^problem')" 2 "both damaged records reported"
has '^seals: 3 used by rlog_open, .*: 2 agree, 0 disagree, 1 with damaged records$'
has '^rlog_open: would succeed \(it takes the damaged segments from their seals and does not read them; rlog_get fails for the entries named above\)$'
has "^rlog_open with verify_on_open: would fail with RLOG_ECORRUPT: $smsg$"
expect 0 "$RLOG" stat "$S"
has '^status: ok: rlog_open would succeed'
has "^  $sseg sealed .* entries 1\\.\\.20 \\(20\\)"
same "$(lines '^      seal: valid, 20 entries')" 3 "stat: three valid seals"
expect 1 "$RLOG" dump "$S"
same "$(lines '^[0-9]+ term=')" 58 "dump skips the two entries that no longer check out"
has "^rlog dump: $(re "$S"): entry 10: $sseg@$soff: the record of entry 10 no longer checks out$"
rm -rf "$WORK/sealed.copy" "$WORK/sealed.verify" "$WORK/sealed.noseal"
cp -r "$S" "$WORK/sealed.copy"
cp -r "$S" "$WORK/sealed.verify"
cp -r "$S" "$WORK/sealed.noseal"
rm "$WORK/sealed.noseal"/*.seal
expect 0 "$HELPER" open "$WORK/sealed.copy"
has '^ok first=1 last=60$'
expect 1 "$HELPER" get "$WORK/sealed.copy"
has "^error 10 RLOG_ECORRUPT: get: $sseg@$soff: record of entry 10 "
has "^error 13 RLOG_ECORRUPT: get: $sseg@$soff13: record of entry 13 "
has '^read 60 entries: 2 failed$'
expect 0 "$HELPER" get "$WORK/sealed.copy" 9 11 12 14
expect 1 "$HELPER" open --verify "$WORK/sealed.verify"
has "^error RLOG_ECORRUPT: open: $smsg$"
expect 1 "$HELPER" open "$WORK/sealed.noseal"
has "^error RLOG_ECORRUPT: open: $smsg$"
expect 1 "$RLOG" stat "$WORK/sealed.noseal"
has "^status: rlog_open would fail with RLOG_ECORRUPT: $smsg$"
has '0000000000000002.seg sealed .* not read \(recovery stops before it\)'
same "$(lines '^      no seal$')" 3 "stat: no seals"
expect 1 "$RLOG" verify "$WORK/sealed.noseal"
has "^problem $smsg$"
has "^rlog_open: would fail with RLOG_ECORRUPT: $smsg$"
lacks '^seals:'
before=$(fingerprint "$S")
expect 1 "$RLOG" repair "$S" --dry-run
has "^found: rlog_open would succeed, taking segments from their seals without reading them, but a full read .* fails with RLOG_ECORRUPT: $smsg$"
has '^refused: acknowledged data is damaged'
same "$(fingerprint "$S")" "$before" "a refused repair changes nothing"
expect 0 "$RLOG" repair "$S" --force
has '^  1\. remove 0000000000000003.seal \([0-9]+ bytes, no backup: a seal only summarises its segment\) \[FORCED\]$'
has '^  2\. remove 0000000000000003.seg .*\[FORCED\]'
has '^  3\. remove 0000000000000002.seal .*\[FORCED\]'
has '^  4\. remove 0000000000000002.seg .*\[FORCED\]'
has '^  5\. remove 0000000000000001.seal .*\[FORCED\]'
has '^     why: 0000000000000001.seg is cut short \(next step\): its seal must not outlive the bytes it describes$'
has "^  6\\. truncate $sseg at $soff .*\\[FORCED\\]"
has "^done 1: removed $(re "$S")/0000000000000003.seal$"
has '^repaired: entries \[1, 9\]'
same "$(ls "$S" | grep -c '\.seg$')" 1 "newer segments removed"
same "$(ls "$S" | grep -c '\.seal$')" 0 "their seals and the cut segment's seal removed"
same "$(ls "$S" | grep -c '^repair-backup-')" 3 "three backups (seals are not backed up)"
expect 0 "$HELPER" check "$S"
expect 0 "$RLOG" stat "$S"
has '^hard_state: term 3, vote \{id 1, term 3, committed no\}'

echo "== seals: damaged, stale, orphan, lying"
V=$WORK/seals
expect 0 "$HELPER" build "$V" seg 4096 payload 100 batches 6 10 sync
# Every segment: 20 entries of term 1, so each seal has one run; the seal
# of segment 1 lists entry I at offset 80 + 8 * (I - 1).
end1=$(seal_field "$V" 1 end_offset)
end2=$(seal_field "$V" 2 end_offset)
same "$(seal_field "$V" 1 count)" 20 "seal 1 lists 20 entries"
fresh() {
	rm -rf "$1"
	cp -r "$V" "$1"
}

# A damaged seal is not used: recovery reads the segment (and rewrites it).
V1=$WORK/seals.damaged
fresh "$V1"
"$HELPER" flip "$V1/0000000000000001.seal" 100
expect 0 "$RLOG" stat "$V1"
has '^  0000000000000001.seg sealed .* entries 1\.\.20 \(20\)'
has '^      seal: damaged \(body checksum\), not used$'
has '^note 0000000000000001.seal: damaged \(body checksum\), not used: recovery reads 0000000000000001.seg in full instead$'
has '^status: ok'
expect 0 "$RLOG" verify "$V1"
has '^seals: 2 used by rlog_open'
"$HELPER" flip "$V1/0000000000000002.seal" 30
expect 0 "$RLOG" stat "$V1"
has '^      seal: damaged \(header checksum, magic or fields\), not used$'
expect 0 "$RLOG" dump --raw "$V1"
has '^0000000000000002.seal seal state=damaged bytes=240 header=invalid$'
expect 0 "$HELPER" check "$V1"
expect 0 "$RLOG" stat "$V1"
same "$(lines '^      seal: valid, 20 entries')" 3 "the next open rewrote both seals"

# A stale seal (of another end of its segment) is not used.
V2=$WORK/seals.stale
fresh "$V2"
"$HELPER" put "$V2/0000000000000002.seal" 24 "$(le64 $((end2 + 8)))"
expect 0 "$HELPER" seal-fix "$V2/0000000000000002.seal"
expect 0 "$RLOG" stat "$V2"
has "^      seal: stale \(ends at $((end2 + 8)), segment ends at $end2\), not used$"
has '^note 0000000000000002.seal: stale '
expect 0 "$RLOG" verify "$V2"
has '^seals: 2 used by rlog_open, .*: 2 agree'
expect 0 "$RLOG" repair "$V2" --dry-run
has '^nothing to repair'
expect 0 "$HELPER" open "$V2"
has '^ok first=1 last=60$'

# An orphan seal (no segment file) is ignored; repair removes it.
V3=$WORK/seals.orphan
fresh "$V3"
cp "$V3/0000000000000001.seal" "$V3/0000000000000009.seal"
expect 0 "$RLOG" stat "$V3"
has '^orphan seals: 1 file\(s\) without a segment file'
has '^  0000000000000009.seal orphan +240 bytes$'
expect 0 "$RLOG" verify "$V3"
has '^note 0000000000000009.seal: orphan seal: there is no 0000000000000009.seg'
expect 0 "$RLOG" dump --raw "$V3"
has '^0000000000000009.seal seal state=orphan bytes=240 seq=1 '
before=$(fingerprint "$V3")
expect 0 "$RLOG" repair "$V3" --dry-run
has '^found: the log opens \(entries \[1, 60\]\) with seal files to remove$'
has '^  1\. remove 0000000000000009.seal \(240 bytes, no backup: a seal only summarises its segment\)$'
has '^     why: orphan: there is no 0000000000000009.seg'
lacks FORCED
same "$(fingerprint "$V3")" "$before" "repair --dry-run changes nothing"
expect 0 "$RLOG" repair "$V3"
has "^done 1: removed $(re "$V3")/0000000000000009.seal$"
has '^repaired: entries \[1, 60\]'
same "$(ls "$V3" | grep -c '^0000000000000009.seal$')" 0 "orphan seal removed"
lacks 'repair-backup'
expect 0 "$RLOG" stat "$V3"
lacks 'orphan seal'

# A seal with good checksums that lies about a term: rlog_open trusts it
# (rlog_term would answer 0); verify compares it with the records.
V4=$WORK/seals.term
fresh "$V4"
"$HELPER" put "$V4/0000000000000001.seal" 72 "$(le64 0)"
expect 0 "$HELPER" seal-fix "$V4/0000000000000001.seal"
expect 0 "$RLOG" stat "$V4"
has '^status: ok'
same "$(lines '^      seal: valid, 20 entries')" 3 "stat does not read the records"
expect 1 "$RLOG" verify "$V4"
has '^problem 0000000000000001.seal: disagrees with 0000000000000001.seg, whose records rlog_open does not read: entry 1: it says term 0, record at offset 64 \(152 bytes\); the records say term 1 at offset 64 \(152 bytes\) \(and more\); rlog_open trusts the seal'
same "$(lines '^problem')" 1 "one problem: the lying seal"
has '^seals: 3 used by rlog_open, .*: 2 agree, 1 disagree, 0 with damaged records$'
has '^rlog_open: would succeed$'
has '^rlog_open with verify_on_open: would succeed$'
rm -rf "$V4.copy"
cp -r "$V4" "$V4.copy"
expect 1 "$HELPER" get "$V4.copy" 1
has '^error 1 RLOG_ECORRUPT: get: 0000000000000001.seg@64: '
expect 1 "$RLOG" dump "$V4" --from 20 --to 21
has '^21 term=1 '
has 'entry 20: 0000000000000001.seg@[0-9]+: the record of entry 20 no longer checks out$'
expect 0 "$RLOG" repair "$V4" --dry-run
has '^  1\. remove 0000000000000001.seal '
has '^     why: disagrees with 0000000000000001.seg'
lacks FORCED
expect 0 "$RLOG" repair "$V4"
has '^repaired: entries \[1, 60\]'
expect 0 "$RLOG" verify "$V4"
has '^seals: 2 used by rlog_open, .*: 2 agree, 0 disagree'
expect 0 "$HELPER" check "$V4"

# A seal that points an entry at an older record of the same index and
# term (one a replace superseded): every read succeeds, only verify sees it.
V5=$WORK/seals.offset
expect 0 "$HELPER" build "$V5" seg 4096 payload 100 append 8 sync replace 5 3 sync \
	batches 4 10 sync
set -- $("$RLOG" dump --raw "$V5" | awk '$2 == "entry" && $3 == "index=5" {
	split($1, a, "@"); print a[2] }')
same "$#" 2 "entry 5 written twice (the old record, then the replacing one)"
same "$(seal_field "$V5" 1 runs)" 1 "seal 1: one run"
"$RLOG" dump --raw "$V5" >"$OUT"
has "^0000000000000001.seal@112 listed index=5 term=1 record_offset=$2 record_bytes=152$"
"$HELPER" put "$V5/0000000000000001.seal" 112 "$(le32 "$1")"
expect 0 "$HELPER" seal-fix "$V5/0000000000000001.seal"
expect 1 "$RLOG" verify "$V5"
has "^problem 0000000000000001.seal: disagrees with 0000000000000001.seg, whose records rlog_open does not read: entry 5: it says term 1, record at offset $1 \(152 bytes\); the records say term 1 at offset $2 \(152 bytes\); rlog_open trusts the seal"
rm -rf "$V5.copy"
cp -r "$V5" "$V5.copy"
expect 0 "$HELPER" get "$V5.copy"
has '^read 47 entries: 0 failed$'

# The last segment's seal (written by a clean close) holds only while the
# clean-close mark it ends at is there: after a reopen that wrote over it
# and a crash (here: the old seal put back), it is stale.
V6=$WORK/seals.tail
fresh "$V6"
cp "$V6/0000000000000003.seal" "$WORK/seal3.old"
tend=$(seal_field "$V6" 3 end_offset)
expect 0 "$HELPER" build "$V6" append 2 sync
cp "$WORK/seal3.old" "$V6/0000000000000003.seal"
expect 0 "$RLOG" stat "$V6"
has "^      seal: stale \(ends at $tend, where the segment holds no clean-close mark: it was written after the seal\), not used$"
has '^last_index: 62$'
has '^status: ok'
expect 0 "$HELPER" open "$V6"
has '^ok first=1 last=62$'

echo "== damaged segment header before the last"
D=$WORK/header
expect 0 "$HELPER" build "$D" seg 4096 payload 100 batches 6 10 sync
"$HELPER" flip "$D/0000000000000001.seg" 20
expect 1 "$RLOG" verify "$D"
has '^problem 0000000000000001.seg@0: segment header damaged \(it precedes 0000000000000002.seg\)'
expect 1 "$RLOG" stat "$D"
has '0000000000000001.seg damaged'
expect 1 "$RLOG" repair "$D" --dry-run
has '^refused'

echo "== meta slots"
M=$WORK/meta
expect 0 "$HELPER" build "$M" hs 4 2 4 append 3 sync
cp -r "$M" "$WORK/meta2"
"$HELPER" flip "$M/meta" 30
expect 0 "$RLOG" verify "$M"
has '^note meta@0: slot A is damaged'
expect 0 "$RLOG" stat "$M"
has '^meta: slot A damaged, slot B valid \(generation 1\); using slot B'
has '^hard_state: term 4, vote \{id 2, term 4, committed no\}'
"$HELPER" flip "$WORK/meta2/meta" 30
"$HELPER" flip "$WORK/meta2/meta" 4126
expect 1 "$RLOG" verify "$WORK/meta2"
has '^problem meta: both slots'
expect 1 "$RLOG" repair "$WORK/meta2" --force
has '^refused: RLOG_ECORRUPT: meta: both slots'
expect 1 "$HELPER" open "$WORK/meta2"
has 'RLOG_ECORRUPT'

# ---------------------------------------------------------------------
echo "== a log open in another process"
L=$WORK/locked
expect 0 "$HELPER" build "$L" append 3 sync
"$HELPER" hold "$L" "$WORK/held" >/dev/null 2>&1 &
holder=$!
for _ in $(seq 1 3000); do
	[ -e "$WORK/held" ] && break
	sleep 0.01
done
same "$([ -e "$WORK/held" ] && echo yes)" yes "the helper holds the log"
expect 1 "$RLOG" repair "$L"
has 'the log is open in another process \(LOCK is held\)'
has 'locked by another handle'
expect 1 "$RLOG" repair "$L" --dry-run
has 'LOCK is held'
expect 0 "$RLOG" stat "$L"
has '^lock: held'
expect 0 "$RLOG" verify "$L"
has '^note LOCK: held'
rm -f "$WORK/held"
wait "$holder"
expect 0 "$RLOG" repair "$L"
has '^nothing to repair'

# ---------------------------------------------------------------------
echo "== verify and stat agree with rlog_open on every damage"
# Every damaged copy is opened three ways: by stat (what rlog_open would
# say), by rlog_open, and by rlog_open with verify_on_open (which reads
# every record, as verify does). rlog_open takes a segment the log moved
# on from (and the last one after a clean close) from its seal without
# reading it, so it may open a copy whose damage lies there; then reading
# the entries must fail on exactly the entries verify names.
B=$WORK/agree
expect 0 "$HELPER" build "$B" seg 4096 payload 60 hs 2 1 2 batches 3 8 sync \
	purge 4 term 2 append 6 sync append 3
# Sealed: a purge inside the first sealed segment, a replace and a
# truncate, more than one term, and a clean close that seals the last.
B2=$WORK/agree.sealed
expect 0 "$HELPER" build "$B2" seg 4096 payload 60 hs 2 1 2 batches 3 8 sync \
	purge 4 term 2 append 6 sync replace 28 3 sync truncate 30 sync \
	batches 5 8 sync
same "$(ls "$B" | grep -c '\.seal$')" 0 "one segment, not closed cleanly: no seal"
same "$(ls "$B2" | grep -c '\.seal$')" 3 "every segment of the sealed log has a seal"
# The entries a verify report names ("for entry N", "for entries A..B"),
# and the entries a `tool_helper get` report fails on ("error N ..."): in
# ascending order, with bash builtins only (this loop runs hundreds of times).
named() {
	local l i hi
	local -a set=()
	while IFS= read -r l; do
		while [[ $l =~ for\ entr(y|ies)\ ([0-9]+)(\.\.([0-9]+))?(.*)$ ]]; do
			hi=${BASH_REMATCH[4]:-${BASH_REMATCH[2]}}
			for ((i = BASH_REMATCH[2]; i <= hi; i++)); do
				set[i]=1
			done
			l=${BASH_REMATCH[5]}
		done
	done <"$1"
	echo "${!set[*]}"
}
failed_reads() {
	local l
	local -a set=()
	while IFS= read -r l; do
		[[ $l =~ ^error\ ([0-9]+)\  ]] && set[BASH_REMATCH[1]]=1
	done <"$1"
	echo "${!set[*]}"
}
# The first line of FILE that starts with PREFIX.
line_of() {
	local l
	while IFS= read -r l; do
		if [[ $l == "$2"* ]]; then
			echo "$l"
			return
		fi
	done <"$1"
}
# "RLOG_X: message" from a tool line "... would fail with RLOG_X: message"
# or a helper line "error RLOG_X: open: message"; "ok" for success.
outcome_tool() {
	case "$1" in
	*"would succeed"*) echo ok ;;
	*) echo "${1#*would fail with }" ;;
	esac
}
outcome_open() {
	case "$1" in
	"error RLOG_"*) o1=${1#error }
		echo "${o1%%: *}: ${o1#*: open: }" ;;
	*) echo ok ;;
	esac
}
n=0
hidden=0
for f in "$B"/*.seg "$B/meta" "$B2"/*.seg "$B2"/*.seal; do
	base=${f%/*}
	name=${f##*/}
	size=$(stat -c %s "$f")
	case "$base:$name" in
	*:*.seal) step=59 ;;
	"$B2":*) step=293 ;;
	*) step=131 ;;
	esac
	for ((off = 0; off < size; off += step)); do
		ops="flip cut"
		# Cutting a sealed segment short always gives the same story
		# (the seal no longer fits, the segment is read): a few do.
		case "$base:$name" in
		"$B2":*.seg) [ $((off / step % 4)) -eq 0 ] || ops=flip ;;
		esac
		for op in $ops; do
			rm -rf "$WORK/c" "$WORK/cv"
			cp -r "$base" "$WORK/c"
			"$HELPER" "$op" "$WORK/c/$name" "$off"
			[ "$base" = "$B" ] || cp -r "$WORK/c" "$WORK/cv"
			"$RLOG" verify "$WORK/c" >"$WORK/vout" 2>&1
			v=$?
			"$RLOG" stat "$WORK/c" >"$WORK/sout" 2>&1
			st=$(line_of "$WORK/sout" "status:")
			"$HELPER" get "$WORK/c" >"$WORK/gout" 2>&1
			o=$(line_of "$WORK/gout" "")
			oc=0
			case "$o" in "error RLOG_"*) oc=1 ;; esac
			# B has no seal: verify_on_open changes nothing.
			ov=$o
			if [ "$base" != "$B" ]; then
				ov=$("$HELPER" open --verify "$WORK/cv")
			fi
			n=$((n + 1))
			where="$op ${base##*/}/$name@$off"
			checks=$((checks + 1))
			if [ $oc -ne 0 ] && [ $v -ne 1 ]; then
				fail "$where: open says '$o', verify exits $v"
			fi
			case "$st" in
			*succeed*) sc=0 ;;
			*) sc=1 ;;
			esac
			checks=$((checks + 1))
			if [ $sc -ne $oc ]; then
				fail "$where: open says '$o', stat '$st'"
			elif [ $oc -ne 0 ]; then
				m1=${o#error RLOG_ECORRUPT: open: }
				m2=${st#status: rlog_open would fail with RLOG_ECORRUPT: }
				case "$m1" in meta:*) ;; *)
					same "$m2" "$m1" "$where message" ;;
				esac
			fi
			# verify_on_open: verify's full-read verdict.
			vl=$(line_of "$WORK/vout" "rlog_open with verify_on_open: ")
			[ -n "$vl" ] || vl=$(line_of "$WORK/vout" "rlog_open: ")
			want=$(outcome_open "$ov")
			got=$(outcome_tool "$vl")
			case "$want" in
			*": meta:"*) got=${got%%: *}: ${want#*: } ;;
			esac
			same "$got" "$want" "$where: verify vs verify_on_open"
			# Reads after an open that succeeded: the entries that
			# fail are the ones verify names.
			if [ $oc -eq 0 ]; then
				bad=$(failed_reads "$WORK/gout")
				same "$(named "$WORK/vout")" "$bad" \
					"$where: entries verify names vs entries that fail to read"
				if [ -n "$bad" ]; then
					hidden=$((hidden + 1))
					[ $v -eq 1 ] || fail "$where: reads fail, verify exits $v"
				fi
			fi
		done
	done
done
echo "   $n damaged copies checked, $hidden that open but fail to read"
same "$([ "$hidden" -ge 15 ] && echo yes)" yes "damage that only reads see was exercised"

# ---------------------------------------------------------------------
echo "== import-dengine"
G=$WORK/dengine
mkdir -p "$G"
for c in clean novote dups undecodable torn tornlen gap termdec start5 zero \
	badhs shorths emptyhs trailing nohs empty all; do
	expect 0 "$GEN" "$G/$c" "$c"
done
same "$(od -An -tx1 "$G/clean/meta/hard_state.bin" | tr -d ' \n')" \
	0500000000000000010a000000040000000000000000 "the HardState test vector"

expect 0 "$RLOG" import-dengine "$G/clean" "$G/clean.rlog"
has '^log.data: 233 bytes, 10 records'
has '^  entries: 10 distinct indexes in \[1, 10\]'
has '^hard_state.bin: 22 bytes: term 5, vote \{id 10, term 4, committed no\}'
has '^import: entries 1\.\.10 \(10\)$'
has '^written: .*clean.rlog: entries \[1, 10\], hard state saved'
has '^result: imported: nothing left out'
expect 0 "$RLOG" dump "$G/clean.rlog"
cat >"$WORK/want" <<'EOF'
1 term=1 kind=noop size=0
2 term=1 kind=command size=8 data="cmd-2-t1"
3 term=1 kind=command size=8 data="cmd-3-t1"
4 term=1 kind=command size=8 data="cmd-4-t1"
5 term=1 kind=command size=8 data="cmd-5-t1"
6 term=1 kind=command size=8 data="cmd-6-t1"
7 term=1 kind=command size=8 data="cmd-7-t1"
8 term=1 kind=command size=8 data="cmd-8-t1"
9 term=2 kind=config size=8 data="cmd-9-t2"
10 term=2 kind=command size=9 data="cmd-10-t2"
EOF
same "$(cat "$OUT")" "$(cat "$WORK/want")" "imported entries"
expect 0 "$RLOG" stat "$G/clean.rlog"
has '^hard_state: term 5, vote \{id 10, term 4, committed no\}'
expect 0 "$RLOG" verify "$G/clean.rlog"
same "$(ls "$G" | grep -c 'import-')" 0 "no temporary directory left"

expect 0 "$RLOG" import-dengine "$G/novote" "$G/novote.rlog"
has '^hard_state.bin: 9 bytes: term 7, no vote'
expect 0 "$RLOG" stat "$G/novote.rlog"
has '^hard_state: term 7, no vote'

expect 0 "$RLOG" import-dengine "$G/dups" "$G/dups.rlog"
has '^  duplicates: 4 record\(s\) superseded .* \(3 differ from it\)'
has '^note log.data@[0-9]+: index 5 written 3 times: the last .* term 2\) is kept'
expect 0 "$RLOG" dump "$G/dups.rlog" --from 2
has '^2 term=1 kind=command size=8 data="cmd-2-t1"'
has '^3 term=2 kind=command size=8 data="cmd-3-t2"'
has '^5 term=2 kind=command size=8 data="cmd-5-t2"'

expect 1 "$RLOG" import-dengine "$G/undecodable" "$G/undecodable.rlog"
has '^  undecodable: 1, index 0: 0'
has '^problem log.data@72: 5 body bytes that are not an Entry'
has '^import: entries 1\.\.5 \(5\)$'
has '^result: imported with problems'

expect 0 "$RLOG" import-dengine "$G/torn" "$G/torn.rlog"
has '^  torn tail: 18 bytes at offset 96'
has '^note log.data@96: torn tail'
has '^import: entries 1\.\.4 \(4\)$'
expect 0 "$RLOG" import-dengine "$G/tornlen" "$G/tornlen.rlog"
has '^  torn tail: 5 bytes at offset 96'

expect 1 "$RLOG" import-dengine "$G/gap" "$G/gap.rlog"
has '^problem log.data@96: gap: indexes 5\.\.6 missing \(2\); the import stops before it'
has '^import: entries 1\.\.4 \(4\); left out: 3 entries after index 4'
expect 0 "$HELPER" open "$G/gap.rlog"
has 'first=1 last=4'

expect 1 "$RLOG" import-dengine "$G/termdec" "$G/termdec.rlog"
has 'entry 4 has term 1, below entry 3.s term 2; the import stops before it'
has '^import: entries 1\.\.3 \(3\); left out: 2 entries'

expect 0 "$RLOG" import-dengine "$G/start5" "$G/start5.rlog"
has '^note: the log starts at index 5: the new log gets purge boundary \{4, 0\}'
expect 0 "$RLOG" stat "$G/start5.rlog"
has '^purge_boundary: index 4 term 0'
has '^first_index: 5$'
has '^last_index: 8$'
expect 0 "$RLOG" import-dengine "$G/start5" "$G/start5b.rlog" --boundary-term 3
expect 0 "$RLOG" stat "$G/start5b.rlog"
has '^purge_boundary: index 4 term 3'

expect 1 "$RLOG" import-dengine "$G/zero" "$G/zero.rlog"
has '^  undecodable: 0, index 0: 2'
has '^problem log.data@[0-9]+: an entry with index 0'
has '^import: entries 1\.\.3 \(3\)$'

expect 1 "$RLOG" import-dengine "$G/badhs" "$G/badhs.rlog"
has '^problem hard_state.bin@0: hard_state.bin does not decode: byte 8 \(the vote.s option tag\) is 2'
expect 0 "$RLOG" stat "$G/badhs.rlog"
has '^hard_state: none'
expect 1 "$RLOG" import-dengine "$G/shorths" "$G/shorths.rlog"
has 'does not decode: 5 bytes: a HardState needs 9'
expect 1 "$RLOG" import-dengine "$G/emptyhs" "$G/emptyhs.rlog"
has 'does not decode: 0 bytes'
expect 0 "$RLOG" import-dengine "$G/trailing" "$G/trailing.rlog"
has '^hard_state.bin: 12 bytes: term 4, no vote \(3 trailing bytes ignored'
expect 0 "$RLOG" import-dengine "$G/nohs" "$G/nohs.rlog"
has '^hard_state.bin: missing'
has 'hard state none'
expect 0 "$RLOG" import-dengine "$G/empty" "$G/empty.rlog"
has '^import: no entries'
has '^written: .*: no entries \(next index 1\)|entries \[1, 0\]'

expect 1 "$RLOG" import-dengine "$G/all" "$G/all.rlog"
has '^  entries: 8 distinct indexes in \[1, 10\], 2 indexes missing'
has '^  undecodable: 1'
has '^  torn tail: 11 bytes at offset 275'
has '^import: entries 1\.\.6 \(6\); left out: 2 entries after index 6'
expect 0 "$RLOG" dump "$G/all.rlog" --from 4 --to 6
has '^4 term=2 kind=command size=8 data="cmd-4-t2"'
has '^6 term=2 kind=command size=8 data="cmd-6-t2"'

expect 1 "$RLOG" import-dengine "$G/gap" "$G/gap.dry" --dry-run
has '^dry run: nothing written'
same "$([ -e "$G/gap.dry" ] && echo exists)" "" "a dry run writes nothing"
mkdir -p "$G/into-empty"
expect 0 "$RLOG" import-dengine "$G/clean" "$G/into-empty"
expect 1 "$RLOG" import-dengine "$G/clean" "$G/clean.rlog"
has 'exists and is not empty: refusing'
expect 3 "$RLOG" import-dengine "$G/missing" "$G/x.rlog"
has 'No such file or directory'
mkdir -p "$G/notdengine"
expect 1 "$RLOG" import-dengine "$G/notdengine" "$G/y.rlog"
has 'not a d-engine FileStorageEngine directory'

echo "tool_e2e: $checks checks, $fails failures"
[ "$fails" -eq 0 ]
