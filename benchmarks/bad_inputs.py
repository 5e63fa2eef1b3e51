"""Bad inputs, one table: what each gets through the API (the page's own endpoints, as the browser calls them)
and the CLI, and how soon the lab serves the next request.

    python -m benchmarks.bad_inputs [--model toy] [--json PATH]

The lab runs in this process as `python app.py` builds it (the queue on), on a free local port. After every
bad input the next request is a valid "Inspect inputs" of the sample: its seconds say the lab still serves. A
CLI case runs `python -m experiments ...` as a separate process, as a student types it (its reason is the one
"error:" line on stderr, after any log lines). Each row records the answer, whether it was one line, whether a
traceback showed, and the server process's memory after it.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

logger = logging.getLogger("benchmarks.bad_inputs")
REPO = Path(__file__).resolve().parents[1]

from benchmarks.memory import resident_mb  # noqa: E402 - after HF_HUB_OFFLINE is set, as memory.py sets it too


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def bad_files(folder: Path) -> dict:
    """Files a student might pick by mistake."""
    import imageio_ffmpeg

    (folder / "notes.txt").write_text("not a video")
    (folder / "broken.mp4").write_bytes(b"\x00\x01 definitely not an mp4")
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    (folder / "weights.bin").write_bytes(b"\x80\x04 a pickle")
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "lavfi", "-i",
                    "color=c=black:s=64x64:r=16", "-frames:v", "0", "-c:v", "libx264", str(folder / "zero.mp4")],
                   check=True)
    return {name: folder / name for name in ("notes.txt", "broken.mp4", "broken.png", "weights.bin", "zero.mp4")}


def api_cases(files: dict, sample: dict) -> list[tuple[str, str, dict]]:
    """(kind, endpoint, values): values go with the sample's own inputs (handle_file applied later)."""
    return [
        ("text file as the control video", "/inspect", {"control_video": files["notes.txt"]}),
        ("corrupt video", "/inspect", {"control_video": files["broken.mp4"]}),
        ("video with no frames", "/inspect", {"control_video": files["zero.mp4"]}),
        ("corrupt reference image", "/inspect", {"reference": files["broken.png"]}),
        ("100001 frames", "/generate", {"num_frames": 100001}),
        ("100001 frames, inspect only", "/inspect", {"num_frames": 100001}),
        ("height 4096", "/generate", {"height": 4096}),
        ("width 7", "/generate", {"width": 7}),
        ("0 steps", "/generate", {"num_inference_steps": 0}),
        ("guidance -3", "/generate", {"guidance_scale": -3}),
        ("fps 0", "/generate", {"fps": 0}),
        ("sigmas that are not numbers", "/generate", {"sigmas": "0.9, lots, 0.1"}),
        ("a pickled LoRA file", "/generate", {"lora": str(files["weights.bin"])}),
        ("a LoRA path that does not exist", "/generate", {"lora": "/nowhere/none.safetensors"}),
        ("window frames 3", "/generate", {"window_frames": 3, "num_frames": 33}),
    ]


def sweep_cases() -> list[tuple[str, str, dict]]:
    return [
        ("a sweep axis value that is not a number", "/sweep_plan",
         {"preset": "(custom)", "x_field": "guidance_scale", "x_values": "3, x"}),
        ("a sweep of 10,000 cells", "/sweep_plan",
         {"preset": "(custom)", "x_field": "seed", "x_values": "1-100", "y_field": "guidance_scale",
          "y_values": "1-100"}),
    ]


def cli_cases(files: dict, sample: dict, out: Path) -> list[tuple[str, list[str]]]:
    generate = ["generate", "--model", "toy", "--control", sample["control_video"], "--reference", sample["reference"],
                "--prompt", sample["prompt"], "--out", str(out / "cli")]
    return [
        ("text file as the control video", ["generate", "--control", str(files["notes.txt"]), "--reference",
                                            sample["reference"], "--prompt", "x", "--out", str(out / "cli")]),
        ("corrupt reference image", ["generate", "--control", sample["control_video"], "--reference",
                                     str(files["broken.png"]), "--prompt", "x", "--out", str(out / "cli")]),
        ("100001 frames", generate + ["--set", "num_frames=100001"]),
        ("a setting that does not exist", generate + ["--set", "frames=9"]),
        ("a pickled LoRA file", generate + ["--lora", str(files["weights.bin"])]),
        ("a sweep axis value that is not a number", ["sweep", "--model", "toy", "--out", str(out / "sweep"), "--x",
                                                     "num_inference_steps=oops", "--dry-run"]),
        ("pose from a corrupt video", ["pose", str(files["broken.mp4"]), "--out", str(out / "pose")]),
        ("training on a folder with no clips", ["train", "self-attention", "--model", "toy", "--data",
                                                str(out / "empty"), "--out", str(out / "train")]),
    ]


