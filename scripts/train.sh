#!/usr/bin/env bash
# Train with periodic fresh-process restarts: cmd/train exits with status 3
# after -restart-after, having saved its state, and is resumed here.
# Usage: scripts/train.sh -model en-de [more cmd/train flags]
set -u
cd "$(dirname "$0")/.."
bin=${TRAIN_BIN:-runs/train-blas}
mkdir -p runs
CGO_LDFLAGS=-lopenblas go build -tags openblas -o "$bin" ./cmd/train || exit 1
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1} GOGC=${GOGC:-100}
# OpenBLAS 0.3.21 does not recognise some virtual CPUs (model name "Intel
# Xeon Processor") and falls back to its Prescott (SSE3) kernels, 5x slower
# than the AVX-512 ones on the same core. Name the kernel from the CPU's
# flags unless OPENBLAS_CORETYPE is set already.
if [ -z "${OPENBLAS_CORETYPE:-}" ]; then
  if grep -qw avx512f /proc/cpuinfo; then
    export OPENBLAS_CORETYPE=SkylakeX
  elif grep -qw avx2 /proc/cpuinfo; then
    export OPENBLAS_CORETYPE=Haswell
  fi
fi
while true; do
  "$bin" -resume -restart-after 12m "$@"
  rc=$?
  [ "$rc" -eq 3 ] || exit "$rc"
done
