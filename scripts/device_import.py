"""Turn what scripts/device_session.sh brought back from a GPU machine into a toy run folder here.

    .venv/bin/python scripts/device_import.py FILES_AT RUN_DIR

FILES_AT is the folder the device tool copied $OUT into (transformer.safetensors, toy_run.json,
leg_loss.csv, ...). RUN_DIR becomes a finished run: the shipped toy with the GPU leg's transformer weights,
the run record listing that leg, and its loss log, so that

    .venv/bin/python -m experiments toy eval --model RUN_DIR/pipeline      scores it on held-out clips
    .venv/bin/python -m experiments toy train --out RUN_DIR --ship         ships it with its model card
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def import_leg(files_at: Path, run_dir: Path) -> Path:
    from engine.toy.factory.build import start_from_shipped
    from engine.toy.family import TOY_DIR

    record_path, weights = files_at / "toy_run.json", files_at / "transformer.safetensors"
    for path in (record_path, weights):
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing: did the device run reach its toy leg? (see leg.log)")
    record = json.loads(record_path.read_text())
    shipped = json.loads((TOY_DIR / "toy_run.json").read_text())
    if len(record.get("legs", [])) <= len(shipped.get("legs", [])):
        raise ValueError("the run record lists no new leg: the leg stopped before it finished (leg.log says where); "
                         "transformer.safetensors then holds its last checkpoint, to be judged by hand")
    final = start_from_shipped(run_dir)
    shutil.copy(weights, final / "transformer" / "diffusion_pytorch_model.safetensors")
    for target in (run_dir / "toy_run.json", final / "toy_run.json"):
        target.write_text(json.dumps(record, indent=2) + "\n")
    if (files_at / "leg_loss.csv").is_file():
        leg_dir = run_dir / f"leg-{len(record['legs'])}"
        leg_dir.mkdir(exist_ok=True)
        shutil.copy(files_at / "leg_loss.csv", leg_dir / "loss.csv")
    return final


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    try:
        final = import_leg(Path(argv[0]), Path(argv[1]))
    except (OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    leg = json.loads((final / "toy_run.json").read_text())["legs"][-1]
    print(f"{final}: leg of {leg['steps']} steps over {leg['clips']} clips on {leg.get('device', '?')}")
    print(f"next: .venv/bin/python -m experiments toy eval --model {final}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
