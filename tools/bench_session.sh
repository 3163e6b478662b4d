#!/usr/bin/env bash
# The benchmark runs quoted on the docs' Benchmarks page: the machine figures, the 300-geometry
# sweep at 1 and 2 threads, six real-model shapes per op against the peers (float32 and float64,
# 1 and 2 threads), and the same float32 shapes at 2 threads under one busy process (--contend).
# Run it on a quiet machine from a venv with conv1dt installed; the peers live in an environment
# of their own (PEERS_PYTHON, default /work/peers/bin/python). Writes its outputs into the
# directory given (default: the current one). About an hour on 2 cores.
# Usage: tools/bench_session.sh [OUTDIR]
set -x

cd "${1:-.}"
uptime
python -m conv1dt.bench --machine --refresh
python -m conv1dt.bench --sweep 300 --seed 1 --threads 1,2 --csv sweep300.csv --json sweep300.json > sweep300.txt 2>&1
uptime
P=${PEERS_PYTHON:-/work/peers/bin/python}
T="--shape 16,32,512,256,16,8,1,4:4 --shape 4,3999,512,1,16,8,1,VALID --shape 1,1251,514,1,512,128,1,VALID
   --shape 4,4000,512,512,3,1,8,SAME,512 --shape 1,32,2048,1024,16,8,1,4:4 --shape 1,65536,1,1,256,4,1,SAME"
C="--shape 16,16000,1,514,512,128,1,VALID --shape 4,32000,1,512,16,8,1,VALID --shape 4,4000,512,512,3,1,8,SAME,512
   --shape 4,16000,1,512,10,5,1,VALID --shape 1,262144,1,1,1024,8,1,SAME --shape 1,3000,512,512,3,2,1,1:1"
B="--shape 16,16000,1,514,512,128,1,VALID --shape 4,32000,1,512,16,8,1,VALID --shape 4,4000,512,512,3,1,8,SAME,512
   --shape 8,2048,128,256,16,8,1,4:4 --shape 8,800,256,256,33,1,1,SAME,256 --shape 4,16000,1,512,10,5,1,VALID"
for run in "conv1d_transpose t $T" "conv1d c $C" "conv1d_backprop_filter b $B"; do
    set -- $run
    op=$1 tag=$2
    shift 2
    # shellcheck disable=SC2068
    python -m conv1dt.bench --op "$op" --only --dtype float32 float64 --threads 1,2 --rounds 2 \
        --peers-python "$P" $@ --json "peers_$tag.json" > "peers_$tag.txt" 2>&1
    uptime
    # shellcheck disable=SC2068
    python -m conv1dt.bench --op "$op" --only --dtype float32 --threads 2 --rounds 2 --contend \
        --peers-python "$P" $@ --json "contend_$tag.json" > "contend_$tag.txt" 2>&1
    uptime
done
