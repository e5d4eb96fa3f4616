"""Each matching rule (issue 14): who is this, and is this the same matter."""

import pytest

from tests.conftest import id_number, registration, sh
from xinfang.cases.models import Petitioner
from xinfang.cases.services import DemandInput, PetitionerInput, case_register
from xinfang.matching import keys as k
from xinfang.matching.models import MatchDecision, PersonKey, Verdict
from xinfang.matching.selectors import MATTER_AT, MatchQuery, find_matches

ID = id_number("41102319800101123")


def person(name="王秀兰", *, id_number="", phone="13912345678"):
    return PetitionerInput(name=name, id_number=id_number, phone=phone, address="岗朱村")


def first(j, **kw):
    base = dict(
        petitioners=[person()],
        matter="反映危房改造补助未到位",
        demands=[DemandInput(text="要求落实2025年危房改造补助两万元", category="危房改造")],
    )
    base.update(kw)
    return case_register(by=j.member("clerk"), data=registration(j, **base),
                         at=sh(2026, 9, 14, 10))


def query(j, **kw):
    base = dict(name="王秀兰", phone="", township=j.townships["将官池镇"],
                village=j.villages["岗朱村"], matter="危房改造补助款一直没有到位",
                demands=["要求发放2025年危房改造补助两万元"], categories=["危房改造"])
    base.update(kw)
    return find_matches(by=j.member("clerk"), query=MatchQuery(**base))


# -- names -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("a", "b", "reason"), [
    ("王秀兰", "王秀兰", k.SAME_NAME),
    ("王秀兰", "王秀澜", k.HOMOPHONE),
    ("王秀兰", "王兰秀", k.SWAPPED),
    ("张立", "詹尼", k.NEAR),  # zh/z, n/l, -ang/-an
    ("王秀兰", "王琇芝", ""),
    ("刘德华", "刘德", k.TYPO),
    ("王秀兰", "王春兰", k.TYPO),
    ("王秀兰", "李秀兰", ""),  # another surname: another person
])
def test_name_likeness(a, b, reason):
    score, why = k.name_likeness(a, b)
    assert why == reason and (score > 0) == bool(reason)


@pytest.mark.parametrize("b", ["王秀澜", "王兰秀", "王春兰", "汪秀兰"])
def test_like_names_share_a_key_of_the_same_township(b):
    assert set(k.person_keys("王秀兰", 7)) & set(k.person_keys(b, 7))
    assert not set(k.person_keys("王秀兰", 7)) & set(k.person_keys(b, 8))


def test_text_likeness_reworded_and_unrelated():
    a = k.shingles("反映危房改造补助未到位，要求落实2025年危房改造补助")
    b = k.shingles("危房改造的补助款至今没有发下来，要求发放2025年补助")
    c = k.shingles("反映低保被取消，要求恢复低保待遇")
    assert k.text_likeness(a, b) >= MATTER_AT > k.text_likeness(a, c)


# -- people ----------------------------------------------------------------------------------------

def test_keys_are_kept_with_the_person_and_carry_no_name(jianan):
    case = first(jianan)
    p = case.main_petitioner
    stored = set(PersonKey.objects.filter(petitioner=p).values_list("key", flat=True))
    assert stored == set(k.person_keys("王秀兰", jianan.townships["将官池镇"].pk))


def test_same_id_number_anywhere(jianan):
    case = first(jianan, petitioners=[person(id_number=ID)])
    found = query(jianan, name="李四", id_number=ID.lower()[:-1] + ID[-1].lower(),
                  village=None, township=None)
    assert [x.case for x in found] == [case] and found[0].reasons[0] == "同一身份证号"


def test_a_different_valid_id_number_is_another_person(jianan):
    first(jianan, petitioners=[person(id_number=ID)])
    other = id_number("41102319810101123")
    found = query(jianan, id_number=other, phone="13912345678", matter="咨询", demands=["咨询"])
    assert all(x.same == "matter" and "同村同类别" in x.reasons for x in found)


