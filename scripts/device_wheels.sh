#!/usr/bin/env bash
# The Python packages scripts/device_session.sh needs that the GPU machine's image lacks (its package list:
# /work/.library/device/KINDS.md), as wheels for its Python 3.12, into .whl/ (ignored by git; carried by the
# device tool with carry=[".whl"]). imageio-ffmpeg (68 MB) is left out: the bench then skips the engine's
# measures that read the sample video, and says so.
set -euo pipefail
cd "$(dirname "$0")/.."
grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo /.whl/ >> .git/info/exclude
mkdir -p .whl
python=${PYTHON:-.venv/bin/python}
"$python" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d .whl \
  diffusers==0.42.1 importlib_metadata==8.7.0
ls -la .whl
