"""The puppet world: clips of a 2D figure whose every pixel we can explain.

A figure is built around the OpenPose-18 skeleton (the joints Wan-VACE's pose videos draw): a head with
hair, a torso in its top's colour, sleeves and forearms, trousers or shorts, and shoes, each part a filled
shape in its own colour, on a background whose colour and pattern only the prompt states. Motions come
from a small procedural library (dance, walk, wave, jump, turn) with tempo, amplitude, root motion and
size drawn from the seed, so the model must read the skeleton and the reference and cannot memorise.

    sample = make_sample(seed=7)
    sample.video, sample.pose_video, sample.reference, sample.prompt, sample.keypoints, sample.parts

Everything is a pure function of (seed, WORLD_VERSION): bump the version when anything drawn changes, and
the model card says which version the shipped weights learned.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace

import numpy as np

WORLD_VERSION = 1
HELDOUT_SEED_START = 1_000_000  # training never draws a seed at or above this; evaluation only uses these
HEIGHT, WIDTH, NUM_FRAMES, FPS = 128, 224, 17, 16
SUPERSAMPLE = 2  # colour frames are drawn at 2x and averaged down: smooth edges a VAE can reproduce

# Named colours the prompt and the reference share. Kept few and far apart so "red" means one thing.
COLOURS = {
    "red": (205, 40, 45), "orange": (240, 140, 30), "yellow": (240, 215, 50), "green": (45, 160, 70),
    "teal": (30, 155, 160), "blue": (45, 85, 205), "purple": (135, 65, 175), "pink": (240, 135, 185),
    "brown": (125, 80, 45), "black": (35, 35, 40), "white": (238, 238, 238), "grey": (130, 130, 135),
}
CLOTHES = ("red", "orange", "yellow", "green", "teal", "blue", "purple", "pink", "brown", "black", "white", "grey")
BACKGROUNDS = ("grey", "blue", "green", "yellow", "pink", "teal", "orange", "purple", "brown", "white", "black", "red")
PATTERNS = ("plain", "striped", "checked")
SKINS = {"light": (240, 200, 170), "tan": (205, 150, 105), "brown": (140, 90, 60), "dark": (90, 58, 40)}
HAIRS = {"black": (30, 25, 25), "brown": (95, 60, 30), "blond": (225, 190, 90), "red": (175, 70, 30), "grey": (170, 170, 170)}
BOTTOMS = ("trousers", "shorts")
MOTIONS = ("dance", "walk", "wave", "jump", "turn")
VERBS = {"dance": "dances", "walk": "walks", "wave": "waves", "jump": "jumps", "turn": "turns around"}

# Part labels in the ground-truth masks; 0 is background.
PARTS = ("background", "skin", "hair", "top", "bottom", "shoes")
PART_INDEX = {name: index for index, name in enumerate(PARTS)}

# OpenPose-18 joint indices used below.
NOSE, NECK, R_SHO, R_ELB, R_WRI, L_SHO, L_ELB, L_WRI = 0, 1, 2, 3, 4, 5, 6, 7
R_HIP, R_KNEE, R_ANK, L_HIP, L_KNEE, L_ANK, R_EYE, L_EYE, R_EAR, L_EAR = 8, 9, 10, 11, 12, 13, 14, 15, 16, 17

# Limb segments scored for colour: (joint a, joint b, part whose colour the midpoint shows).
def scored_segments(look: "Look") -> list[tuple[str, int, int, str]]:
    upper_arm, forearm = "top", ("top" if look.long_sleeves else "skin")
    thigh, shin = "bottom", ("bottom" if look.bottom == "trousers" else "skin")
    return [
        ("right upper arm", R_SHO, R_ELB, upper_arm), ("left upper arm", L_SHO, L_ELB, upper_arm),
        ("right forearm", R_ELB, R_WRI, forearm), ("left forearm", L_ELB, L_WRI, forearm),
        ("right thigh", R_HIP, R_KNEE, thigh), ("left thigh", L_HIP, L_KNEE, thigh),
        ("right shin", R_KNEE, R_ANK, shin), ("left shin", L_KNEE, L_ANK, shin),
        ("torso", NECK, -1, "top"),  # -1: the midpoint of the hips
    ]


@dataclass(frozen=True)
class Look:
    """What the figure wears and where it stands: everything the reference or the prompt shows."""

    skin: str
    hair: str
    top: str
    bottom_colour: str
    bottom: str  # trousers | shorts
    shoes: str
    long_sleeves: bool
    background: str
    pattern: str  # plain | striped | checked

    def part_colours(self) -> dict[str, tuple[int, int, int]]:
        return {"skin": SKINS[self.skin], "hair": HAIRS[self.hair], "top": COLOURS[self.top],
                "bottom": COLOURS[self.bottom_colour], "shoes": COLOURS[self.shoes]}


@dataclass(frozen=True)
class Body:
    """Proportions, as fractions of the figure's height in pixels."""

    height: float
    head: float = 0.07
    neck: float = 0.05
    torso: float = 0.30
    shoulder: float = 0.11
    hip: float = 0.065
    upper_arm: float = 0.16
    forearm: float = 0.15
    thigh: float = 0.22
    shin: float = 0.22
    limb_width: float = 0.055


