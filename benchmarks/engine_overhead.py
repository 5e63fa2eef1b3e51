"""Engine overhead and cache benefit, measured side by side in one run.

    python -m benchmarks.engine_overhead [--model tiny] [--reps 5] [--json PATH]

1. engine_overhead_ratio: Engine.generate with cold caches / a bare WanVACEPipeline call doing the same
   job by hand (load video and image with diffusers.utils, call the pipeline). Goal: <= 1.05.
2. cached_second_request_ratio: a request that differs from the previous one only in guidance_scale,
   over the first (cold) one. Prompt embeddings and VACE conditioning latents come from the caches.

Reps alternate between the two sides so machine noise hits both alike; medians are reported, and for
the overhead also the ratio of the fastest reps (least disturbed by other work on a shared machine).
On a CPU these are ratios only; absolute seconds mean something only from a GPU.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from engine import Engine  # noqa: E402
from engine.paths import ASSETS_DIR  # noqa: E402
from experiments.measure import PROMPT, measure  # noqa: E402

logger = logging.getLogger("bench")

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="tiny")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    import diffusers

    diffusers.utils.logging.set_verbosity_error()
    diffusers.utils.logging.disable_progress_bar()

    engine = Engine.from_name(args.model)
    base = engine.default_request(control_video=str(ASSETS_DIR / "pose.mp4"),
                                  reference=str(ASSETS_DIR / "reference.png"), prompt=PROMPT)
    tiers = [base] if not engine.family.small else [base, base.replace(height=256, width=448, num_frames=33)]
    rows = [measure(engine, request, args.reps) for request in tiers]

    print(f"device: {engine.device}, model: {engine.spec.name}, reps: {args.reps} (medians)")
    print(f"{'size':>14} {'steps':>5} {'bare s':>8} {'engine s':>9} {'overhead':>9} {'(min)':>6} "
          f"{'1st s':>7} {'2nd s':>7} {'2nd/1st':>8}")
    for r in rows:
        print(f"{r['size']:>14} {r['steps']:>5} {r['bare_pipeline_s']:>8.3f} {r['engine_cold_s']:>9.3f} "
              f"{r['engine_overhead_ratio']:>9.3f} {r['engine_overhead_ratio_min']:>6.3f} {r['first_request_s']:>7.3f} "
              f"{r['second_request_guidance_only_s']:>7.3f} {r['cached_second_request_ratio']:>8.3f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"device": engine.device, "model": engine.spec.name,
                                               "reps": args.reps, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
