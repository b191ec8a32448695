#!/bin/bash
# bench_speed and bench_peer before (the worktree BEFORE) and after (this tree), alternating, 3 runs each, into OUT.
set -e
OUT=$(realpath -m "$OUT")
mkdir -p "$OUT"
for round in 1 2 3; do
  for side in before after; do
    if [ $side = before ]; then root=${BEFORE:?a worktree of the commit to compare with}; else root=$(git rev-parse --show-toplevel); fi
    (cd $root && PYTHONPATH=$root python scripts/bench_speed.py --widths 64 --points 8192 --dtypes float32 --rounds 10 --out $OUT/speed_${side}_${round}.json > $OUT/speed_${side}_${round}.log 2>&1)
    (cd $root && PYTHONPATH=$root python scripts/bench_peer.py --rounds 15 --out $OUT/peer_${side}_${round}.json > $OUT/peer_${side}_${round}.log 2>&1)
  done
done
echo done > $OUT/DONE