@dataclass
class PoseParams:
    """One frame's pose: root, facing and joint angles (radians from straight down, outward positive)."""

    x: float  # hip centre, pixels
    ground: float  # y of the feet when standing, pixels
    lift: float = 0.0  # jump height, pixels
    facing: float = 1.0  # cos of the turn about the vertical axis: 1 front, -1 back, ~0 side-on
    lean: float = 0.0
    crouch: float = 0.0  # 0 standing .. 1 deep knee bend
    arms: tuple = (0.3, 0.3, 0.2, 0.2)  # right shoulder, left shoulder, right elbow, left elbow
    legs: tuple = (0.08, 0.08, 0.0, 0.0)  # right hip, left hip, right knee, left knee


@dataclass
class ToySample:
    """One clip of the puppet world with its answers."""

    seed: int
    look: Look
    motion: str
    prompt: str
    video: np.ndarray  # uint8 [T, H, W, 3]
    pose_video: np.ndarray  # uint8 [T, H, W, 3], drawn by the lab's own renderer
    reference: np.ndarray  # uint8 [H, W, 3], the figure on white in another pose
    keypoints: np.ndarray  # float32 [T, 18, 3]: x, y, confidence
    parts: np.ndarray  # uint8 [T, H, W] labels from PARTS
    background: np.ndarray  # uint8 [H, W, 3], the empty scene
    reference_keypoints: np.ndarray = field(default=None)
    reference_frame: int | None = None  # the frame whose pose and place the reference copies; None: neutral
    fps: int = FPS
    travel: float | None = None  # the root's speed in pixels a frame when set (make_sample); None: the motion's own


def training_seeds(count: int, seed: int = 0) -> list[int]:
    """`count` distinct world seeds below HELDOUT_SEED_START, drawn from `seed`."""
    rng = np.random.default_rng([seed, 77])
    return [int(s) for s in rng.choice(HELDOUT_SEED_START, size=count, replace=False)]


def heldout_seeds(count: int, start: int = 0) -> list[int]:
    """Seeds no training run draws: the toy's evaluations, tests and samples use these."""
    return [HELDOUT_SEED_START + start + index for index in range(count)]


# ---- sampling the world --------------------------------------------------------------------------------

def random_look(rng: np.random.Generator) -> Look:
    top, bottom_colour, shoes = rng.choice(CLOTHES, size=3, replace=False)
    background = rng.choice([c for c in BACKGROUNDS if c not in (top, bottom_colour)])
    return Look(skin=str(rng.choice(list(SKINS))), hair=str(rng.choice(list(HAIRS))), top=str(top),
                bottom_colour=str(bottom_colour), bottom=str(rng.choice(BOTTOMS)), shoes=str(shoes),
                long_sleeves=bool(rng.random() < 0.5), background=str(background), pattern=str(rng.choice(PATTERNS)))


def describe(look: Look, motion: str) -> str:
    """The prompt: clothes (which the reference also shows), the action, and the background (which only it shows)."""
    return f"{clothes_clause(look)} {_action_and_floor(look, motion)}"


def clothes_clause(look: Look) -> str:
    """The part of the prompt that names the clothes: what the reference shows in words."""
    return f"a person in a {look.top} top and {look.bottom_colour} {look.bottom}"


def scene_prompt(look: Look, motion: str) -> str:
    """The prompt without the clothes: the action and the background only, leaving the look to the reference,
    as VACE divides the work."""
    return f"a person {_action_and_floor(look, motion)}"


