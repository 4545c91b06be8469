#!/usr/bin/env bash
# Every bug of the catalogue (config/bugs.def) has a site in the code and a
# scenario, and every site names a catalogued bug:
#   - each id 1..25 appears as INJECT(id) in server/, cache/ or config/;
#   - the file the catalogue names as the site holds INJECT(id) and a
#     "BUG id" comment saying what is wrong ("Control id" for 16, 24);
#   - no INJECT(x) / INJECT_SELECTED(x) names an id outside the catalogue,
#     and x is a literal number;
#   - loadtest/bugs/NN.sh exists for every id and defines `scenario`.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 2
fail=0
bad() { echo "FAIL: $*"; fail=1; }

ids=$(grep -oE '^BUG\([0-9]+,' config/bugs.def | grep -oE '[0-9]+' | sort -n | tr '\n' ' ')
[ "$(echo "$ids" | wc -w)" -eq 25 ] || bad "the catalogue lists $(echo "$ids" | wc -w) bugs, not 25: $ids"
[ "$ids" = "$(seq 1 25 | tr '\n' ' ')" ] || bad "catalogue ids are not 1..25 in order: $ids"

sources=$(find server cache config proto -name '*.[ch]' ! -name inject.h | sort)
# every use of the switch, as file:line:text
uses=$(grep -nE 'INJECT(_SELECTED)?\(' $sources)
while IFS= read -r use; do
    [ -n "$use" ] || continue
    arg=$(printf '%s' "$use" | grep -oE 'INJECT(_SELECTED)?\([^)]*\)' | head -1 | sed -E 's/.*\(([^)]*)\)/\1/')
    case $arg in
        ''|*[!0-9]*) bad "a site must name its bug by a literal number: $use" ;;
        *) [ "$arg" -ge 1 ] && [ "$arg" -le 25 ] || bad "a site names bug $arg, not in the catalogue: $use" ;;
    esac
done <<< "$uses"

for id in $ids; do
    n=$(printf '%s\n' "$uses" | grep -cE "INJECT\($id\)")
    [ "$n" -ge 1 ] || { bad "bug $id has no site (no INJECT($id) in server/ cache/ config/)"; continue; }
    # the catalogue's site: "file.c: ..." (first field of the row's site string)
    site=$(awk -v id="$id" '
        $0 ~ "^BUG\\(" id "," { row = 1; next }
        row && /"/ { n++; if (n == 1) { match($0, /"[a-z]+(\/[a-z]+)?\/[a-z_]+\.[ch]/); print substr($0, RSTART + 1, RLENGTH - 1); exit } }
    ' config/bugs.def)
    if [ -z "$site" ] || [ ! -f "$site" ]; then
        bad "bug $id: the catalogue's site '$site' is not a file"
    else
        grep -qE "INJECT\($id\)" "$site" || bad "bug $id: the catalogue says $site, which has no INJECT($id)"
        # a bug says what is wrong ("BUG 13 (...)"); a control why it is right ("Control 16")
        grep -qE "(BUG|Control|CONTROL) $id\b" "$site" || bad "bug $id: no 'BUG $id' comment in $site saying what is wrong"
    fi
    scen=$(printf "loadtest/bugs/%02d.sh" "$id")
    if [ ! -f "$scen" ]; then
        bad "bug $id has no scenario $scen"
    else
        grep -qE '^scenario\(\)' "$scen" || bad "$scen does not define scenario()"
    fi
done

[ "$fail" -eq 0 ] && echo "bug sites: 25 bugs, $(printf '%s\n' "$uses" | grep -c .) sites, every one catalogued, every bug with a site and a scenario"
exit "$fail"
