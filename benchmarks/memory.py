"""The server's memory around a large request: idle, at its peak during, and after.

    python -m benchmarks.memory [--model toy] [--json PATH]

The engine first makes the sample (the idle size of a server that has generated once). Then the largest
inspection the model's limits allow (max_frames at max_side x max_side: what "Inspect inputs" reads), and a
long generation (max_frames at 160x288, one unguided step per window, to keep it minutes on a CPU). The
process's resident memory is sampled every 50 ms; "after" is read once each request has returned.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import threading
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

logger = logging.getLogger("benchmarks.memory")


def resident_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class PeakSampler:
    """The highest resident memory seen while a block runs."""

    def __enter__(self):
        self.peak, self._running = resident_mb(), True
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while self._running:
            self.peak = max(self.peak, resident_mb())
            time.sleep(0.05)

    def __exit__(self, *exc):
        self._running = False
        self._thread.join()


def measure(model: str) -> dict:
    from engine.engine import Engine

    engine = Engine.from_name(model)
    sample = engine.default_request(**engine.sample_inputs())
    engine.generate(sample)
    spec = engine.spec
    largest = sample.replace(num_frames=spec.max_frames, height=spec.max_side, width=spec.max_side)
    long = sample.replace(num_frames=spec.max_frames, height=160, width=288, num_inference_steps=1,
                          guidance_scale=1.0)
    report = {"model": model, "idle_mb": round(resident_mb())}
    for name, run in (("inspect_largest", lambda: engine.inspect(largest)), ("generate_long", lambda: engine.generate(long))):
        with PeakSampler() as sampler:
            started = time.perf_counter()
            run()
        report[name] = {"peak_mb": round(sampler.peak), "after_mb": round(resident_mb()),
                        "seconds": round(time.perf_counter() - started, 1)}
        logger.info("%s: %s", name, report[name])
    report["largest_request"] = {"frames": largest.num_frames, "height": largest.height, "width": largest.width}
    report["long_request"] = {"frames": long.num_frames, "height": long.height, "width": long.width}
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="toy")
    parser.add_argument("--json", help="write the report here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    report = measure(args.model)
    text = json.dumps(report, indent=2)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
    logger.info("%s", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
