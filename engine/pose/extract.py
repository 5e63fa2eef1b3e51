"""From a driving video to a pose video the model can use, in one step.

    request = PoseRequest(video="dance.mp4")
    result = extract_pose(request, out_dir)

Steps: pick exactly `num_frames` frames at `fps` from `start` and fit them to the model's size (pad or
crop); find people in each (or import COCO-17 keypoints); choose whom to draw; optionally smooth over time
and fit the skeleton to a reference person; draw the pose video and an overlay; measure the extraction.
Writes pose.mp4, overlay.mp4, first_frame.png, keypoints.json and manifest.json (and before_after.mp4 /
fit.png when smoothing / fitting).
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from engine import media
from engine.pose.aist import try_parse_aist_name
from engine.pose.backends import DWPoseModels, find_dwpose_models, open_backend, resolve_backend
from engine.pose.diagnostics import PoseDiagnostics, compact_ranges, diagnose, smooth_track
from engine.pose.fit import FIT_MODES, SkeletonFit, apply_fit, plan_fit
from engine.pose.format import Person, clip_to_frame
from engine.pose.load import MISSING_PARTS_NOTE, load_keypoints
from engine.pose.render import RenderOptions, overlay, render_pose
from engine.records import package_versions, write_json

logger = logging.getLogger(__name__)

MAX_FRAMES = 241  # 15 s at 16 fps, more than Wan-VACE generates in one go
FIT_CHOICES = ("pad", "crop")
KEYPOINTS_FORMAT = "openpose18 body + 2 x 21 hands (left, right) + 68 face; [x, y, confidence] in pixels"


class PoseCancelled(RuntimeError):
    pass


@dataclass
class PoseRequest:
    """Everything that decides a pose video. Field names are the CLI's and the Pose tab's."""

    video: str | None = None
    """Driving video (mp4, mov, webm, avi, gif). Optional when importing keypoints."""
    start: float = 0.0
    """Seconds into the video where the clip starts."""
    fps: int = 16
    """Frame rate of the pose video: Wan-VACE's is 16."""
    num_frames: int = 81
    """Frames in the pose video: 4n+1 (81 = 5 s at 16 fps)."""
    width: int = 832
    height: int = 480
    fit: str = "pad"
    """pad keeps the whole frame with black bars; crop fills the frame and cuts the sides."""
    reference_frame: int = 0
    """Which prepared frame becomes first_frame.png, the reference image."""
    backend: str = "auto"
    """dwpose, mediapipe, or auto (DWPose where its models are on disk, else MediaPipe)."""
    person: str = "largest"
    """Whom to draw: largest, all, or an index counted from the left (0 = leftmost)."""
    body: bool = True
    hands: bool = False
    face: bool = True
    threshold: float = 0.3
    """Points less confident than this are not drawn and count as not found."""
    smoothing: float = 0.0
    """Temporal smoothing strength (Gaussian sigma in frames); 0 is off."""
    fit_to_reference: str = "off"
    """off, scale (size and position), or limbs (also each bone's length)."""
    reference_image: str | None = None
    """A photo of the person to animate: the skeleton is fitted to them. Default: the reference frame."""
    keypoints: str | None = None
    """COCO-17 keypoints to import instead of detecting (AIST++ .pkl, .npy, .npz, .json)."""
    keypoints_fps: float | None = None
    """Frame rate of the keypoints, when the file does not say (AIST++: 60)."""
    keypoints_size: str | None = None
    """WxH of the frames the keypoints were measured on, when neither the file nor a video says."""
    camera: int | None = None
    """AIST++ camera (1-9) when the keypoints hold all nine views; default: the video name's cNN."""
    face_crops: bool = False
    """Also write face.mp4, a square crop of the face per frame for Animate models (engine/pose/face_crops.py)."""
    replace_inputs: bool = False
    """Also write background.mp4 and mask.mp4 for Animate's replace mode: the clip with the person taken out, and
    where the person is (engine/pose/person_mask.py)."""

    def __post_init__(self):
        if not self.video and not self.keypoints:
            raise ValueError("give a driving video, or keypoints to import")
        if self.num_frames < 1 or (self.num_frames - 1) % 4:
            raise ValueError(f"num_frames must be 4n+1 (e.g. 49, 81), got {self.num_frames}")
        if self.num_frames > MAX_FRAMES:
            raise ValueError(f"num_frames is at most {MAX_FRAMES}, got {self.num_frames}")
        if not 1 <= self.fps <= 60:
            raise ValueError(f"fps must be 1-60, got {self.fps}")
        for name in ("width", "height"):
            value = getattr(self, name)
            if value % 16 or not 64 <= value <= 1920:
                raise ValueError(f"{name} must be a multiple of 16 between 64 and 1920, got {value}")
        if self.fit not in FIT_CHOICES:
            raise ValueError(f"fit must be pad or crop, got {self.fit!r}")
        if not 0 <= self.reference_frame < self.num_frames:
            raise ValueError(f"reference_frame must be 0-{self.num_frames - 1}, got {self.reference_frame}")
        if self.person not in ("largest", "all") and not str(self.person).isdigit():
            raise ValueError(f"person must be largest, all, or an index like 0, got {self.person!r}")
        if not 0 <= self.threshold <= 1:
            raise ValueError(f"threshold must be between 0 and 1, got {self.threshold}")
        if not 0 <= self.smoothing <= 10:
            raise ValueError(f"smoothing must be between 0 and 10 frames, got {self.smoothing}")
        if self.fit_to_reference not in FIT_MODES:
            raise ValueError(f"fit_to_reference must be one of {', '.join(FIT_MODES)}, got {self.fit_to_reference!r}")
        if self.person == "all" and (self.smoothing or self.fit_to_reference != "off"):
            raise ValueError("smoothing and skeleton fitting follow one person: choose largest or an index, not all")
        if not (self.body or self.hands or self.face):
            raise ValueError("draw at least one of body, hands, face")
        resolve_backend(self.backend)

    @property
    def render_options(self) -> RenderOptions:
        return RenderOptions(body=self.body, hands=self.hands, face=self.face, threshold=self.threshold)


