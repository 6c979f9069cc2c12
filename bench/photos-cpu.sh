#!/usr/bin/env bash
# CPU and wall time per photo of `fer predict DIR --json`, builds interleaved (A B A B …): user + sys of the folder
# run less that of a run on its first photo (start-up: models, sessions), over the other photos. CPU per photo holds
# up on a loaded machine better than images/s. DIR: e.g. the 640×480 folder bench/photos.ts writes.
#   ROUNDS=3 [ARGS="--detector auto"] bash bench/photos-cpu.sh DIR label=path/to/bin/fer …
set -euo pipefail
dir=${1:?usage: photos-cpu.sh DIR label=bin …}; shift
first=$(ls "$dir" | head -1); n=$(ls "$dir" | wc -l); t=$(mktemp)
for r in $(seq "${ROUNDS:-3}"); do
  for lb in "$@"; do
    l=${lb%%=*}; b=${lb#*=}
    # shellcheck disable=SC2086
    /usr/bin/time -f "%e %U %S" -o "$t" node "$b" predict "$dir/$first" --json ${ARGS:-} >/dev/null; read -r w0 u0 s0 <"$t"
    # shellcheck disable=SC2086
    /usr/bin/time -f "%e %U %S" -o "$t" node "$b" predict "$dir" --json ${ARGS:-} >"$t.json"; read -r w u sy <"$t"
    f=$(python3 -c "import json,sys;print(sum(len(json.loads(l)['faces']) for l in open(sys.argv[1])))" "$t.json")
    python3 -c "import sys;n,w,w0,c,c0=map(float,sys.argv[1:6]);print(f'round $r | $l | faces $f | images/s {(n-1)/(w-w0):.1f} | CPU ms per photo {1000*(c-c0)/(n-1):.0f} | load $(cut -d' ' -f1 /proc/loadavg)')" \
      "$n" "$w" "$w0" "$(python3 -c "print($u+$sy)")" "$(python3 -c "print($u0+$s0)")"
  done
done
rm -f "$t" "$t.json"