@pytest.mark.parametrize("phone", ["+86 139 1234 5678", "139-1234-5678", "8613912345678"])
def test_same_phone_any_format_with_a_homophone_name(jianan, phone):
    case = first(jianan)
    found = query(jianan, name="王秀澜", phone=phone, village=None, township=None)
    assert found[0].case == case
    assert found[0].reasons[:2] == ["同一手机号", "姓名同音"]


def test_same_phone_another_name_is_not_the_person(jianan):
    first(jianan)
    found = query(jianan, name="赵大勇", phone="13912345678", village=None, township=None)
    assert found == []


@pytest.mark.parametrize(("name", "reason"), [
    ("王秀澜", "姓名同音、同村"), ("王兰秀", "姓名字序颠倒、同村"),
    ("王春兰", "姓名一字之差、同村"),
])
def test_name_and_village_without_phone_or_id(jianan, name, reason):
    case = first(jianan)
    found = query(jianan, name=name)
    assert found[0].case == case and found[0].reasons[0] == reason


def test_a_like_name_in_another_village_is_not_offered_as_the_person(jianan):
    first(jianan)
    found = query(jianan, name="王秀澜", village=jianan.villages["五女店村"],
                  township=jianan.townships["五女店镇"])
    assert found == []


def test_village_without_its_township_still_finds_the_person(jianan):
    case = first(jianan)
    found = query(jianan, name="王秀澜", township=None)
    assert found[0].case == case


# -- matters ---------------------------------------------------------------------------------------

def test_a_new_matter_of_a_known_person_is_offered_as_the_person(jianan):
    case = first(jianan)
    found = query(jianan, phone="13912345678", matter="孩子上学的教育资助没有领到",
                  demands=["申请雨露计划教育补助"], categories=["教育保障"])
    assert [(x.case, x.same) for x in found] == [(case, "person")]


def test_the_same_matter_of_another_person_of_the_village_and_category(jianan):
    case = first(jianan)
    found = query(jianan, name="赵大勇", matter="反映危房改造补助未到位",
                  demands=["要求落实2025年危房改造补助两万元"])
    assert [(x.case, x.same) for x in found] == [(case, "matter")]
    assert found[0].reasons[0] == "同村同类别" and found[0].reasons[1].startswith("诉求相似")


def test_any_span_of_years(jianan):
    old = case_register(by=jianan.member("clerk"), at=sh(2022, 3, 1, 10), data=registration(
        jianan, petitioners=[person()], received_at=sh(2022, 3, 1, 9),
        matter="反映危房改造补助未到位",
        demands=[DemandInput(text="要求落实危房改造补助两万元", category="危房改造")]))
    found = query(jianan, phone="13912345678")
    assert found[0].case == old and found[0].same == "matter"


def test_at_most_three_best_first_one_per_matter(jianan):
    cases = [first(jianan, petitioners=[person(name=n, phone=f"1391234{i}678")])
             for i, n in enumerate(["赵勇", "钱伟", "孙丽", "李强", "周杰"])]
    found = query(jianan, name="吴多多", matter="反映危房改造补助未到位",
                  demands=["要求落实2025年危房改造补助两万元"])
    assert len(found) == 3 and {x.case for x in found} <= set(cases)
    assert [x.score for x in found] == sorted((x.score for x in found), reverse=True)


def test_one_offer_per_matter_even_when_a_visit_between_is_worded_otherwise(jianan):
    # given a matter visited three times, the middle visit linked by hand and worded otherwise
    # (found neither by its text nor its category), the last linked to it by hand again
    a = first(jianan)
    b = first(jianan, repeat_of=a, matter="反映低保被取消",
              demands=[DemandInput(text="要求恢复低保待遇", category="民政救助")])
    c = first(jianan, repeat_of=b)
    assert c.matter_root_id == b.matter_root_id == a.pk
    # when the same matter is asked for again
    found = query(jianan, phone="13912345678")
    # then it is offered once, as its latest visit: the first is reached through it
    matters = [x.case for x in found if x.same == "matter"]
    assert matters == [c], [(x.case.number, x.same) for x in found]