@dataclass
class PoseResult:
    out_dir: Path
    pose_video: Path
    overlay_video: Path
    first_frame: Path
    keypoints: Path
    manifest: Path
    diagnostics: PoseDiagnostics
    notes: list[str]
    timings: dict
    backend: str
    aist: list[tuple[str, str]] = field(default_factory=list)
    before_after_video: Path | None = None
    raw_diagnostics: PoseDiagnostics | None = None
    fit_preview: Path | None = None
    fit: SkeletonFit | None = None
    fitted_photo: Path | None = None
    face_video: Path | None = None
    background_video: Path | None = None
    mask_video: Path | None = None

    @property
    def reference_for_generation(self) -> Path:
        """The image Generate should use: the photo the skeleton was fitted to, else the first frame."""
        return self.fitted_photo or self.first_frame


def extract_pose(request: PoseRequest, out_dir: str | Path, on_progress=None, should_stop=None,
                 dwpose_models: DWPoseModels | None = None) -> PoseResult:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    progress = on_progress or (lambda fraction, text: None)
    timings, notes = {}, []
    if not request.keypoints and resolve_backend(request.backend) == "dwpose" and dwpose_models is None:
        dwpose_models = find_dwpose_models()  # before any decoding: missing models fail fast

    started = time.perf_counter()
    frames, source = prepare_frames(request, notes, progress)
    timings["prepare_s"] = time.perf_counter() - started

    started = time.perf_counter()
    if request.keypoints:
        backend_name = "keypoints"
        all_people = imported_people(request, source, notes)
    else:
        backend_name = resolve_backend(request.backend)
        all_people = detect_people(frames, backend_name, progress, should_stop, dwpose_models)
    timings["detect_s"] = time.perf_counter() - started
    timings["detect_frames_per_s"] = len(frames) / max(timings["detect_s"], 1e-9)

    drawn = [select_people(people, request.person, request.threshold) for people in all_people]
    notes.extend(selection_notes(all_people, drawn, request.person))
    track = [people[0] if people else None for people in drawn]
    raw_diagnostics = diagnose(track, request.threshold)
    if len(raw_diagnostics.frames_without_person) == len(track):
        # An all-black pose video would "work" and teach nothing: say so instead of writing it.
        source_name = Path(request.video).name if request.video else "the keypoints"
        raise ValueError(f"{source_name}: no person found in any of its {len(track)} frames "
                         f"(backend {backend_name}, threshold {request.threshold:g}); nothing to draw")
    if raw_diagnostics.frames_without_person:
        notes.append(f"No person found in frames {compact_ranges(raw_diagnostics.frames_without_person)}: "
                     "those pose frames are black.")

    result_extras = {}
    if request.smoothing > 0:
        raw_track = track
        track = smooth_track(track, request.smoothing, request.threshold)
        drawn = [[person] if person else [] for person in track]
        result_extras["raw_diagnostics"] = raw_diagnostics
        result_extras["before_after_video"] = write_before_after(raw_track, track, request, out_dir)

    if request.fit_to_reference != "off":
        fit, preview, photo = fit_to_reference(track, frames, request, backend_name, dwpose_models, out_dir)
        track = apply_fit(track, fit, request.threshold)
        drawn = [[person] if person else [] for person in track]
        notes.append(fit.describe())
        result_extras.update(fit=fit, fit_preview=preview, fitted_photo=photo)
    diagnostics = diagnose(track, request.threshold)

    progress(0.9, "drawing the pose video")
    started = time.perf_counter()
    options = request.render_options
    drawn = [[clip_to_frame(p, request.width, request.height) for p in people] for people in drawn]
    pose_frames = np.stack([render_pose(people, request.height, request.width, options) for people in drawn])
    timings["render_ms_per_frame"] = 1000 * (time.perf_counter() - started) / len(pose_frames)
    overlay_frames = np.stack([overlay(frame, skeleton) for frame, skeleton in zip(frames, pose_frames)])

    paths = write_outputs(out_dir, request, frames, pose_frames, overlay_frames, drawn)
    if request.face_crops:
        result_extras["face_video"] = write_face_video(out_dir, request, frames, track, notes)
    if request.replace_inputs:
        result_extras.update(write_replace_inputs(out_dir, request, frames, notes, should_stop))
    aist = try_parse_aist_name(request.video or request.keypoints)
    result = PoseResult(
        out_dir=out_dir, diagnostics=diagnostics, notes=notes, timings=timings, backend=backend_name,
        aist=aist.table() if aist else [], **paths, **result_extras,
    )
    write_json(pose_manifest(request, result, source), result.manifest)
    progress(1.0, "done")
    return result


