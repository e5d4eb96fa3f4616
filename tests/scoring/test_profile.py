"""The profile's scoring and goals sections: read from the YAML with their seeds, every mistake
named by file, line and key."""

import pytest

from xinfang.rules.profile import ProfileError, load_profile_text, shipped_profiles
from xinfang.rules.profile.loader import SHIPPED_DIR


def test_the_shipped_profiles_score_and_aim_as_their_seeds_say():
    p = shipped_profiles()
    assert p["lihai"].scoring.periods == ("quarter", "year")  # 004 §二(七) 季考评、年考核
    assert p["datonghu"].scoring.periods == ("year",)  # 000 §十 年终考核
    assert p["national"].scoring is None and p["kaijiang"].scoring is None
    late = p["lihai"].scoring.points[0]
    assert (late.count, late.points, late.cap) == ("late", -2.0, 20.0)
    assert late.clocks == ("phone_contact", "reply_phone_online", "reply_letter_visit")
    assert [(g.measure, g.aim) for g in p["jianan"].goals] == [
        ("received", "fall"), ("provincial_or_above", "zero"), ("satisfaction_rate", "rise")]
    assert [g.measure for g in p["henan"].goals] == ["received", "backlog"]


def _lihai(**swap) -> str:
    text = (SHIPPED_DIR / "lihai.yaml").read_text(encoding="utf-8")
    for old, new in swap.items():
        assert old in text
        text = text.replace(old, new, 1)
    return text


def test_a_point_naming_an_unknown_clock_or_count_is_named_by_line():
    text = _lihai(**{"clocks: [phone_contact, reply_phone_online, reply_letter_visit]":
                     "clocks: [phone_contact, nope]",
                     "count: repeat": "count: repeats",
                     "measure: level_skipping": "measure: skipping"})
    with pytest.raises(ProfileError) as e:
        load_profile_text(text, source="lihai.yaml")
    message = str(e.value)
    assert "scoring.points[0].clocks[1]" in message and "nope" in message
    assert "scoring.points[1].count" in message and "repeats" in message
    assert "goals[0].measure" in message
    assert all(err.line for err in e.value.errors)
