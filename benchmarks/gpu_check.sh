#!/usr/bin/env bash
# GPU figures (inference with the bundled speech model; CPU folder throughput of --jobs 2 against --jobs 1;
# training throughput of the MNIST and speech recipes,
# and MNIST test PSNR after 60 s of training) on a machine with a CUDA GPU and PyTorch already installed
# (torch and torchaudio). Python packages sigdae needs that such a machine may lack travel as
# wheels in .whl/ at the repository root; make them where pip can reach PyPI, for the GPU machine's Python
# (3.12 here, x86-64):
#
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
#     -d .whl soundfile cffi pycparser tomli-w
#
# Then run this script there from the repository root. It installs those wheels and sigdae itself (no
# dependencies) into a scratch folder, makes a 10-minute file and 500 short files, and writes
# gpu_check.json and gpu_check.txt to $OUT (default: ./gpu-check-out). It takes about 8 minutes
# (--mnist-seconds 0 --speech-seconds 0 leave training out: about 3).
#
#   OUT=figures bash benchmarks/gpu_check.sh [--device cuda:0] [--minutes 10] [--files 500]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-gpu-check-out}"
SITE="${SIGDAE_SITE:-$(mktemp -d)}"   # sigdae and the carried wheels
DATA="${DATA:-$(mktemp -d)}"          # the test audio: 500 files, kept out of $OUT
PYTHON="${PYTHON:-python3}"

mkdir -p "$OUT" "$SITE"
if compgen -G ".whl/*.whl" >/dev/null; then
  "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" .whl/*.whl
fi
# sigdae without its dependencies: torch and torchaudio are the machine's own
"$PYTHON" -m pip install -q --no-index --no-deps --no-build-isolation --no-cache-dir --upgrade --target "$SITE" .
export PYTHONPATH="$SITE${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1

# run from outside the repository, so that the installed sigdae (with sigdae.assets) is the one imported
REPO="$PWD"
case "$OUT" in /*) ;; *) OUT="$REPO/$OUT" ;; esac
case "$PYTHON" in /*) ;; */*) PYTHON="$REPO/$PYTHON" ;; esac
cd "$DATA"
"$PYTHON" -c "import torch; assert torch.cuda.is_available(), 'no CUDA GPU here'; print(torch.cuda.get_device_name())" \
  || { [[ " $* " == *" --device cpu "* ]] || exit 1; }
"$PYTHON" "$REPO/benchmarks/gpu_check.py" --out "$OUT" --data "$DATA" "$@" 2>&1 | tee "$OUT/gpu_check.log"