@dataclass
class SourceInfo:
    fps: float | None
    size: tuple[int, int] | None
    """(height, width) of the source frames."""
    duration: float | None
    padded: int


def prepare_frames(request: PoseRequest, notes: list[str], progress) -> tuple[np.ndarray, SourceInfo]:
    """Exactly num_frames frames at fps, fitted to the model's size; black frames when only keypoints are given."""
    if not request.video:
        blank = np.zeros((request.num_frames, request.height, request.width, 3), np.uint8)
        return blank, SourceInfo(None, None, None, 0)

    def prepare(frame):
        return media.fit_frame(frame, request.height, request.width, request.fit)

    window = media.read_video_window(
        request.video, request.start, request.fps, request.num_frames, prepare,
        on_frame=lambda done, total: progress(0.1 * done / total, f"reading frame {done}/{total}"),
    )
    if window.padded:
        notes.append(f"The video ends {window.padded} frames early at {request.fps} fps: its last frame is held "
                     f"(start earlier or choose fewer frames).")
    source = SourceInfo(window.source_fps, window.source_size, window.source_duration, window.padded)
    return np.stack(window.frames), source


def detect_people(frames: np.ndarray, backend_name: str, progress, should_stop, dwpose_models) -> list[list[Person]]:
    backend = open_backend(backend_name, dwpose_models)
    try:
        people = []
        for index, frame in enumerate(frames):
            if should_stop and should_stop():
                raise PoseCancelled(f"stopped after {index} of {len(frames)} frames")
            people.append(backend.detect(frame))
            progress(0.1 + 0.8 * (index + 1) / len(frames), f"{backend_name}: frame {index + 1}/{len(frames)}")
        return people
    finally:
        backend.close()