# -- repeats at registration -----------------------------------------------------------------------

def test_the_issue_case_homophone_same_phone_no_id_is_a_repeat(jianan):
    earlier = first(jianan)
    again = first(jianan, petitioners=[person(name="王秀澜")], matter="危房改造补助款一直没有到位")
    assert again.repeat_of == earlier and again.repeat_count == 1
    assert again.main_petitioner == earlier.main_petitioner
    told = again.events.get(type="register").payload["match"]
    assert told["by"] == "threshold" and told["reasons"][:2] == ["同一手机号", "姓名同音"]
    assert not MatchDecision.objects.filter(later=again).exists()  # no clerk's word asked


def test_an_unrelated_old_case_of_the_person_is_not_a_repeat(jianan):
    earlier = first(jianan, petitioners=[person(id_number=ID)])
    other = first(jianan, petitioners=[person(id_number=ID)], matter="反映低保被取消",
                  demands=[DemandInput(text="要求恢复低保待遇", category="民政救助")])
    assert other.repeat_of is None and other.repeat_count == 0
    assert other.main_petitioner == earlier.main_petitioner  # linked to the person


def test_visits_are_counted_per_matter(jianan):
    a1 = first(jianan)
    first(jianan, matter="反映低保被取消",
          demands=[DemandInput(text="要求恢复低保待遇", category="民政救助")])
    a2 = first(jianan)
    a3 = first(jianan)
    assert (a2.repeat_of, a2.repeat_count) == (a1, 1)
    assert (a3.repeat_of, a3.repeat_count) == (a2, 2)


def test_rejected_is_recorded_and_not_offered_again(jianan):
    earlier = first(jianan)
    again = first(jianan, not_same=[earlier])
    assert again.repeat_of is None
    assert MatchDecision.objects.get(later=again, earlier=earlier).verdict == Verdict.NOT_SAME
    offered = [x.case for x in query(jianan, phone="13912345678")]
    assert earlier not in offered and again in offered


def test_a_matter_linked_by_hand(jianan):
    earlier = first(jianan, petitioners=[person(name="赵大勇", phone="13700000000")])
    linked = first(jianan, repeat_of=earlier, matter="路修坏了", demands=[
        DemandInput(text="修路", category="其他")])
    assert linked.repeat_of == earlier and linked.repeat_count == 1
    assert linked.main_petitioner != earlier.main_petitioner
    assert MatchDecision.objects.get(later=linked, earlier=earlier).verdict == Verdict.SAME


def test_a_like_name_alone_is_offered_not_linked(jianan):
    """Two people of one village a character apart (siblings): offered, never linked unasked."""
    earlier = first(jianan, petitioners=[person(name="赵一勇", phone="13700000001")])
    later = first(jianan, petitioners=[person(name="赵二勇", phone="13700000002")])
    assert later.repeat_of is None and later.main_petitioner != earlier.main_petitioner


# -- the ID number's holder, handed to registration ------------------------------------------------

def _people_reads(ctx) -> list[str]:
    return [q["sql"] for q in ctx.captured_queries
            if "cases_petitioner" in q["sql"] and q["sql"].lstrip().upper().startswith("SELECT")]


