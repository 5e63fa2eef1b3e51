#!/usr/bin/env bash
# What a session lent a GPU (the device tool) does with it, as one call: a task has 15 minutes of device time
# in all, and each machine start costs minutes of it.
#
#   here, once:     bash scripts/device_wheels.sh        # the wheels the device image lacks, into .whl/
#   device:         run(command="bash scripts/device_session.sh", carry=[".whl"], timeout_s=590)
#   back here:      .venv/bin/python scripts/device_import.py /work/.device/<files_at> workspace/gpu-leg
#                   .venv/bin/python -m experiments toy eval --model workspace/gpu-leg/pipeline
#
# 1. `python -m experiments bench --json`: the real 1.3B architecture with random weights on CUDA (the
#    engine's own measures need imageio-ffmpeg, whose 68 MB wheel does not travel: the bench says it skipped
#    them). 2. A toy leg on the GPU from the shipped toy: many more distinct clips than a CPU can encode, with
#    prompts that leave the clothes out (--scene-prompts), so the figure's look must come from the reference,
#    and a share of references in a frame's pose and place (--aligned-references), the easiest to read, and a
#    share of clips crossing the frame (--travel), so the figure follows each frame's skeleton.
# Everything lands in $OUT (at most 8 files come back): machine.txt, bench.json, bench.log, leg.log,
# transformer.safetensors, toy_run.json, leg_loss.csv.
#
# Locally, as a dry run of the same steps (small numbers, this machine's Python):
#   OUT=/tmp/device-out PYTHON=.venv/bin/python BENCH_ARGS=--quick LEG_STEPS=2 LEG_CLIPS=8 LEG_BATCH=2 \
#     bash scripts/device_session.sh
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-workspace/device-out}
PYTHON=${PYTHON:-python3}
RUN=${RUN:-/tmp/toy-gpu-leg}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1

if ls .whl/*.whl >/dev/null 2>&1; then
  "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    || { echo "could not install the carried wheels" | tee "$OUT/machine.txt"; exit 1; }
  export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi

{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 || echo "no nvidia-smi"
  "$PYTHON" -c "import torch, diffusers, transformers; print('torch', torch.__version__, 'diffusers', diffusers.__version__, 'transformers', transformers.__version__, 'cuda', torch.cuda.is_available())"
} > "$OUT/machine.txt" 2>&1
cat "$OUT/machine.txt"

# Each step has its own time limit so one that overruns still leaves the other's results.
timeout "${BENCH_SECONDS:-240}" "$PYTHON" -m experiments bench ${BENCH_ARGS:-} --json "$OUT/bench.json" 2>&1 \
  | tee "$OUT/bench.log"

timeout "${LEG_SECONDS:-280}" "$PYTHON" -m experiments toy train --out "$RUN" --from-shipped \
  --more "${LEG_STEPS:-3000}" --clips "${LEG_CLIPS:-6000}" --batch-size "${LEG_BATCH:-32}" \
  --learning-rate "${LEG_RATE:-3e-4}" --scene-prompts "${LEG_SCENE:-0.8}" \
  --aligned-references "${LEG_ALIGNED:-0.3}" --travel "${LEG_TRAVEL:-0.3}" 2>&1 | tee "$OUT/leg.log"
leg_status=${PIPESTATUS[0]}

# The finished leg's weights, or else its last checkpoint's: a leg cut off by its time limit still returns
# (scripts/device_import.py then records it as stopped at its last logged step).
leg=$(ls -d "$RUN"/leg-* 2>/dev/null | sort -t- -k2 -n | tail -1)
if [ "$leg_status" = 0 ]; then
  weights=$(ls "$RUN"/pipeline/transformer/*.safetensors 2>/dev/null | head -1)
else
  last=$(ls -d "$leg"/checkpoint-*/transformer 2>/dev/null | sort | tail -1)
  weights=""
  if [ -n "$last" ]; then  # checkpoints are float32: halved, as shipped weights are, to come back under 16 MiB
    rm -rf /tmp/last-checkpoint && cp -r "$last" /tmp/last-checkpoint
    "$PYTHON" -c "from engine.toy.factory.build import halve_weights; halve_weights('/tmp/last-checkpoint')"
    weights=$(ls /tmp/last-checkpoint/*.safetensors | head -1)
  fi
  echo "the leg stopped (status $leg_status): returning its last checkpoint, ${last:-none}" | tee -a "$OUT/leg.log"
fi
[ -n "$weights" ] && cp "$weights" "$OUT/transformer.safetensors"
cp "$RUN/toy_run.json" "$OUT/toy_run.json" 2>/dev/null
[ -n "$leg" ] && cp "$leg/loss.csv" "$OUT/leg_loss.csv" 2>/dev/null
ls -la "$OUT"