def dancer_prompt(look: Look, motion: str) -> str:
    """The prompt without the background: the clothes and the action, as a caption of one dancer in one studio
    reads (the blog's came from a description of the dancer's first frame and the clip's dance metadata). The
    narrow dataset's captions: what they leave unnamed, a LoRA trained on them learns as the default."""
    return f"a person in a {look.top} top and {look.bottom_colour} {look.bottom} {VERBS[motion]}"


def action_prompt(motion: str) -> str:
    """The action alone: neither the clothes nor the background."""
    return f"a person {VERBS[motion]}"


def _action_and_floor(look: Look, motion: str) -> str:
    pattern = "" if look.pattern == "plain" else f"{look.pattern} "
    return f"{VERBS[motion]} on a {pattern}{look.background} background"


def make_sample(seed: int, num_frames: int = NUM_FRAMES, height: int = HEIGHT, width: int = WIDTH,
                fps: int = FPS, look: Look | None = None, motion: str | None = None,
                reference_frame: int | None = None, travel: float | None = None) -> ToySample:
    """The clip for `seed`: the same seed always gives the same pixels.

    The reference stands centred in a neutral pose; with `reference_frame` it is the figure of that frame
    instead, on white in the same pose and place (an easy reference to read, for a training curriculum).
    With `travel` (pixels a frame, signed) the figure crosses the frame at that speed whatever its motion:
    the same clip otherwise, for a curriculum of travelling figures (the world's own mostly move in place)."""
    rng = np.random.default_rng([WORLD_VERSION, seed])
    # Drawn whether or not they are given, so a recoloured clip keeps the seed's motion, size and timing.
    drawn_look, drawn_motion = random_look(rng), str(rng.choice(MOTIONS))
    look, motion = look or drawn_look, motion or drawn_motion
    body = Body(height=height * rng.uniform(0.55, 0.85))
    poses = motion_poses(motion, rng, num_frames, fps, height, width, body, travel)
    reference_pose = neutral_pose(rng, height, width, body)
    background = draw_background(look, height, width)
    frames, parts, keypoints = [], [], []
    for pose in poses:
        joints = skeleton(pose, body)
        frame, labels = draw_figure(background, joints, pose.facing, body, look)
        frames.append(frame)
        parts.append(labels)
        keypoints.append(keypoint_array(joints, pose.facing, height, width))
    white = np.full((height, width, 3), 255, dtype=np.uint8)
    if reference_frame is not None:
        reference_pose = poses[reference_frame]
    reference_joints = skeleton(reference_pose, body)
    reference, _ = draw_figure(white, reference_joints, reference_pose.facing, body, look)
    keypoints = np.stack(keypoints)
    return ToySample(seed=seed, look=look, motion=motion, prompt=describe(look, motion), video=np.stack(frames),
                     pose_video=draw_pose_video(keypoints, height, width), reference=reference,
                     keypoints=keypoints, parts=np.stack(parts), background=background,
                     reference_keypoints=keypoint_array(reference_joints, reference_pose.facing, height, width),
                     reference_frame=reference_frame, fps=fps, travel=travel)


def recoloured(sample: ToySample, look: Look) -> ToySample:
    """The same motion, size and reference pose in another look (for "the colours follow the reference" checks)."""
    return make_sample(sample.seed, num_frames=len(sample.video), height=sample.video.shape[1],
                       width=sample.video.shape[2], fps=sample.fps, look=look, motion=sample.motion,
                       reference_frame=sample.reference_frame, travel=sample.travel)


# ---- motion library ------------------------------------------------------------------------------------

def neutral_pose(rng: np.random.Generator, height: int, width: int, body: Body) -> PoseParams:
    """The reference's pose: standing, facing the camera, arms a little out, centred."""
    arm = rng.uniform(0.25, 0.6)
    return PoseParams(x=width / 2, ground=height * 0.5 + body.height * 0.5, arms=(arm, arm, 0.15, 0.15),
                      legs=(0.1, 0.1, 0.0, 0.0))


