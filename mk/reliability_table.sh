#!/usr/bin/env bash
# Prints the `make reliability` table from a rows file (Row<TAB>pass|FAIL<TAB>what it saw);
# exits 1 when a row failed or there is no row.
set -uo pipefail
rows=${1:?rows file}
[ -s "$rows" ] || { echo "reliability: no rows in $rows"; exit 1; }
echo
echo "## live_load reliability ($(date -u +%Y-%m-%dT%H:%MZ), SOAK_MIN=${SOAK_MIN:-30}, FUZZ_MIN=${FUZZ_MIN:-10})"
echo
echo "| fault or input | verdict | what it saw |"
echo "|---|---|---|"
awk -F'\t' '{ gsub(/\|/, "\\|", $3); printf "| %s | %s | %s |\n", $1, $2, $3 }' "$rows"
pass=$(awk -F'\t' '$2 == "pass"' "$rows" | wc -l)
fail=$(awk -F'\t' '$2 != "pass"' "$rows" | wc -l)
echo
echo "reliability: $pass rows passed, $fail failed"
[ "$fail" -eq 0 ]