def first_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def run_api(client, endpoint: str, values: dict) -> tuple[str, bool, float]:
    from gradio_client.exceptions import AppError

    started = time.perf_counter()
    try:
        result = client.predict(**values, api_name=endpoint)
        answer, failed = str(result)[:200], False
    except AppError as err:
        answer, failed = str(err), True
    return answer, failed, time.perf_counter() - started


def with_files(values: dict) -> dict:
    from gradio_client import handle_file

    return {name: handle_file(str(value)) if name in ("reference", "control_video") else value
            for name, value in values.items()}


def measure(model: str) -> dict:
    from gradio_client import Client

    from app import build_app, launch_options
    from engine.engine import Engine

    engine = Engine.from_name(model)
    engine.load()
    sample = engine.sample_inputs()
    demo = build_app(engine)
    port = free_port()
    demo.queue(default_concurrency_limit=1).launch(server_name="127.0.0.1", server_port=port,
                                                   prevent_thread_lock=True, quiet=True, **launch_options())
    client = Client(f"http://127.0.0.1:{port}/", verbose=False)
    base = {"reference": sample["reference"], "control_video": sample["control_video"], "prompt": sample["prompt"]}
    valid = with_files(base)
    run_api(client, "/inspect", valid)  # warm: the first inspection loads what later ones reuse
    idle_mb = resident_mb()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "empty").mkdir()
        files = bad_files(tmp)
        for kind, endpoint, values in api_cases(files, sample) + sweep_cases():
            payload = with_files({**base, **values}) if endpoint != "/sweep_plan" else values
            answer, failed, seconds = run_api(client, endpoint, payload)
            _, next_failed, next_seconds = run_api(client, "/inspect", valid)
            rows.append({"channel": "API (the page's endpoint " + endpoint + ")", "kind": kind, "refused": failed,
                         "answer": first_line(answer), "one_line": len(answer.strip().splitlines()) == 1,
                         "traceback": "Traceback" in answer, "seconds": round(seconds, 2),
                         "next_request_ok": not next_failed, "next_request_seconds": round(next_seconds, 2),
                         "server_mb_after": round(resident_mb())})
            logger.info("%s: %s", kind, rows[-1]["answer"])
        for kind, command in cli_cases(files, sample, tmp):
            started = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "experiments", *command], cwd=REPO, capture_output=True,
                                  text=True, timeout=600)
            seconds = time.perf_counter() - started
            _, next_failed, next_seconds = run_api(client, "/inspect", valid)
            # The CLI logs what it loads (the engine's banner) on stderr too: the reason is its "error:" line.
            reasons = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
            rows.append({"channel": "CLI", "kind": kind, "refused": proc.returncode != 0,
                         "answer": reasons[0] if reasons else first_line(proc.stderr), "one_line": len(reasons) == 1,
                         "traceback": "Traceback" in proc.stderr, "exit_code": proc.returncode,
                         "seconds": round(seconds, 2), "next_request_ok": not next_failed,
                         "next_request_seconds": round(next_seconds, 2), "server_mb_after": round(resident_mb())})
            logger.info("%s (CLI): %s", kind, rows[-1]["answer"])
    demo.close()
    return {"model": model, "server_idle_mb": round(idle_mb), "rows": rows}


def table(result: dict) -> str:
    lines = ["| channel | bad input | answer | one line | next request (s) | server MB after |", "|---|---|---|---|---|---|"]
    for row in result["rows"]:
        ok = "yes" if row["one_line"] and not row["traceback"] else "NO"
        served = f"{row['next_request_seconds']:.1f}" if row["next_request_ok"] else "FAILED"
        lines.append(f"| {row['channel']} | {row['kind']} | {row['answer'][:140]} | {ok} | {served} |"
                     f" {row['server_mb_after']} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="toy")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    result = measure(args.model)
    logger.info("server idle: %s MB\n%s", result["server_idle_mb"], table(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
