"""Make the sample files in assets/: a reference picture and a short procedurally animated skeleton video.

Run once (`python scripts/make_assets.py`); the outputs are committed so the app's examples work offline.
The skeleton uses OpenPose-18 joint order and the OpenPose/DWPose limb colours on black, the style
Wan-VACE saw in training. The figure dances: arms swing, hips sway, one knee lifts.
"""

import math
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from engine.pose.render import BODY_COLOURS, BODY_LIMBS  # noqa: E402

ASSETS = Path(__file__).resolve().parent.parent / "assets"
FPS, SECONDS = 16, 3
WIDTH, HEIGHT = 832, 480

# OpenPose-18: 0 nose, 1 neck, 2-4 right arm, 5-7 left arm, 8-10 right leg, 11-13 left leg, 14-17 eyes/ears.
# The limb order and colours are the renderer's (engine/pose/render.py).
LIMBS, COLOURS = BODY_LIMBS, BODY_COLOURS


def dancer_keypoints(t: float) -> list[tuple[float, float]]:
    """Joint positions (pixels) at time t seconds."""
    cx = WIDTH / 2 + 40 * math.sin(2 * math.pi * 0.5 * t)
    sway = 12 * math.sin(2 * math.pi * 1.0 * t)
    neck = (cx + sway, 130)
    nose = (neck[0], 92)
    arm_r = math.radians(200 + 50 * math.sin(2 * math.pi * 1.0 * t))
    arm_l = math.radians(-20 - 50 * math.sin(2 * math.pi * 1.0 * t + 0.8))

    def arm(shoulder, angle, bend):
        elbow = (shoulder[0] + 55 * math.cos(angle), shoulder[1] - 55 * math.sin(angle))
        wrist = (elbow[0] + 50 * math.cos(angle + bend), elbow[1] - 50 * math.sin(angle + bend))
        return elbow, wrist

    r_sh, l_sh = (neck[0] - 40, neck[1] + 5), (neck[0] + 40, neck[1] + 5)
    r_el, r_wr = arm(r_sh, arm_r, -0.6)
    l_el, l_wr = arm(l_sh, arm_l, 0.6)
    r_hip, l_hip = (cx - 25, 265), (cx + 25, 265)
    lift = max(0.0, math.sin(2 * math.pi * 0.75 * t)) * 45
    r_knee, r_ank = (r_hip[0] - 8, 345 - lift), (r_hip[0] - 12, 425 - lift * 0.4)
    l_knee, l_ank = (l_hip[0] + 8, 345), (l_hip[0] + 12, 425)
    eyes = [(nose[0] - 8, nose[1] - 8), (nose[0] + 8, nose[1] - 8)]
    ears = [(nose[0] - 18, nose[1] - 2), (nose[0] + 18, nose[1] - 2)]
    return [nose, neck, r_sh, r_el, r_wr, l_sh, l_el, l_wr, r_hip, r_knee, r_ank, l_hip, l_knee, l_ank,
            eyes[0], eyes[1], ears[0], ears[1]]


def draw_skeleton(points) -> np.ndarray:
    image = Image.new("RGB", (WIDTH, HEIGHT), (0, 0, 0))
    draw = ImageDraw.Draw(image)
    for index, (a, b) in enumerate(LIMBS):
        colour = tuple(int(c * 0.6) for c in COLOURS[index])
        draw.line([points[a], points[b]], fill=colour, width=8)
    for index, (x, y) in enumerate(points):
        draw.ellipse([x - 4, y - 4, x + 4, y + 4], fill=COLOURS[index])
    return np.asarray(image)


def make_pose_video(path: Path):
    import imageio.v2 as imageio

    frames = [draw_skeleton(dancer_keypoints(i / FPS)) for i in range(FPS * SECONDS + 1)]
    writer = imageio.get_writer(str(path), format="ffmpeg", fps=FPS, codec="libx264", quality=8,
                                pixelformat="yuv420p", macro_block_size=1, ffmpeg_log_level="error")
    for frame in frames:
        writer.append_data(frame)
    writer.close()


def make_reference(path: Path):
    """A portrait-format picture of a simple standing figure: letterboxing keeps its head and feet."""
    width, height = 360, 640
    image = Image.new("RGB", (width, height), (214, 226, 240))
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 520, width, height], fill=(170, 150, 130))  # floor
    skin, shirt, jeans, shoes = (160, 110, 80), (30, 30, 34), (40, 55, 90), (225, 210, 180)
    draw.ellipse([150, 40, 210, 110], fill=skin)  # head
    draw.rectangle([150, 32, 210, 58], fill=(20, 15, 10))  # hair
    draw.rectangle([120, 118, 240, 300], fill=shirt)  # torso
    draw.rectangle([92, 122, 122, 290], fill=shirt)
    draw.rectangle([238, 122, 268, 290], fill=shirt)  # arms
    draw.rectangle([130, 300, 178, 560], fill=jeans)
    draw.rectangle([182, 300, 230, 560], fill=jeans)  # legs
    draw.rectangle([120, 560, 180, 585], fill=shoes)
    draw.rectangle([180, 560, 242, 585], fill=shoes)  # feet
    image.save(path)


def make_person_clip(path: Path):
    """A driving clip with a real person for the Pose tab's sample: the public-domain portrait of Grace
    Hopper that ships with matplotlib, drifting across the frame and coming closer over two seconds."""
    import matplotlib.cbook

    from engine.media import write_mp4

    photo = Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).convert("RGB")
    width, height, count = 480, 360, 2 * FPS + 1
    frames = []
    for index in range(count):
        t = index / (count - 1)
        scale = 0.45 + 0.12 * t
        sized = photo.resize((int(photo.width * scale), int(photo.height * scale)), Image.BILINEAR)
        canvas = Image.new("RGB", (width, height), (58, 62, 70))
        left = int((width - sized.width) / 2 + 110 * math.sin(math.pi * (t - 0.5)))
        canvas.paste(sized, (left, height - sized.height + int(8 * math.sin(4 * math.pi * t))))
        frames.append(np.asarray(canvas))
    write_mp4(np.stack(frames), path, FPS)


# A held-out clip (the toy model never trained on it): a dance in high-contrast colours.
TOY_SAMPLE_SEED = 1_000_594


def make_toy_sample(folder: Path):
    """The toy model's one-click sample: a puppet-world clip with its pose video, reference and a prompt that names
    only the action and the floor, so the reference decides the clothes; and the same figure in another costume
    (reference-2.png), the second sample, which shows the reference at work."""
    from PIL import Image

    from engine.toy import world
    from engine.toy.factory.evaluate import other_look

    sample = world.make_sample(TOY_SAMPLE_SEED)
    world.write_sample(sample, folder)
    (folder / "prompt.txt").write_text(world.scene_prompt(sample.look, sample.motion) + "\n")
    Image.fromarray(world.recoloured(sample, other_look(sample.look)).reference).save(folder / "reference-2.png")


if __name__ == "__main__":
    ASSETS.mkdir(exist_ok=True)
    make_reference(ASSETS / "reference.png")
    make_pose_video(ASSETS / "pose.mp4")
    make_person_clip(ASSETS / "person.mp4")
    make_toy_sample(ASSETS / "toy-sample")
    print("wrote", ASSETS / "reference.png", ASSETS / "pose.mp4", ASSETS / "person.mp4", ASSETS / "toy-sample")
