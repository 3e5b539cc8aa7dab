#!/usr/bin/env bash
# Train with periodic fresh-process restarts: cmd/train exits with status 3
# after -restart-after, having saved its state, and is resumed here.
# Usage: scripts/train.sh -model en-de [more cmd/train flags]
set -u
cd "$(dirname "$0")/.."
bin=${TRAIN_BIN:-runs/train-blas}
mkdir -p runs
CGO_LDFLAGS=-lopenblas go build -tags openblas -o "$bin" ./cmd/train || exit 1
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1} GOGC=${GOGC:-off}
while true; do
  "$bin" -resume -restart-after 12m "$@"
  rc=$?
  [ "$rc" -eq 3 ] || exit "$rc"
done
