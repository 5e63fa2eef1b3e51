import pytest

from engine.pose.aist import GENRES, SITUATIONS, parse_aist_name, try_parse_aist_name


def test_the_blogs_example_name():
    clip = parse_aist_name("gBR_sBM_c01_d04_mBR0_ch01.mp4")
    assert (clip.genre, clip.situation, clip.camera, clip.dancers) == ("BR", "BM", 1, ["d04"])
    assert (clip.music, clip.choreography) == ("mBR0", 1)
    assert clip.genre_name == "Break" and clip.situation_name == "Basic Dance"
    words = clip.words()
    assert words["genre_words"] == "breakdance" and words["camera_words"] == "Front view"
    assert words["camera_phrase"] == "seen from the front" and words["people_words"] == "a dancer"


def test_full_tables():
    assert len(GENRES) == 10 and len(SITUATIONS) == 7
    assert GENRES["LH"] == "LA style Hip-hop" and GENRES["JB"] == "Ballet Jazz" and SITUATIONS["FM"] == "Advanced Dance"
    for code in GENRES:
        assert parse_aist_name(f"g{code}_sFM_c05_d10_m{code}3_ch12").genre == code


def test_group_dance_names_three_dancers():
    clip = parse_aist_name("/data/aist/gHO_sGR_c03_d19_d20_d21_mHO1_ch07")
    assert clip.dancers == ["d19", "d20", "d21"] and clip.situation_name == "Group Dance"
    assert clip.words()["people_words"] == "a group of three dancers"
    assert clip.words()["camera_words"].startswith("Camera 3 of 9")


def test_showcase_cypher_and_battle_names():
    assert parse_aist_name("sSH_c01_v0").situation_name == "Showcase"
    battle = parse_aist_name("sBT_c01_d21_d31_v5.mp4")
    assert battle.dancers == ["d21", "d31"] and battle.variation == 5 and battle.genre is None
    assert dict(battle.table())["variation"] == "v5"


@pytest.mark.parametrize("name, message", [
    ("my_dance_video.mp4", "not an AIST name"),
    ("gXX_sBM_c01_d04_mBR0_ch01", "unknown genre code 'XX'"),
    ("gBR_sZZ_c01_d04_mBR0_ch01", "unknown situation code 'ZZ'"),
    ("gBR_sBM_c12_d04_mBR0_ch01", "camera c12 is out of range"),
    ("gBR_sGR_c01_d01_d02_mBR0_ch01", "names three dancers, found 2"),
    ("gBR_sBM_c01_d01_d02_d03_mBR0_ch01", "only group dances"),
    ("gBR_sBM_c01_d04_mBR0", "not an AIST name"),
])
def test_malformed_names_say_what_is_wrong(name, message):
    with pytest.raises(ValueError, match=message):
        parse_aist_name(name)
    assert try_parse_aist_name(name) is None


def test_table_rows_for_display():
    rows = dict(parse_aist_name("gWA_sFM_c01_d27_mWA2_ch21").table())
    assert rows == {"genre": "Waack (gWA)", "situation": "Advanced Dance (sFM)", "camera": "c01: Front view",
                    "dancers": "d27", "music": "mWA2 (Waack piece 2)", "choreography": "ch21"}
