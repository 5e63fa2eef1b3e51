"""How large a request may be, and what it will cost, said before it runs.

Every size field has a limit the model and the machine can serve (the model preset's `max_frames` and
`max_side`), stated on the page's widgets and in the one-line refusal the UI, the CLI and the API all give.
A request inside the limits still has to fit in memory: `estimate` gives its host memory and, once this
engine has measured a step at that size, its time.
"""

from __future__ import annotations

import ctypes
import gc
from dataclasses import dataclass

# What a request holds at once on the host, per pixel of its video: the control video as read (uint8, 1 byte)
# and, as float32 (4 bytes each), the fitted control, its mask and the decoded frames. A rough upper bound
# on what grows with the size; the model's own memory comes on top and is already in use once it is loaded.
BYTES_PER_VIDEO_PIXEL = 3 * (1 + 3 * 4)
MEMORY_SHARE = 0.8  # refuse a request whose estimate is more than this share of the memory free now
# A request whose video needs more than this is not kept in the engine's caches, and the memory it used is
# handed back to the system when it ends: the server returns to its idle size.
LARGE_VIDEO_MB = 256


@dataclass(frozen=True)
class Estimate:
    windows: int
    steps: int
    passes: float
    """Transformer passes per step on average (2 where guided)."""
    memory_mb: float
    free_mb: float | None
    seconds: float | None
    """windows x steps x passes x the last measured s/step at this size; None before one was measured."""

    @property
    def fits(self) -> bool:
        return self.free_mb is None or self.memory_mb <= MEMORY_SHARE * self.free_mb

    def text(self) -> str:
        """One line for the page: the plan, the time where known, the memory against what is free."""
        plan = f"{self.windows} window{'s' if self.windows != 1 else ''} x {self.steps} steps"
        time = f"about {self.seconds:.0f} s" if self.seconds is not None else "time known after a first run"
        memory = f"about {self.memory_mb / 1024:.1f} GB for the video"
        if self.free_mb is not None:
            memory += f" of {self.free_mb / 1024:.1f} GB free"
        return f"{plan}; {time}; {memory}"


def size_limit_errors(request, max_frames: int, max_side: int) -> list[str]:
    """One reason per size field past the model's limit."""
    errors = []
    if request.num_frames > max_frames:
        errors.append(f"num_frames must be at most {max_frames} for this model, got {request.num_frames}")
    for name in ("height", "width"):
        if getattr(request, name) > max_side:
            errors.append(f"{name} must be at most {max_side} px for this model, got {getattr(request, name)}")
    return errors


def video_memory_mb(request) -> float:
    return request.num_frames * request.height * request.width * BYTES_PER_VIDEO_PIXEL / 2**20


def free_memory_mb() -> float | None:
    """Memory the system could give this process now (MemAvailable), or None where it cannot be read."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def is_large(request) -> bool:
    return video_memory_mb(request) > LARGE_VIDEO_MB


def give_back_memory():
    """Hand freed memory back to the system: Python's garbage first, then glibc's free lists (malloc_trim),
    which otherwise keep a large request's arrays as part of the process after they are freed."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (macOS, musl): the allocator keeps what it keeps
        pass
