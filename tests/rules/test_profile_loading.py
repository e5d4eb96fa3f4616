"""Rule profiles as data: the six shipped files load, `extends` merges, and a broken file is
reported in full — file, line and key for every error."""

import datetime as dt
import hashlib
import json
import textwrap
from pathlib import Path

import pytest

from xinfang.rules.profile import (
    SHIPPED_DIR,
    Profile,
    ProfileError,
    load_profile,
    load_profile_text,
    shipped_profiles,
)

CODES = ("national", "datonghu", "jianan", "kaijiang", "henan", "lihai")


@pytest.fixture(scope="module")
def profiles() -> dict[str, Profile]:
    return shipped_profiles()


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def errors_of(path_or_text, **kwargs) -> list:
    with pytest.raises(ProfileError) as caught:
        if isinstance(path_or_text, Path):
            load_profile(path_or_text)
        else:
            load_profile_text(path_or_text, **kwargs)
    return caught.value.errors


def facts(**values) -> dict:
    base = {
        "kind": "petition",
        "channel": "letter",
        "source_level": "none",
        "repeat_count": 0,
        "is_first_petition": True,
        "repeat": False,
        "key_case": False,
        "headcount": 1,
    }
    return base | values


# --- the shipped files --------------------------------------------------------------------------


@pytest.mark.parametrize("code", CODES)
def test_each_shipped_profile_loads(code):
    profile = load_profile(SHIPPED_DIR / f"{code}.yaml")
    assert profile.code == code
    assert profile.version >= 1
    assert len(profile.checksum) == 64
    assert profile.source_path.endswith(f"{code}.yaml")
    assert profile.extends == (None if code == "national" else "national")


def test_shipped_profiles_are_the_six(profiles):
    assert tuple(profiles) == CODES
    mine = shipped_profiles()
    mine.pop("lihai")
    assert "lihai" in shipped_profiles()  # each caller gets its own dict


@pytest.mark.parametrize("code", CODES)
def test_every_rule_cites_its_seed(profiles, code):
    profile = profiles[code]
    rules = [
        *profile.all_clocks,
        *profile.routing,
        *profile.constraints,
        *profile.warnings,
        *profile.reply_modes,
        *profile.report_back,
        *profile.targets,
        *profile.receptions,
        *profile.periodic_reports,
        *profile.registers,
        *profile.principles,
        *profile.signatures.conditional,
        profile.closing,
        profile.signatures,
        profile.extension,
        profile.scope,
        profile.collective,
        profile.review_windows,
    ]
    assert all(rule.seed for rule in rules), [r for r in rules if not r.seed]
    if code != "national":
        own = [r for r in rules if r.seed.startswith(profile.seed)]
        assert own, "a local profile encodes its own seed"


@pytest.mark.parametrize("code", CODES)
def test_snapshot_is_json(profiles, code):
    snapshot = profiles[code].as_dict()
    assert json.loads(json.dumps(snapshot, ensure_ascii=False))["code"] == code


def test_national_defaults(profiles):
    national = profiles["national"]
    clock = national.clock
    assert (clock("routing").start, clock("routing").amount, clock("routing").unit) == (
        ("registered",),
        15,
        "days",
    )
    assert (clock("acceptance_notice").amount, clock("acceptance_notice").unit) == (15, "days")
    objection = clock("objection_window")
    assert (objection.amount, objection.unit, objection.kind) == (5, "working_days", "window")
    handling = clock("handling")
    assert (handling.start, handling.stop, handling.amount) == (
        ("signed_for",),
        ("letter_issued",),
        60,
    )
    assert handling.extends_on == ("extension_approved",)
    ext = national.extension
    assert (ext.max_count, ext.amount, ext.unit) == (1, 30, "days")
    window = clock("review_request_window")
    assert (window.start, window.stop, window.amount, window.kind) == (
        ("letter_delivered",),
        ("review_requested",),
        30,
        "window",
    )
    assert clock("review_decision").amount == 30 and clock("rereview_decision").amount == 30
    assert clock("review_decision").when.matches({"kind": "review"})
    assert not clock("review_decision").when.matches({"kind": "petition"})
    assert (national.collective.min_headcount, national.collective.max_representatives) == (5, 5)
    assert national.route(facts(concerns_misconduct=True)).lead == "discipline"
    assert national.case_number(prefix="X", year=2026, seq=12) == "X〔2026〕0012号"
    with pytest.raises(KeyError):
        clock("no_such_clock")