def imported_people(request: PoseRequest, source: SourceInfo, notes: list[str]) -> list[list[Person]]:
    """Imported keypoints, resampled to the request's fps and mapped into the prepared frame."""
    camera = request.camera
    if camera is None:
        aist = try_parse_aist_name(request.video or request.keypoints)
        camera = aist.camera if aist else None
    imported = load_keypoints(request.keypoints, camera=camera)
    fps = request.keypoints_fps or imported.fps or source.fps
    if not fps:
        raise ValueError("the keypoints' frame rate is unknown: give keypoints_fps")
    size = imported.size
    if request.keypoints_size:
        size = parse_size(request.keypoints_size)
    elif size is None and source.size:
        size = (source.size[1], source.size[0])
    if size is None:
        raise ValueError("the keypoints' frame size is unknown: give keypoints_size (WxH) or the video")
    scale, offset = media.fit_geometry(size[1], size[0], request.height, request.width, request.fit)
    first = int(np.floor(request.start * fps + 1e-6))
    if first >= len(imported.people):
        raise ValueError(f"start {request.start:g} s is past the end of the keypoints ({len(imported.people) / fps:.2f} s)")
    indices, padded = media.resample_indices(len(imported.people) - first, fps, request.fps, request.num_frames)
    if padded:
        notes.append(f"The keypoints end {padded} frames early: the last pose is held.")
    notes.append(MISSING_PARTS_NOTE)
    return [[person.transformed(scale, offset) for person in imported.people[first + i]] for i in indices]


def parse_size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"size must look like 832x480 (width x height), got {text!r}") from None
    if width <= 0 or height <= 0:
        raise ValueError(f"size must be positive, got {text!r}")
    return width, height


def select_people(people: list[Person], choice: str, threshold: float) -> list[Person]:
    if not people or choice == "all":
        return list(people)
    if choice == "largest":
        return [max(people, key=lambda person: person.box_area(threshold))]
    ordered = sorted(people, key=lambda person: person.centre_x(threshold))
    index = int(choice)
    return [ordered[index]] if index < len(ordered) else []


def selection_notes(all_people: list[list[Person]], drawn: list[list[Person]], choice: str) -> list[str]:
    crowded = [t for t, people in enumerate(all_people) if len(people) > 1]
    notes = []
    if crowded and choice == "largest":
        most = max(len(all_people[t]) for t in crowded)
        notes.append(f"Up to {most} people in {len(crowded)} frames: the largest is drawn "
                     "(choose 'all' or an index counted from the left).")
    if choice.isdigit():
        missing = [t for t, (people, chosen) in enumerate(zip(all_people, drawn)) if people and not chosen]
        if missing:
            notes.append(f"Person {choice} (from the left) is not in frames {compact_ranges(missing)}.")
    return notes


def side_by_side(panels: list[np.ndarray], gap: int = 8) -> np.ndarray:
    """Equal-height images left to right, with a grey bar between them."""
    bar = np.full((panels[0].shape[0], gap, 3), 128, np.uint8)
    pieces = [piece for panel in panels for piece in (bar, panel)][1:]
    return np.concatenate(pieces, axis=1)


def write_before_after(raw: list, smoothed: list, request: PoseRequest, out_dir: Path) -> Path:
    """Raw skeleton on the left, smoothed on the right, for judging what smoothing did."""
    options = request.render_options
    frames = []
    for before, after in zip(raw, smoothed):
        left = render_pose([before] if before else [], request.height, request.width, options)
        right = render_pose([after] if after else [], request.height, request.width, options)
        frames.append(side_by_side([left, right]))
    return media.write_mp4(np.stack(frames), out_dir / "before_after.mp4", request.fps)


def fit_to_reference(track, frames, request, backend_name, dwpose_models, out_dir):
    """Find the reference person, plan the fit, and draw reference | driving | fitted side by side."""
    if request.reference_image:
        photo = Path(request.reference_image)
        placed, _ = media.letterbox(media.load_image(photo), request.height, request.width)
        reference_frame = np.asarray(placed)
    else:
        photo = None
        reference_frame = frames[request.reference_frame]
    if backend_name == "keypoints":
        backend_name = "mediapipe"  # imported keypoints have no detector; the reference still needs one
    backend = open_backend(backend_name, dwpose_models)
    try:
        found = backend.detect(reference_frame)
    finally:
        backend.close()
    if not found:
        raise ValueError("cannot fit the skeleton: no person found in the reference image")
    reference = max(found, key=lambda person: person.box_area(request.threshold))
    fit = plan_fit(track, reference, request.threshold, request.fit_to_reference)
    fitted = apply_fit(track, fit, request.threshold)
    shown = next((t for t, person in enumerate(track) if person is not None), 0)
    options = request.render_options
    size = (request.height, request.width)
    panels = [
        overlay(reference_frame, render_pose([reference], *size, options)),
        render_pose([track[shown]] if track[shown] else [], *size, options),
        overlay(reference_frame, render_pose([fitted[shown]] if fitted[shown] else [], *size, options)),
    ]
    preview = side_by_side(panels)
    path = out_dir / "fit.png"
    Image.fromarray(preview).save(path)
    return fit, path, photo