def motion_poses(motion: str, rng: np.random.Generator, num_frames: int, fps: int, height: int, width: int,
                 body: Body, travel: float | None = None) -> list[PoseParams]:
    tempo = rng.uniform(0.6, 1.6)  # cycles per second
    phase = rng.uniform(0, 2 * math.pi)
    amp = rng.uniform(0.6, 1.2)
    ground = height * rng.uniform(0.9, 0.97)
    ground = min(ground, height - 2)
    ground = max(ground, body.height + 4)
    margin = body.height * 0.3
    start = rng.uniform(margin, width - margin)
    speed = 0.0
    if motion == "walk":
        direction = rng.choice([-1.0, 1.0])
        speed = direction * rng.uniform(1.0, 2.5)  # pixels per frame
        start = width / 2 - speed * num_frames / 2 + rng.uniform(-20, 20)
    elif motion in ("dance", "jump"):
        speed = rng.uniform(-0.6, 0.6)
    facing0 = rng.choice([1.0, 1.0, 0.8, -1.0]) if motion != "walk" else rng.uniform(0.25, 0.6)
    if travel is not None:  # after every draw, so the clip is the seed's own in all but its path
        speed, start = travel, travelling_start(start, travel, num_frames, width, margin)
    poses = []
    for frame in range(num_frames):
        t = frame / fps
        w = 2 * math.pi * tempo * t + phase
        s = math.sin(w)
        pose = PoseParams(x=start + speed * frame, ground=ground, facing=facing0)
        if motion == "dance":
            pose.arms = (0.6 + 1.0 * amp * (1 + math.sin(w)) / 2 * 1.6, 0.6 + 1.0 * amp * (1 + math.sin(w + 2.0)) / 2 * 1.6,
                         0.5 * amp * (1 + math.cos(w)), 0.5 * amp * (1 + math.cos(w + 1.3)))
            pose.legs = (0.1 + 0.15 * amp * max(0, s), 0.1 + 0.15 * amp * max(0, -s), 0.2 * max(0, -s), 0.2 * max(0, s))
            pose.crouch = 0.25 * amp * (1 + math.sin(2 * w)) / 2
            pose.lean = 0.12 * amp * math.sin(w)
            pose.x += 6 * amp * math.sin(w)
        elif motion == "walk":
            swing = 0.45 * amp * s
            pose.legs = (swing, -swing, 0.25 * max(0, s), 0.25 * max(0, -s))
            pose.arms = (0.15 - 0.4 * amp * s, 0.15 + 0.4 * amp * s, 0.25, 0.25)
            pose.crouch = 0.08 * abs(math.cos(w))
        elif motion == "wave":
            raised = 2.3 + 0.3 * amp
            wave = 0.55 * amp * math.sin(2 * w)
            left_hand = phase > math.pi  # which hand waves follows from the seed's phase
            arms = [0.2, 0.2, 0.15, 0.15]
            arms[1 if left_hand else 0] = raised
            arms[3 if left_hand else 2] = 0.6 + wave
            pose.arms = tuple(arms)
            pose.lean = 0.05 * math.sin(w)
            pose.x += 3 * math.sin(w)
        elif motion == "jump":
            cycle = (w % (2 * math.pi)) / (2 * math.pi)
            if cycle < 0.35:  # crouch and load
                pose.crouch = 0.6 * amp * math.sin(math.pi * cycle / 0.35)
                pose.arms = (0.3, 0.3, 0.3, 0.3)
            else:  # flight: arms up, body up
                flight = (cycle - 0.35) / 0.65
                pose.lift = body.height * 0.35 * amp * math.sin(math.pi * flight)
                up = 0.3 + 2.2 * math.sin(math.pi * flight)
                pose.arms = (up, up, 0.2, 0.2)
                pose.legs = (0.05, 0.05, 0.3 * math.sin(math.pi * flight), 0.3 * math.sin(math.pi * flight))
        elif motion == "turn":
            pose.facing = math.cos(w)
            pose.arms = (0.5 + 0.3 * amp, 0.5 + 0.3 * amp, 0.4, 0.4)
            pose.legs = (0.1, 0.1, 0.1 * max(0, s), 0.1 * max(0, -s))
        poses.append(pose)
    return poses


def travelling_start(start: float, speed: float, num_frames: int, width: int, margin: float) -> float:
    """Where a figure crossing at `speed` starts: its path centred in the frame, moved toward the drawn `start`
    as far as the margins leave room, so it stays in the frame from first to last."""
    path = abs(speed) * (num_frames - 1)
    room = max(0.0, (width - 2 * margin - path) / 2)
    centred = width / 2 - speed * (num_frames - 1) / 2
    return centred + float(np.clip(start - width / 2, -room, room))