def test_datonghu(profiles):
    p = profiles["datonghu"]
    proposal, assignment = p.clock("proposal"), p.clock("assignment")
    assert (proposal.start, proposal.stop, proposal.amount, proposal.unit) == (
        ("registered",),
        ("proposed",),
        1,
        "days",
    )
    assert (assignment.start, assignment.stop[0], assignment.unit) == (
        ("signed_off",),
        "assigned",
        "same_day",
    )
    ordinary = {c.name: (c.amount, c.unit) for c in p.clocks_for(facts())}
    key = {c.name: (c.amount, c.unit) for c in p.clocks_for(facts(key_case=True))}
    assert ordinary["reply"] == (3, "working_days") and "reply_key" not in ordinary
    assert key["reply_key"] == (5, "working_days") and "reply" not in key
    assert p.clock("reply").stop == ("letter_delivered",)
    assert "handling" in ordinary  # the seed is silent on 60 days: the national rule stays


def test_datonghu_refuses_a_village_but_not_a_township(profiles):
    p = profiles["datonghu"]
    (refusal,) = p.refusals(facts(unit_level="village", unit_kind="village"))
    assert "村级" in refusal.label and refusal.seed == "000 §四(二)"
    assert p.refusals(facts(unit_level="township", unit_kind="township")) == ()
    assert p.refusals(facts(unit_level="county", unit_kind="poverty_office")) == ()


def test_datonghu_reply_modes_and_signatures(profiles):
    p = profiles["datonghu"]

    def mode(**values):
        return next((m for m in p.reply_modes if m.when.matches(facts(**values))), None)

    provincial = mode(has_leader_instruction=True, leader_instruction_level="province")
    assert provincial.signed_by == ("chief", "chief")
    assert provincial.titles == ("区委书记", "区长")
    assert mode(collective=True).mode == "written"
    assert mode(source_level="city").mode == "written"
    assert mode() is None  # an ordinary case may be answered in person or by phone
    assert set(p.closing.requires) >= {
        "decision_letter_delivered",
        "delivery_receipt",
        "settlement_pledge",
    }
    (extra,) = p.signatures.conditional
    assert extra.step == "sign_off" and extra.when.matches(facts(source_level="province"))
    assert p.extension.requires_progress_report
    (bulletin,) = p.periodic_reports
    assert bulletin.period == "month"  # the bulletin itself defines its three kinds
    assert p.route(facts(concerns_misconduct=True)).lead == "discipline"
    assert p.route(facts(has_leader_instruction=True)).lead == "poverty_office"


def test_jianan(profiles):
    p = profiles["jianan"]
    first = {c.name: c for c in p.clocks_for(facts())}
    assert (first["first_contact"].amount, first["first_contact"].unit) == (1, "days")
    assert first["first_visit_notice"].amount == 3
    assert first["first_visit_notice"].stop == ("acceptance_notice_delivered",)
    repeat = {
        c.name: c for c in p.clocks_for(facts(repeat=True, repeat_count=1, is_first_petition=False))
    }
    assert repeat["repeat_contact"].unit == "same_day"
    assert (
        repeat["repeat_lead_named"].amount,
        repeat["repeat_lead_named"].unit,
        repeat["repeat_lead_named"].stop[0],
    ) == (24, "hours", "assigned")
    assert (repeat["repeat_initial_report"].amount, repeat["repeat_initial_report"].unit) == (
        3,
        "working_days",
    )
    assert repeat["repeat_handling_report"].amount == 10
    assert "first_contact" not in repeat
    assert "repeat_contact" in {c.name for c in p.clocks_for(facts(level_skipping=True))}
    opinion = {c.name: c for c in p.clocks_for(facts(kind="opinion_incident"))}
    assert [
        (opinion[n].amount, opinion[n].unit, opinion[n].stop)
        for n in (
            "opinion_offices_notified",
            "opinion_meeting",
            "opinion_response_report",
            "opinion_handled",
        )
    ] == [
        (6, "hours", ("offices_notified",)),
        (18, "hours", ("contact_logged:meeting",)),
        (24, "hours", ("report_submitted:response",)),
        (72, "hours", ("report_submitted:handling",)),
    ]
    assert "handling" not in opinion  # the statutory clocks are for petitions
    promised = p.clock("promised_reply")
    assert (promised.start, promised.amount, promised.unit) == (
        ("acceptance_notice_delivered",),
        10,
        "days",
    )
    assert p.review_windows.review.request.amount == 30


