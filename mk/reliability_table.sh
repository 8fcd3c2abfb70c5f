#!/usr/bin/env bash
# Prints the `make reliability' table: one line per row of the issue (mk/reliability_rows.tsv),
# from the rows files of a run (DIR/*.tsv, lines `Row<TAB>pass|FAIL<TAB>what it saw', one file per
# suite). Several lines of one row are merged into its cell (each prefixed by what it is: the rest
# of its name, or its suite); a row's verdict is pass only when every line of it passed, and a row
# no test wrote is `not run'. A line of no row is listed after them. Exits 1 when a row did not pass.
set -uo pipefail
dir=${1:?rows directory}
rows=$(dirname "$0")/reliability_rows.tsv
shopt -s nullglob
files=("$dir"/*.tsv)
[ ${#files[@]} -gt 0 ] || { echo "reliability: no rows in $dir (run make reliability)"; exit 1; }
started=$(head -1 "$dir/started" 2>/dev/null || echo "?")
load0=$(sed -n 2p "$dir/started" 2>/dev/null || echo "?")
load1=$(cat "$dir/ended" 2>/dev/null || echo "?")
echo
echo "## live_load reliability (started $started, SOAK_MIN=${SOAK_MIN:-30}, FUZZ_MIN=${FUZZ_MIN:-10}; load average $load0 at the start, $load1 at the end)"
echo
echo "| fault or input | what must hold | verdict | what it saw |"
echo "|---|---|---|---|"
for f in "${files[@]}"; do
  src=$(basename "$f" .tsv); src=${src#live_load_}; src=${src%_SUITE}
  awk -F'\t' -v src="$src" 'NF >= 3 { print src "\t" $0 }' "$f"
done | awk -F'\t' -v rowsfile="$rows" -v soak="${SOAK_MIN:-30}" -v fuzz="${FUZZ_MIN:-10}" '
  BEGIN {
    n = 0
    while ((getline line < rowsfile) > 0) {
      if (line ~ /^#/ || line == "") continue
      split(line, f, "\t"); n++
      pat[n] = f[1]; label[n] = f[2]; must[n] = f[3]
      gsub(/SOAK_MIN/, soak, label[n]); gsub(/FUZZ_MIN/, fuzz, label[n])
    }
  }
  function esc(s) { gsub(/\|/, "\\|", s); return s }
  {
    src = $1; name = $2; verdict = $3; saw = $4
    for (i = 1; i <= n; i++) if (match(name, pat[i])) break
    if (i > n) { extra[++nx] = "| " esc(name) " | (not a row of the issue) | " verdict " | " esc(saw) " |"; bad += verdict != "pass"; next }
    rest = name
    if (RSTART == 1) rest = substr(name, RLENGTH + 1)
    if (rest == "") rest = src
    count[i]++; names[i, count[i]] = name; saws[i, count[i]] = saw; parts[i, count[i]] = rest ": " saw
    if (verdict != "pass") failed[i] = 1
  }
  END {
    for (i = 1; i <= n; i++) {
      if (count[i] == 0) { print "| " esc(label[i]) " | " esc(must[i]) " | not run | no test wrote this row |"; bad++; continue }
      if (count[i] == 1) { shown = names[i, 1]; cell = saws[i, 1] }
      else { shown = label[i]; cell = parts[i, 1]; for (k = 2; k <= count[i]; k++) cell = cell "<br>" parts[i, k] }
      v = failed[i] ? "FAIL" : "pass"; bad += failed[i] ? 1 : 0; ok += failed[i] ? 0 : 1
      print "| " esc(shown) " | " esc(must[i]) " | " v " | " esc(cell) " |"
    }
    for (k = 1; k <= nx; k++) print extra[k]
    printf "\nreliability: %d of %d rows passed, %d did not\n", ok + 0, n, bad + 0
    exit bad > 0
  }'