# ---- geometry ------------------------------------------------------------------------------------------

def _direction(angle: float, outward: float) -> np.ndarray:
    """A unit vector `angle` radians from straight down, rotated towards `outward` (-1 image left, +1 right)."""
    return np.array([outward * math.sin(angle), math.cos(angle)])


def skeleton(pose: PoseParams, body: Body) -> np.ndarray:
    """[18, 2] joint positions in pixels for one pose (the face points included)."""
    h = body.height
    facing = pose.facing
    width_scale = max(abs(facing), 0.25)
    # The figure's right side is on the image's left when it faces us, and on the right from behind.
    right = -1.0 if facing >= 0 else 1.0
    thigh = body.thigh * h * (1 - 0.45 * pose.crouch)
    shin = body.shin * h * (1 - 0.15 * pose.crouch)
    hip_y = pose.ground - pose.lift - thigh - shin
    hip = np.array([pose.x, hip_y])
    up = np.array([math.sin(pose.lean), -math.cos(pose.lean)])
    neck = hip + up * body.torso * h
    across = np.array([math.cos(pose.lean), math.sin(pose.lean)])
    joints = np.zeros((18, 2))
    joints[NECK] = neck
    joints[R_SHO] = neck + across * right * body.shoulder * h * width_scale
    joints[L_SHO] = neck - across * right * body.shoulder * h * width_scale
    joints[R_HIP] = hip + across * right * body.hip * h * width_scale
    joints[L_HIP] = hip - across * right * body.hip * h * width_scale
    for side, (sho, elb, wri, hp, kn, an) in ((0, (R_SHO, R_ELB, R_WRI, R_HIP, R_KNEE, R_ANK)),
                                              (1, (L_SHO, L_ELB, L_WRI, L_HIP, L_KNEE, L_ANK))):
        outward = right if side == 0 else -right
        joints[elb] = joints[sho] + _direction(pose.arms[side] + pose.lean * outward, outward) * body.upper_arm * h
        joints[wri] = joints[elb] + _direction(pose.arms[side] + pose.arms[2 + side] + pose.lean * outward, outward) * body.forearm * h
        joints[kn] = joints[hp] + _direction(pose.legs[side], outward) * thigh
        joints[an] = joints[kn] + _direction(pose.legs[side] - pose.legs[2 + side], outward) * shin
    head = neck + up * (body.neck + body.head) * h
    joints[NOSE] = head + np.array([0.0, body.head * h * 0.25])
    eye_dx = body.head * h * 0.4 * width_scale
    joints[R_EYE] = head + np.array([right * eye_dx, -body.head * h * 0.15])
    joints[L_EYE] = head + np.array([-right * eye_dx, -body.head * h * 0.15])
    joints[R_EAR] = head + np.array([right * body.head * h * 0.9 * width_scale, 0.0])
    joints[L_EAR] = head + np.array([-right * body.head * h * 0.9 * width_scale, 0.0])
    return joints


def head_centre(joints: np.ndarray) -> np.ndarray:
    return (joints[R_EAR] + joints[L_EAR]) / 2


def keypoint_array(joints: np.ndarray, facing: float, height: int, width: int) -> np.ndarray:
    """[18, 3] with confidence 1, or 0 for the face when seen from behind or for points off the frame."""
    confidence = np.ones(18)
    if facing < -0.2:
        confidence[[NOSE, R_EYE, L_EYE]] = 0.0
    inside = (joints[:, 0] >= 0) & (joints[:, 0] < width) & (joints[:, 1] >= 0) & (joints[:, 1] < height)
    confidence[~inside] = 0.0
    return np.concatenate([joints, confidence[:, None]], axis=1).astype(np.float32)


# ---- drawing -------------------------------------------------------------------------------------------