def test_jianan_weekly_batch_numbering_and_categories(profiles):
    p = profiles["jianan"]
    (batch,) = p.report_back
    assert (batch.weekly.weekday, batch.weekly.time) == (4, dt.time(10, 0))
    assert batch.amount is None
    assert batch.when.matches(facts(source_level="province"))
    assert not batch.when.matches(facts(source_level="county"))
    assert p.case_number(prefix="建安", year=2022, seq=42) == "建安信〔2022〕0042号"
    assert set(p.categories) == {
        "防返贫监测",
        "帮扶措施",
        "资金项目",
        "危房改造",
        "小额信贷",
        "民政救助",
        "医疗保障",
        "残疾人补贴",
        "其他",
        "精准识别",
        "精准退出",
        "易地搬迁",
        "教育保障",
        "残疾人保障",
    }
    assert len(p.categories) == 14


def test_kaijiang(profiles):
    p = profiles["kaijiang"]
    assert p.scope.matter_types == ("request",)
    assert p.scope.accepted_since == dt.date(2018, 8, 1)
    notice = [c for c in p.clocks if c.name == "acceptance_notice"]
    assert len(notice) == 1 and (notice[0].amount, notice[0].unit) == (5, "days")
    assert notice[0].seed.startswith("002")  # the seed's rule replaced the national one
    assert p.clock("handling").amount == 60
    ext = p.extension
    assert (ext.max_count, ext.amount, ext.requires_progress_report) == (1, 30, True)
    assert p.analysis.unsettled_days == 60 and p.analysis.on_relapse
    assert set(p.closing.requires) >= {
        "acceptance_notice_delivered",
        "decision_letter_delivered",
        "delivery_receipt",
        "satisfaction_rating",
        "settlement_pledge",
    }
    # The seven-point review guides people as a principle too; 谁登记、谁交办、谁审核 is enforced
    # (signatures.registrar_assigns / registrar_reviews).
    assert "seven_point_review" in {r.name for r in p.principles}
    assert p.signatures.registrar_assigns and p.signatures.registrar_reviews
    assert p.signatures.registrar_assigns
    thresholds = {t.name: t.threshold for t in p.targets}
    assert thresholds == {
        "registered": 1.0,
        "replied": 1.0,
        "written_delivery": 1.0,
        "resolved": 1.0,
        "rating_participation": 1.0,
        "satisfaction": 0.9,
        "review_quality": 1.0,  # issue 17: 002 §四(三)
    }
    # Resolved only once the seven-point review passed (issue 17).
    assert next(t for t in p.targets if t.name == "resolved").numerator == "resolved_passed"
    assert [q.name for q in p.oversight.review.points] == [
        "procedure", "documents", "delivery", "demands", "reasonableness", "basis", "opinion"]


def test_henan_keeps_provincial_key_cases_above_the_township(profiles):
    p = profiles["henan"]
    key = facts(source_level="province", key_case=True)
    assert p.refusals(key | {"unit_level": "township", "unit_kind": "township"})
    assert p.refusals(key | {"unit_level": "village", "unit_kind": "village"})
    assert p.refusals(key | {"unit_level": "county", "unit_kind": "poverty_office"}) == ()
    assert p.refusals(key | {"unit_level": "city", "unit_kind": "bureau"}) == ()
    ordinary = facts(source_level="province", key_case=False)
    assert p.refusals(ordinary | {"unit_level": "township", "unit_kind": "township"}) == ()
    city_key = facts(source_level="city", key_case=True)
    assert p.refusals(city_key | {"unit_level": "township", "unit_kind": "township"}) == ()


