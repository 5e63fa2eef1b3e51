"""AIST Dance Video Database file names, parsed into what they say about the clip.

    gBR_sBM_c01_d04_mBR0_ch01            genre, situation, camera, dancer, music, choreography
    gBR_sGR_c01_d01_d02_d03_mBR3_ch04    group dance: three dancers
    sSH_c01_v0 / sBT_c01_d21_d31_v5      showcase, cypher and battle: camera, (dancers,) variation

Tables from the AIST Dance DB paper (Tsuchida et al., ISMIR 2019). The blog used these words to build
per-clip prompts; the Pose tab shows them too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

GENRES = {
    "BR": "Break", "PO": "Pop", "LO": "Lock", "MH": "Middle Hip-hop", "LH": "LA style Hip-hop",
    "HO": "House", "WA": "Waack", "KR": "Krump", "JS": "Street Jazz", "JB": "Ballet Jazz",
}
# How each genre reads in a prompt.
GENRE_WORDS = {
    "BR": "breakdance", "PO": "popping dance", "LO": "locking dance", "MH": "middle hip-hop dance",
    "LH": "LA-style hip-hop dance", "HO": "house dance", "WA": "waacking dance", "KR": "krump dance",
    "JS": "street jazz dance", "JB": "ballet jazz dance",
}
SITUATIONS = {
    "BM": "Basic Dance", "FM": "Advanced Dance", "MM": "Moving Camera", "GR": "Group Dance",
    "SH": "Showcase", "CY": "Cypher", "BT": "Battle",
}
SITUATION_WORDS = {
    "BM": "a basic choreography", "FM": "an advanced choreography", "MM": "a routine filmed by a moving camera",
    "GR": "a group routine", "SH": "a showcase performance", "CY": "a cypher", "BT": "a dance battle",
}
NUM_CAMERAS = 9

_DANCE = re.compile(r"^g(?P<genre>[A-Z]{2})_s(?P<situation>[A-Z]{2})_c(?P<camera>\d{2})_(?P<dancers>d\d{2}(?:_d\d{2})*)"
                    r"_m(?P<music_genre>[A-Z]{2})(?P<music>\d)_ch(?P<choreography>\d{2})$")
_EVENT = re.compile(r"^s(?P<situation>SH|CY|BT)_c(?P<camera>\d{2})(?P<dancers>(?:_d\d{2})*)_v(?P<variation>\d+)$")


@dataclass
class AistClip:
    """What an AIST file name says about its clip."""

    name: str
    situation: str
    camera: int
    dancers: list[str] = field(default_factory=list)
    genre: str | None = None
    music: str | None = None
    choreography: int | None = None
    variation: int | None = None

    @property
    def genre_name(self) -> str | None:
        return GENRES[self.genre] if self.genre else None

    @property
    def situation_name(self) -> str:
        return SITUATIONS[self.situation]

    @property
    def camera_words(self) -> str:
        # Only c01 is documented as the front camera; the others ring the dancer.
        return "Front view" if self.camera == 1 else f"Camera {self.camera} of {NUM_CAMERAS} (an angle around the dancer)"

    def words(self) -> dict:
        """Prompt-ready words: genre, situation, view, people."""
        people = "a group of three dancers" if len(self.dancers) >= 3 else (
            "two dancers" if len(self.dancers) == 2 else "a dancer")
        return {
            "genre_words": GENRE_WORDS.get(self.genre, "dance"),
            "situation_words": SITUATION_WORDS[self.situation],
            "camera_words": self.camera_words,
            "camera_phrase": "seen from the front" if self.camera == 1 else f"seen from camera {self.camera} of {NUM_CAMERAS}",
            "people_words": people,
        }

    def table(self) -> list[tuple[str, str]]:
        """Rows for display: field, value as read."""
        rows = []
        if self.genre:
            rows.append(("genre", f"{self.genre_name} (g{self.genre})"))
        rows.append(("situation", f"{self.situation_name} (s{self.situation})"))
        rows.append(("camera", f"c{self.camera:02d}: {self.camera_words}"))
        if self.dancers:
            rows.append(("dancers", ", ".join(self.dancers)))
        if self.music:
            rows.append(("music", f"{self.music} ({GENRES[self.music[1:3]]} piece {self.music[-1]})"))
        if self.choreography is not None:
            rows.append(("choreography", f"ch{self.choreography:02d}"))
        if self.variation is not None:
            rows.append(("variation", f"v{self.variation}"))
        return rows


def parse_aist_name(name: str | Path) -> AistClip:
    """Parse an AIST file name (with or without folder and extension); ValueError says what is wrong."""
    stem = Path(str(name)).name.split(".")[0]
    match = _DANCE.match(stem)
    if match:
        return _dance_clip(stem, match)
    match = _EVENT.match(stem)
    if match:
        return AistClip(name=stem, situation=match["situation"], camera=_camera(stem, match["camera"]),
                        dancers=[d for d in match["dancers"].split("_") if d], variation=int(match["variation"]))
    raise ValueError(
        f"{stem!r} is not an AIST name; expected like gBR_sBM_c01_d04_mBR0_ch01 "
        "(genre_situation_camera_dancer(s)_music_choreography) or sSH_c01_v0"
    )


def try_parse_aist_name(name: str | Path) -> AistClip | None:
    try:
        return parse_aist_name(name)
    except ValueError:
        return None


def _dance_clip(stem: str, match: re.Match) -> AistClip:
    genre, situation, music_genre = match["genre"], match["situation"], match["music_genre"]
    for code, table, what in ((genre, GENRES, "genre"), (situation, SITUATIONS, "situation"),
                              (music_genre, GENRES, "music genre")):
        if code not in table:
            raise ValueError(f"{stem}: unknown {what} code {code!r}; known: {', '.join(sorted(table))}")
    dancers = match["dancers"].split("_")
    if situation == "GR" and len(dancers) != 3:
        raise ValueError(f"{stem}: a group dance (sGR) names three dancers, found {len(dancers)}")
    if situation != "GR" and len(dancers) != 1:
        raise ValueError(f"{stem}: only group dances (sGR) name several dancers, found {len(dancers)}")
    return AistClip(name=stem, situation=situation, camera=_camera(stem, match["camera"]), dancers=dancers,
                    genre=genre, music=f"m{music_genre}{match['music']}", choreography=int(match["choreography"]))


def _camera(stem: str, text: str) -> int:
    camera = int(text)
    if not 1 <= camera <= NUM_CAMERAS:
        raise ValueError(f"{stem}: camera c{text} is out of range c01-c{NUM_CAMERAS:02d}")
    return camera
