"""Does the toy's figure travel with a skeleton that crosses the frame? The eval's unseen walk, drawn two ways
(cv2 sticks, as in `toy eval`, and the lab's own renderer the model was trained on) at two speeds (4 pixels a
frame, faster than any training walk, and 2, inside the world's 1-2.5), with the figure's speed read against
the background the model drew. A figure that sits still reads near 0 whatever the drawing. Also printed: the
figure pixels more than 6 px off each frame's skeleton, in the first and second half of the clip (a copy of
the figure left behind along the path, which pulls the measured speed down).

    python -m research.toy_walk [--model toy] [--out toy-walk.png]

Writes a strip image per variant (generated over pose; frames 0, 8, 16).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def variants():
    from engine.toy.factory import walk
    from engine.toy import world

    for speed, start in ((4.0, 40.0), (2.0, 80.0)):
        keypoints = walk.walk_keypoints(world.NUM_FRAMES, speed, start)
        hips = walk.hip_x(keypoints)
        yield f"cv2 sticks, {speed:g} px/frame", walk.stick_walk(speed=speed, start=start)[0], hips
        yield f"lab renderer, {speed:g} px/frame", world.draw_pose_video(keypoints, world.HEIGHT, world.WIDTH), hips


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="toy", help="a model name, or a toy run's pipeline folder")
    parser.add_argument("--out", default="toy-walk.png")
    args = parser.parse_args()

    import numpy as np
    from PIL import Image

    from engine.toy.factory import walk
    from engine.toy.factory.build import engine_for

    engine = engine_for(args.model)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, video, hips in variants():
            frames, sample = walk.generate_walk(engine, Path(tmp), video)
            result = walk.walk_speeds(frames, sample, video, hips)
            trail = walk.trail_pixels(frames, sample.background, video)
            half = len(trail) // 2
            print(f"{name}: figure {result.get('figure_px_per_frame', float('nan')):+.2f} px/frame, "
                  f"skeleton {result.get('skeleton_px_per_frame', float('nan')):+.2f}, "
                  f"ratio {result.get('speed_ratio')}; figure pixels over 6 px off the skeleton, frames "
                  f"0-{half} / {half + 1}-{len(trail) - 1}: {sum(trail[:half + 1])} / {sum(trail[half + 1:])}")
            rows.append(np.concatenate([np.concatenate([frames[i], video[i]]) for i in (0, 8, 16)], axis=1))
    Image.fromarray(np.concatenate(rows)).save(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