def test_henan_report_back_ownership_and_categories(profiles):
    p = profiles["henan"]
    (report,) = p.report_back
    assert (report.amount, report.unit) == (25, "days")
    assert "investigation_report" in report.contents
    assert report.when.matches(facts(source_level="central", key_case=True))
    owners = p.warnings_for(facts(concerns_several_units=True))
    assert [w.name for w in owners] == ["several_units_ownership"]
    assert owners[0].leader_ownership and not owners[0].notice
    assert {"精准识别", "公益岗位", "D级危房改造", "易地扶贫搬迁", "干部作风"} <= set(p.categories)


def test_lihai_warning_notice(profiles):
    p = profiles["lihai"]
    (warning,) = p.warnings_for(facts(repeat=True, repeat_count=2, is_first_petition=False))
    assert (warning.follow_up.amount, warning.follow_up.unit) == (7, "working_days")
    assert warning.to == ("line_head",) and warning.cc == ("approver", "chief")
    assert warning.signed_by == ("approver",) and warning.notice
    assert len(warning.ownership_items) == 5
    assert p.warnings_for(facts(repeat=True, repeat_count=1, is_first_petition=False)) == ()
    for trigger in ({"level_skipping": True}, {"collective": True}, {"extreme_behaviour": True}):
        assert p.warnings_for(facts(**trigger))


def test_lihai_routing_clocks_and_2211(profiles):
    p = profiles["lihai"]
    assert p.route(facts(concerns_policy=True)).lead == "line_office"
    assert p.route(facts(concerns_execution=True)).lead == "area_team"
    assert p.route(facts(concerns_misconduct=True, concerns_policy=True)).lead == "discipline"
    phone = p.clock("phone_contact")
    assert (phone.amount, phone.unit, "contact_logged:phone" in phone.stop) == (
        1,
        "working_days",
        True,
    )
    by_phone = {c.name: c for c in p.clocks_for(facts(channel="online"))}
    by_letter = {c.name: c for c in p.clocks_for(facts(channel="visit"))}
    assert (by_phone["reply_phone_online"].amount, by_phone["reply_phone_online"].unit) == (
        1,
        "weeks",
    )
    assert (by_letter["reply_letter_visit"].amount, by_letter["reply_letter_visit"].unit) == (
        15,
        "working_days",
    )
    assert "reply_letter_visit" not in by_phone
    (reception,) = p.receptions
    assert reception.when.matches(facts(channel="visit", headcount=5))
    assert not reception.when.matches(facts(channel="visit", headcount=4))
    assert p.signatures.assignment == ("chief",) and p.signatures.closing[-1] == "chief"
    assert "return_visit" in p.closing.requires
    assert {t.name: t.threshold for t in p.targets} == {
        "proxy_rate": 0.5,
        "closing_rate": 1.0,
        "satisfaction": 0.95,
    }


# --- extends ------------------------------------------------------------------------------------

PARENT = """
    code: parent
    version: 3
    name: 上级
    seed: "P"
    description: parent
    case_number_pattern: "{prefix}-{year}-{seq}"
    categories: [甲, 乙]
    scope: {matter_types: [request], seed: "P 1"}
    collective: {min_headcount: 5, max_representatives: 5, seed: "P 2"}
    clocks:
      - {name: a, label: A, start: [registered], stop: [assigned], amount: 1, unit: days, seed: P}
      - {name: b, label: B, start: [assigned], stop: [closed], amount: 9, unit: days, seed: P}
      - {name: c, label: C, start: [assigned], stop: [closed], amount: 2, unit: weeks, seed: P}
    routing:
      - {name: r, lead: bureau, seed: "P 6"}
    closing: {requires: [closing_signature], seed: "P 7"}
    signatures: {sign_off: [approver], seed: "P 8"}
    extension: {max_count: 1, amount: 30, unit: days, seed: "P 9"}
    review_windows:
      review: {request: {amount: 30, unit: days}, decision: {amount: 30, unit: days}}
      rereview: {request: {amount: 30, unit: days}, decision: {amount: 30, unit: days}}
      seed: "P 10"
"""

