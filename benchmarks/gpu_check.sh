#!/usr/bin/env bash
# One check for a machine with a CUDA GPU, under 10 minutes: the CUDA-marked tests, then
# HybridSN's epoch and map seconds on Indian Pines in fp32, bf16 and fp16.
#   bash benchmarks/gpu_check.sh [DATA_DIR]   (DATA_DIR: folder with the Indian Pines .mat files)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
DATA=${1:-../shared/datasets/indian_pines}
nvidia-smi --query-gpu=name,compute_cap,memory.total --format=csv || true
"$PY" -c "import torch; assert torch.cuda.is_available(), 'no CUDA device here'; print(torch.__version__, torch.cuda.get_device_name())"
timeout 240 "$PY" -m pytest -q -m cuda tests
timeout 300 "$PY" benchmarks/hsi_speed.py --device cuda --precisions bf16,fp16 --epochs 2 --data-dir "$DATA"