def draw_background(look: Look, height: int, width: int) -> np.ndarray:
    base = np.array(COLOURS[look.background], dtype=np.float32)
    # The second tone of a pattern: lighter on dark colours, darker on light ones, so it always shows.
    second = base * 0.7 if base.mean() > 110 else base + (255 - base) * 0.35
    image = np.empty((height, width, 3), dtype=np.float32)
    image[:] = base
    if look.pattern == "striped":
        columns = (np.arange(width) // 16) % 2 == 1
        image[:, columns] = second
    elif look.pattern == "checked":
        ys, xs = np.mgrid[0:height, 0:width]
        image[((ys // 16) + (xs // 16)) % 2 == 1] = second
    return image.round().astype(np.uint8)


def _shapes(joints: np.ndarray, facing: float, body: Body, look: Look) -> list[tuple[str, str, tuple]]:
    """The figure as (part, kind, geometry) in drawing order, back to front."""
    h = body.height
    limb = body.limb_width * h
    head = head_centre(joints)
    head_radius = body.head * h
    hips = (joints[R_HIP] + joints[L_HIP]) / 2
    forearm_part = "top" if look.long_sleeves else "skin"
    shin_part = "bottom" if look.bottom == "trousers" else "skin"
    shapes = []
    for hp, kn, an in ((R_HIP, R_KNEE, R_ANK), (L_HIP, L_KNEE, L_ANK)):
        shapes.append(("bottom", "capsule", (joints[hp], joints[kn], limb * 0.62)))
        shapes.append((shin_part, "capsule", (joints[kn], joints[an], limb * 0.5)))
        if shin_part == "skin":  # shorts end above the knee
            shapes.append(("bottom", "capsule", (joints[hp], joints[hp] + (joints[kn] - joints[hp]) * 0.6, limb * 0.66)))
        shapes.append(("shoes", "ellipse", (joints[an] + np.array([0, limb * 0.25]), limb * 0.75, limb * 0.4)))
    torso = np.array([joints[R_SHO], joints[L_SHO], joints[L_HIP] + (joints[L_HIP] - hips) * 0.25,
                      joints[R_HIP] + (joints[R_HIP] - hips) * 0.25])
    shapes.append(("skin", "capsule", (joints[NECK], head, limb * 0.35)))
    shapes.append(("top", "polygon", (torso,)))
    shapes.append(("top", "capsule", (joints[R_SHO], joints[L_SHO], limb * 0.55)))
    shapes.append(("bottom", "capsule", (joints[R_HIP], joints[L_HIP], limb * 0.6)))
    shapes.append(("skin", "circle", (head, head_radius)))
    if facing < -0.2:  # seen from behind: hair covers the head
        shapes.append(("hair", "circle", (head + np.array([0, -head_radius * 0.05]), head_radius * 1.02)))
    else:
        shapes.append(("hair", "cap", (head, head_radius * 1.05)))
    for sho, elb, wri in ((R_SHO, R_ELB, R_WRI), (L_SHO, L_ELB, L_WRI)):
        shapes.append(("top", "capsule", (joints[sho], joints[elb], limb * 0.48)))
        shapes.append((forearm_part, "capsule", (joints[elb], joints[wri], limb * 0.42)))
        shapes.append(("skin", "circle", (joints[wri] + (joints[wri] - joints[elb]) * 0.12, limb * 0.5)))
    return shapes


def _draw(canvas: np.ndarray, kind: str, geometry: tuple, value, scale: float):
    import cv2

    def point(p):
        return (int(round(p[0] * scale * 16)), int(round(p[1] * scale * 16)))

    shift = 4  # cv2 draws with 4 fractional bits: sub-pixel positions, so slow motion moves smoothly
    if kind == "capsule":
        a, b, radius = geometry
        thickness = max(1, int(round(2 * radius * scale)))
        cv2.line(canvas, point(a), point(b), value, thickness=thickness, lineType=cv2.LINE_8, shift=shift)
        for end in (a, b):
            cv2.circle(canvas, point(end), int(round(radius * scale * 16)), value, -1, cv2.LINE_8, shift)
    elif kind == "circle":
        centre, radius = geometry
        cv2.circle(canvas, point(centre), int(round(radius * scale * 16)), value, -1, cv2.LINE_8, shift)
    elif kind == "cap":  # the top half of the head, and a little over the sides
        centre, radius = geometry
        axes = (int(round(radius * scale * 16)), int(round(radius * scale * 16)))
        cv2.ellipse(canvas, point(centre), axes, 0, 165, 375, value, -1, cv2.LINE_8, shift)
    elif kind == "ellipse":
        centre, rx, ry = geometry
        axes = (int(round(rx * scale * 16)), int(round(ry * scale * 16)))
        cv2.ellipse(canvas, point(centre), axes, 0, 0, 360, value, -1, cv2.LINE_8, shift)
    elif kind == "polygon":
        (points,) = geometry
        cv2.fillPoly(canvas, [np.array([point(p) for p in points], dtype=np.int32)], value, cv2.LINE_8, shift)


def draw_figure(background: np.ndarray, joints: np.ndarray, facing: float, body: Body,
                look: Look) -> tuple[np.ndarray, np.ndarray]:
    """The frame (uint8 [H, W, 3]) and its part labels (uint8 [H, W])."""
    import cv2

    height, width = background.shape[:2]
    colours = look.part_colours()
    big = cv2.resize(background, (width * SUPERSAMPLE, height * SUPERSAMPLE), interpolation=cv2.INTER_NEAREST)
    labels = np.zeros((height, width), dtype=np.uint8)
    for part, kind, geometry in _shapes(joints, facing, body, look):
        _draw(big, kind, geometry, tuple(int(c) for c in colours[part]), SUPERSAMPLE)
        _draw(labels, kind, geometry, PART_INDEX[part], 1)
    frame = cv2.resize(big, (width, height), interpolation=cv2.INTER_AREA)
    return frame, labels


def draw_pose_video(keypoints: np.ndarray, height: int, width: int) -> np.ndarray:
    """The skeleton video, drawn by the same renderer the Pose tab uses (body only: the puppet has no face mesh)."""
    from engine.pose.format import Person
    from engine.pose.render import RenderOptions, render_pose

    options = RenderOptions(body=True, hands=False, face=False)
    return np.stack([render_pose([Person(body=points)], height, width, options) for points in keypoints])


def with_look(look: Look, **changes) -> Look:
    return replace(look, **changes)


# ---- files -------------------------------------------------------------------------------------------

SAMPLE_FILE = "toy.json"  # beside a toy pose video: which world clip it is, so sweeps can score against it


def write_sample(sample: ToySample, out_dir) -> dict:
    """video.mp4, pose.mp4, reference.png, prompt.txt, keypoints.json (the Pose tab's format), parts.npz
    (part labels per pixel) and toy.json (seed, world version, look): what `toy sample` writes."""
    import json
    from pathlib import Path

    from PIL import Image

    from engine import media
    from engine.pose.extract import KEYPOINTS_FORMAT
    from engine.pose.format import Person

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    height, width = sample.video.shape[1:3]
    files = {"video": media.write_mp4(sample.video, out_dir / "video.mp4", sample.fps),
             "pose_video": media.write_mp4(sample.pose_video, out_dir / "pose.mp4", sample.fps)}
    Image.fromarray(sample.reference).save(out_dir / "reference.png")
    (out_dir / "prompt.txt").write_text(sample.prompt + "\n")
    keypoints = {"format": KEYPOINTS_FORMAT, "width": width, "height": height, "fps": sample.fps,
                 "frames": [[Person(body=points).to_json()] for points in sample.keypoints]}
    (out_dir / "keypoints.json").write_text(json.dumps(keypoints))
    np.savez_compressed(out_dir / "parts.npz", parts=sample.parts, names=np.array(PARTS))
    record = {"seed": sample.seed, "world_version": WORLD_VERSION, "motion": sample.motion, "frames": len(sample.video),
              "height": height, "width": width, "fps": sample.fps, "look": asdict(sample.look), "prompt": sample.prompt}
    (out_dir / SAMPLE_FILE).write_text(json.dumps(record, indent=2))
    files.update(reference=out_dir / "reference.png", prompt=out_dir / "prompt.txt",
                 keypoints=out_dir / "keypoints.json", parts=out_dir / "parts.npz", record=out_dir / SAMPLE_FILE)
    return files


def read_sample_record(pose_video) -> ToySample | None:
    """The world clip a pose video was written from (its toy.json beside it), re-made; None if it is not one."""
    import json

    from engine.records import find_sidecar

    path = find_sidecar(pose_video, SAMPLE_FILE)
    if path is None:
        return None
    record = json.loads(path.read_text())
    if record.get("world_version") != WORLD_VERSION:
        return None
    return make_sample(record["seed"], num_frames=record["frames"], height=record["height"], width=record["width"],
                       fps=record["fps"], look=Look(**record["look"]))