CHILD = """
    code: child
    version: 1
    name: 下级
    seed: "C"
    description: child
    extends: parent
    clocks:
      - {name: b, label: B2, start: [signed_for], stop: [closed], amount: 4,
         unit: working_days, seed: "C 1"}
      - {name: d, label: D, start: [registered], stop: [proposed], unit: same_day, seed: "C 2"}
    clocks_remove: [c]
    routing:
      - {name: r2, lead: township, seed: "C 3"}
"""


def test_extends_merges_clocks_by_name_and_replaces_sections(tmp_path):
    write(tmp_path, "parent.yaml", PARENT)
    child = load_profile(write(tmp_path, "child.yaml", CHILD))
    assert [(c.name, c.amount, c.unit) for c in child.clocks] == [
        ("a", 1, "days"),
        ("b", 4, "working_days"),
        ("d", 0, "same_day"),
    ]
    assert [r.name for r in child.routing] == ["r2"]  # a section replaces the parent's
    assert child.categories == ("甲", "乙")  # where the child is silent the parent applies
    assert (child.code, child.version, child.extends) == ("child", 1, "parent")


def test_a_childs_checksum_covers_its_parent(tmp_path):
    write(tmp_path, "parent.yaml", PARENT)
    path = write(tmp_path, "child.yaml", CHILD)
    before = load_profile(path).checksum
    write(tmp_path, "parent.yaml", PARENT.replace("amount: 9", "amount: 8"))
    assert load_profile(path).checksum != before
    national = SHIPPED_DIR / "national.yaml"
    assert load_profile(national).checksum == hashlib.sha256(national.read_bytes()).hexdigest()


def test_a_parent_text_can_be_pinned():
    # A stored version re-parses against the parent text it was installed with.
    pinned = textwrap.dedent(PARENT).replace("amount: 1, unit: days", "amount: 7, unit: days")
    child = load_profile_text(textwrap.dedent(CHILD), source="child", parents={"parent": pinned})
    assert child.clock("a").amount == 7
    bare = "code: x\nversion: 1\nname: x\nseed: 'x'\ndescription: x\nextends: national\n"
    assert load_profile_text(bare).clocks == shipped_profiles()["national"].clocks


def test_extends_errors(tmp_path):
    write(tmp_path, "parent.yaml", PARENT)
    missing = errors_of(
        write(tmp_path, "orphan.yaml", CHILD.replace("extends: parent", "extends: nobody"))
    )
    assert [(e.key, e.line) for e in missing] == [("extends", 6)]
    bad_remove = errors_of(write(tmp_path, "rm.yaml", CHILD.replace("[c]", "[c, zz]")))
    assert [(e.key, e.line, e.message) for e in bad_remove] == [
        ("clocks_remove[1]", 11, "没有名为 'zz' 的时限")
    ]
    no_code = errors_of(write(tmp_path, "nocode.yaml", CHILD.replace("code: child\n", "")))
    assert any("每个配置文件都须写明 'code'" in e.message for e in no_code)


def test_an_error_inherited_from_the_parent_points_at_the_parent(tmp_path):
    write(
        tmp_path,
        "parent.yaml",
        PARENT.replace("stop: [closed], amount: 2", "stop: [shut], amount: 2"),
    )
    (error,) = errors_of(write(tmp_path, "child.yaml", CHILD.replace("clocks_remove: [c]", "")))
    assert (Path(error.file).name, error.line, error.key) == (
        "parent.yaml",
        13,
        "clocks[2].stop[0]",
    )


# --- a broken profile is reported in full ------------------------------------------------------

BROKEN = """
    code: broken
    version: 1
    name: 坏的规则
    seed: "999"
    description: several mistakes at once
    extends: national
    case_number_pattern: "{prefix}{seq.__class__}"
    clocks:
      - name: reply
        label: 答复
        start: [registered]
        stop: [letter_sent]
        amount: 3
        unit: fortnights
        seed: "999 §1"
    constraints:
      - name: no_village
        label: 不交村
        when: {field: unit_level, eq: hamlet}
        seed: "999 §2"
    routing:
      - name: r
        lead: ministry
        when: {all: [{field: repeat, eq: true}, {field: mood, eq: angry}]}
        seed: "999 §3"
"""