def test_registration_takes_the_id_numbers_holder_from_the_search(jianan):
    """The person who holds the ID number (here with no case this office sees) is linked, and the
    number is looked up once — by the search; a new number is looked up once too."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    elsewhere = Petitioner.objects.create(name="李四", id_number=ID, phone="13700000000")
    with CaptureQueriesContext(connection) as ctx:
        case = first(jianan, petitioners=[person("李四", id_number=ID, phone="")])
    assert case.main_petitioner == elsewhere
    assert len(_people_reads(ctx)) == 1
    with CaptureQueriesContext(connection) as ctx:
        other = first(jianan, petitioners=[person("李五", id_number=id_number("41102319810101123"),
                                                  phone="")])
    assert other.main_petitioner.pk not in (elsewhere.pk, case.main_petitioner.pk)
    assert len(_people_reads(ctx)) == 1


def test_a_search_cut_by_its_limit_leaves_the_lookup_to_registration(jianan):
    """Forty same-name people of the township fill the search's rows: it cannot say nobody holds
    the number, so registration looks it up and finds the earlier holder."""
    from xinfang.matching.selectors import MAX_PEOPLE

    holder = Petitioner.objects.create(name="李四", id_number=ID)
    township = jianan.townships["将官池镇"]
    for i in range(MAX_PEOPLE):
        Petitioner.objects.create(name="王秀兰", township=township, phone=f"1370000{i:04d}")
    q = MatchQuery(name="王秀兰", id_number=ID, township=township)
    find_matches(by=jianan.member("clerk"), query=q)
    assert q.holder is None
    case = first(jianan, petitioners=[person(id_number=ID, phone="")])
    assert case.main_petitioner == holder


def test_a_confidential_holder_stays_confidential_in_the_new_case(jianan):
    """The holder the search hands over (read in part) carries the person's request that their
    identity be kept: the new case's link and the case are confidential."""
    secret = Petitioner.objects.create(name="李四", id_number=ID, confidential=True)
    case = first(jianan, petitioners=[person("李四", id_number=ID, phone="")])
    link = case.petitioner_links.get()
    assert link.petitioner_id == secret.pk and link.confidential and case.confidential


# -- a person as the clerk's paste brings them -----------------------------------------------------

@pytest.mark.parametrize("name", [
    "王秀兰\u200b", "\ufeff王秀兰", "王\u00ad秀兰", "\u202a王秀兰\u202c",
])
def test_a_name_pasted_with_what_nobody_sees_is_the_same_name_not_a_typo(jianan, name):
    # given an earlier case of 王秀兰 in the village
    case = first(jianan)

    # when the clerk pastes her name from WeChat, with a zero-width space or a BOM in it
    found = query(jianan, name=name)

    # then she is the same person by name, not one typed character apart
    assert found[0].case == case and found[0].reasons[0] == "姓名相同、同村"


@pytest.mark.parametrize(("id_typed", "phone_typed"), [
    ("{a}-{b}", "139–1234–5678"),
    ("{a}\u200b{b}", "139.1234.5678"),
    ("{a}–{b}", "\ufeff13912345678"),
])
def test_an_id_number_and_phone_pasted_from_word_find_the_person_anywhere(
        jianan, id_typed, phone_typed):
    case = first(jianan, petitioners=[person(id_number=ID)])
    found = query(jianan, name="李四", id_number=id_typed.format(a=ID[:6], b=ID[6:]),
                  village=None, township=None)
    assert [x.case for x in found] == [case] and found[0].reasons[0] == "同一身份证号"
    found = query(jianan, name="王秀澜", phone=phone_typed, village=None, township=None)
    assert found[0].case == case and found[0].reasons[:2] == ["同一手机号", "姓名同音"]


def test_registering_a_pasted_id_number_links_the_person_on_file(jianan):
    # given 王秀兰 on file with her ID number
    earlier = first(jianan, petitioners=[person(id_number=ID)])

    # when she is registered again, the number pasted from a Word table grouped by dashes
    grouped = "-".join(ID[i:i + 6] for i in range(0, 18, 6))
    later = first(jianan, petitioners=[person(name="王秀兰", id_number=grouped, phone="")],
                  matter="反映医疗报销问题",
                  demands=[DemandInput(text="要求落实医疗报销", category="医疗保障")])

    # then it is the same person, not a second one
    assert later.main_petitioner == earlier.main_petitioner
    assert Petitioner.objects.count() == 1
