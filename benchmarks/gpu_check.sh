#!/usr/bin/env bash
# GPU smoke check: the transformers brain (tiny thinker, CUDA bf16, streaming + cancellation) and
# faster-whisper on CUDA. Needs a CUDA machine; not part of `make test`. Usage: benchmarks/gpu_check.sh [venv]
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${1:-.venv}"
if [ -z "${1:-}" ] && python3 -c "import torch, transformers, tokenizers" 2>/dev/null; then
  PY=python3  # a GPU image that already holds CUDA torch and transformers (no registry needed)
else
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  PY="$VENV/bin/python"
  if ! "$PY" -c "import torch, transformers, faster_whisper, hibari" 2>/dev/null; then
    "$PY" -m pip install -q -e '.[gpu]'
  fi
fi
exec timeout 170 "$PY" -m benchmarks.gpu_check