def test_a_broken_profile_reports_every_error_with_file_line_and_key(tmp_path):
    path = write(tmp_path, "broken.yaml", BROKEN)
    errors = errors_of(path)
    found = {(e.key, e.line) for e in errors}
    assert found == {
        ("case_number_pattern", 7),
        ("clocks[0].stop[0]", 12),  # keys name the place in the file that has the line
        ("clocks[0].unit", 14),
        ("constraints[0].when.eq", 19),
        ("routing[0].lead", 23),
        ("routing[0].when.all[1].field", 24),
    }
    assert all(e.file == str(path) for e in errors)
    by_key = {e.key: e.message for e in errors}
    assert "不允许属性或下标访问" in by_key["case_number_pattern"]
    assert "letter_sent" in by_key["clocks[0].stop[0]"]
    assert "fortnights" in by_key["clocks[0].unit"]
    assert "unknown unit kind 'ministry'" in by_key["routing[0].lead"]
    assert "unknown field 'mood'" in by_key["routing[0].when.all[1].field"]
    rendered = str(ProfileError(errors))
    assert f"{path}:14: clocks[0].unit:" in rendered


def test_a_yaml_syntax_error_reports_file_and_line(tmp_path):
    path = write(
        tmp_path,
        "syntax.yaml",
        """
        code: s
        version: 1
        clocks:
          - name: a
           label: misaligned
    """,
    )
    (error,) = errors_of(path)
    assert (error.file, error.line) == (str(path), 5)
    assert error.message.startswith("YAML syntax error")


@pytest.mark.parametrize(
    ("text", "key", "line", "message"),
    [
        ("", "", 1, "文件为空"),
        ("- a\n- b\n", "", 1, "a profile is a mapping of sections"),
        ("code: a\ncode: b\n", "code", 2, "键重复"),
    ],
)
def test_unreadable_files(text, key, line, message):
    found = {(e.file, e.key, e.line, e.message) for e in errors_of(text, source="t.yaml")}
    assert ("t.yaml", key, line, message) in found


BASE = "code: t\nversion: 1\nname: t\nseed: 't'\ndescription: t\nextends: national\n"