def write_outputs(out_dir: Path, request: PoseRequest, frames, pose_frames, overlay_frames, drawn) -> dict:
    first_frame = out_dir / "first_frame.png"
    Image.fromarray(frames[request.reference_frame]).save(first_frame)
    keypoints = out_dir / "keypoints.json"
    write_json({
        "format": KEYPOINTS_FORMAT, "width": request.width, "height": request.height, "fps": request.fps,
        "frames": [[person.to_json() for person in people] for people in drawn],
    }, keypoints)
    return {
        "pose_video": media.write_mp4(pose_frames, out_dir / "pose.mp4", request.fps),
        "overlay_video": media.write_mp4(overlay_frames, out_dir / "overlay.mp4", request.fps),
        "first_frame": first_frame,
        "keypoints": keypoints,
        "manifest": out_dir / "manifest.json",
    }


def write_face_video(out_dir: Path, request: PoseRequest, frames, track, notes: list[str]) -> Path | None:
    """face.mp4 for Animate models, or a note when no frame shows a face."""
    from engine.pose.face_crops import FACE_SIZE, face_crops

    crops = face_crops(frames, track, request.threshold)
    if crops is None:
        notes.append("No face or head found in any frame: face.mp4 was not written (Animate then gets a blank face).")
        return None
    notes.append(f"face.mp4: the face cropped from each frame (box grown 1.3x), {FACE_SIZE}x{FACE_SIZE}, for Animate "
                 "models.")
    return media.write_mp4(crops, out_dir / "face.mp4", request.fps)


def write_replace_inputs(out_dir: Path, request: PoseRequest, frames, notes: list[str], should_stop=None) -> dict:
    """background.mp4 and mask.mp4 for Animate's replace mode, at the pose video's size and frame rate."""
    from engine.pose.person_mask import person_masks, replace_inputs

    if not request.video:
        notes.append("Replace-mode inputs need the driving video itself, not keypoints: none were written.")
        return {}
    try:
        masks = person_masks(frames, should_stop)
    except InterruptedError:
        raise PoseCancelled("stopped while finding the person for replace mode") from None
    background, mask = replace_inputs(frames, masks)
    notes.append(f"background.mp4 and mask.mp4 for Animate's replace mode: the person covers {masks.mean():.0%} of "
                 "the frame on average; the mask is grown so a new character fits inside it.")
    return {"background_video": media.write_mp4(background, out_dir / "background.mp4", request.fps),
            "mask_video": media.write_mp4(mask, out_dir / "mask.mp4", request.fps)}


def pose_manifest(request: PoseRequest, result: PoseResult, source: SourceInfo) -> dict:
    return {
        "kind": "pose",
        "request": asdict(request),
        "backend": result.backend,
        "source": asdict(source),
        "aist": dict(result.aist),
        "outputs": {name: getattr(result, name).name for name in
                    ("pose_video", "overlay_video", "first_frame", "keypoints", "face_video", "background_video",
                     "mask_video")
                    if getattr(result, name) is not None},
        "diagnostics": result.diagnostics.to_json(),
        "diagnostics_before_smoothing": result.raw_diagnostics.to_json() if result.raw_diagnostics else None,
        "fit": result.fit.to_json() if result.fit else None,
        "notes": result.notes,
        "timings": {name: round(value, 4) for name, value in result.timings.items()},
        "versions": package_versions(),
    }


def read_keypoints_json(path: str | Path) -> dict:
    """A keypoints.json this module wrote: its fps, width and height, and per frame a list of Persons."""
    import json

    data = json.loads(Path(path).read_text())
    return {"fps": float(data["fps"]), "width": int(data["width"]), "height": int(data["height"]),
            "frames": [[Person.from_json(person) for person in frame] for frame in data["frames"]]}