@pytest.mark.parametrize(
    ("extra", "key", "needle"),
    [
        ("case_number_pattern: '{prefix}-{year}'\n", "case_number_pattern", "须含 {seq}"),
        ("case_number_pattern: '{seq[0]}'\n", "case_number_pattern", "不允许属性或下标访问"),
        ("case_number_pattern: '{seq!r}'\n", "case_number_pattern", "不能有转换"),
        ("case_number_pattern: '{seq:{w}}'\n", "case_number_pattern", "不能有转换或嵌套"),
        ("case_number_pattern: '{seq:zz}'\n", "case_number_pattern", "无法生成编号"),
        ("case_number_pattern: '{unit}{seq}'\n", "case_number_pattern", "不允许使用 {unit}"),
        ("case_number_pattern: '{seq'\n", "case_number_pattern", "编号格式无效"),
        (
            "report_back:\n  - {name: w, label: w, weekly: {weekday: 4, time: 10:00}, "
            "contents: [evidence], seed: x}\n",
            "report_back[0].weekly.time",
            "须加引号",
        ),
        (
            "report_back:\n  - {name: w, label: w, contents: [evidence], seed: x}\n",
            "report_back[0]",
            "二者择一",
        ),
        (
            "constraints:\n  - {name: c, label: c, when: {field: key_case, eq: true}, seed: x}\n",
            "constraints[0].when",
            "须检验 unit_level 或 unit_kind",
        ),
        (
            "routing:\n  - {name: r, lead: bureau, when: {field: unit_level, eq: county}, "
            "seed: x}\n",
            "routing[0].when",
            "仅在交办单位时可知",
        ),
        (
            "clocks:\n  - {name: x, label: x, start: [registered], stop: [closed], unit: days, "
            "seed: x}\n",
            "clocks[0]",
            "须给出 amount",
        ),
        (
            "clocks:\n  - {name: x, label: x, start: [registered], stop: [closed], amount: 2, "
            "unit: same_day, seed: x}\n",
            "clocks[0].amount",
            "same_day",
        ),
        (
            "clocks:\n  - {name: x, label: x, start: [registered], stop: [closed], amount: 2, "
            "unit: days, alert: [boss], seed: x}\n",
            "clocks[0].alert[0]",
            "unknown role 'boss'",
        ),
        (
            "warnings:\n  - {name: w, label: w, to: [line_head], follow_up: {amount: 7, unit: "
            "fortnights}, seed: x}\n",
            "warnings[0].follow_up.unit",
            "fortnights",
        ),
        (
            "targets:\n  - {name: t, label: t, numerator: happy, denominator: rated, "
            "threshold: 0.9, seed: x}\n",
            "targets[0].numerator",
            "unknown count 'happy'",
        ),
        (
            "targets:\n  - {name: t, label: t, numerator: satisfied, denominator: rated, "
            "threshold: 90, seed: x}\n",
            "targets[0].threshold",
            "90",
        ),
        ("closing: {requires: [pledge], seed: x}\n", "closing.requires[0]", "closing item"),
        (
            "scope: {matter_types: [request], accepted_since: '2018-08', seed: x}\n",
            "scope.accepted_since",
            "日期写作",
        ),
        (
            "categories: [甲]\nrouting:\n  - {name: r, lead: bureau, seed: x, when: {field: "
            "categories, contains: 乙}}\n",
            "routing[0].when.contains",
            "not a valid value",
        ),
        (
            "signatures: {sign_off: [approver], seed: x, conditional: [{name: c, step: letter, "
            "roles: [chief], titles: [a, b], when: true, seed: x}]}\n",
            "signatures.conditional[0].titles",
            "一一对应",
        ),
        (
            "clocks:\n  - {name: handling, label: x, start: [registered], stop: [closed], "
            "amount: 2, unit: days, seed: x}\n  - {name: handling, label: y, start: [registered], "
            "stop: [closed], amount: 2, unit: days, seed: x}\n",
            "clocks[1].name",
            "重复使用",
        ),
        ("colour: red\n", "colour", "unknown key 'colour'"),
    ],
)
def test_semantic_checks(extra, key, needle):
    errors = errors_of(BASE + extra, source="t.yaml")
    assert any(e.key == key and needle in e.message for e in errors), [str(e) for e in errors]


def test_a_profiles_clock_rules_are_derived_once_and_equal_a_fresh_derivation(profiles):
    from dataclasses import replace

    from xinfang.rules.engine import clock_rules

    jianan = profiles["jianan"]
    # a transition asks twice (heard, apply_event): the second asking builds nothing
    assert clock_rules(jianan) is clock_rules(jianan)
    assert jianan.all_clocks is jianan.all_clocks
    # and what is kept is what an unasked copy of the same profile derives
    fresh = replace(jianan)
    assert "_clock_rules" not in fresh.__dict__
    assert clock_rules(fresh) == clock_rules(jianan)
    assert [r.name for r in clock_rules(jianan)][: len(jianan.clocks)] == [
        r.name for r in jianan.clocks]


def test_aliases_nesting_into_millions_of_nodes_are_refused_before_they_are_walked():
    # given: 600 bytes of YAML whose aliases expand nine-fold per level (9**9 nodes: minutes
    # of a worker and gigabytes to walk)
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    # when
    errors = errors_of("\n".join(lines) + "\n", source="bomb.yaml")
    # then
    assert [(e.file, e.line, str(e.message)) for e in errors] == [
        ("bomb.yaml", 1, "别名（*）展开后超过100,000个节点，请不要用别名嵌套别名"),
    ]


@pytest.mark.parametrize("depth", [100, 3000])
def test_a_profile_nested_past_any_profile_is_refused_at_line_one(depth):
    # given: lists nested 100 deep (the walks after the parse recurse once per level), or 3,000
    # deep (past the YAML parser's own recursion: a RecursionError, a 500 on the upload page)
    text = "a: " + "[" * depth + "]" * depth + "\n"
    # when
    errors = errors_of(text, source="deep.yaml")
    # then
    assert [(e.file, e.line, str(e.message)) for e in errors] == [
        ("deep.yaml", 1, "嵌套超过64层，不是规则配置的结构"),
    ]
