"""Petitioners' names at rest (issue 8): encrypted like ID numbers, found through a blind index of
the exact name and one of its toneless pinyin — never stored in clear beside gender, birth year and
village."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from tests.api.world import client_as, read_sheet, walk
from tests.conftest import register_in
from tests.web.conftest import signed_in
from xinfang.cases.models import Petitioner
from xinfang.cases.services import Invalid, PetitionerInput
from xinfang.security.crypto import get_keyring, is_token
from xinfang.security.names import (
    name_index,
    name_pinyin,
    name_pinyin_index,
    normalise_name,
    petitioner_name_columns,
    tidy_name,
)

TABLE = Petitioner._meta.db_table


def stored_name(petitioner: Petitioner) -> str:
    """The column as the database holds it."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT name FROM {TABLE} WHERE id = %s", [petitioner.pk])
        return cursor.fetchone()[0]


@pytest.mark.parametrize(("typed", "same_as"), [
    ("张 三明", "张三明"), (" 张三明\t", "张三明"), ("ＺＨＡＮＧ", "zhang"),
    ("阿依古丽・买买提", "阿依古丽·买买提"), ("阿依古丽•买买提", "阿依古丽·买买提"),
])
def test_a_name_typed_in_different_ways_is_normalised_to_one(typed, same_as):
    assert normalise_name(typed) == normalise_name(same_as)


def test_homophones_share_the_pinyin_key_and_not_the_name_key(db):
    assert name_pinyin("章三明") == name_pinyin("张三明") == "zhangsanming"
    assert name_pinyin("吕布") == "lvbu"
    assert name_pinyin("阿依古丽·买买提") == "ayigulimaimaiti"
    assert name_pinyin("阿依古丽·买买提") == "ayigulimaimaiti"
    assert name_pinyin_index("章三明") == name_pinyin_index("张 三明")
    assert name_index("章三明") != name_index("张三明") == name_index("张 三明")
    # The two keys are separated by purpose: a name's key never equals its pinyin's.
    assert name_index("zhangsanming") != name_pinyin_index("张三明")
    assert name_index("") == name_pinyin_index("") == name_pinyin_index("·") == ""


@pytest.mark.django_db
def test_a_petitioners_name_is_stored_encrypted_with_its_indexes(jianan):
    case = register_in(jianan)
    person = Petitioner.objects.get(pk=case.main_petitioner.pk)
    raw = stored_name(person)
    assert is_token(raw) and "张三明" not in raw
    assert person.name == "张三明"  # the ORM decrypts
    assert person.name_index == name_index("张三明")
    assert person.name_pinyin_index == name_pinyin_index("张三明")
    # No lookup on the ciphertext: only through the index.
    assert Petitioner.objects.filter(name_index=name_index("张 三明")).get() == person


@pytest.mark.django_db
def test_name_columns_for_a_bulk_writer_are_what_the_product_stores(jianan):
    columns = petitioner_name_columns(" 欧阳娜娜 ")
    assert set(columns) == {"name", "name_index", "name_pinyin_index"}
    assert is_token(columns["name"]) and get_keyring().decrypt(columns["name"]) == "欧阳娜娜"
    orm = Petitioner.objects.create(name="欧阳娜娜")
    assert (orm.name_index, orm.name_pinyin_index) == (
        columns["name_index"], columns["name_pinyin_index"])
    # A row written with these values raw (as COPY would) reads back like any other.
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET name = %s WHERE id = %s", [columns["name"], orm.pk])
    assert Petitioner.objects.get(name_index=name_index("欧阳娜娜")).name == "欧阳娜娜"
    assert petitioner_name_columns("") == {"name": "", "name_index": "",
                                          "name_pinyin_index": ""}


@pytest.mark.django_db
def test_a_name_longer_than_the_form_allows_is_refused_naming_the_field(jianan):
    with pytest.raises(Invalid) as refused:
        register_in(jianan, petitioners=[PetitionerInput(name="张" * 51)])
    assert "petitioners[0].name" in refused.value.errors


@pytest.mark.django_db
def test_a_tampered_name_fails_loudly(jianan):
    case = register_in(jianan)
    person = case.main_petitioner
    raw = stored_name(person)
    flipped = raw[:-6] + ("A" if raw[-6] != "A" else "B") + raw[-5:]
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET name = %s WHERE id = %s", [flipped, person.pk])
    from xinfang.security.crypto import DecryptionError

    with pytest.raises(DecryptionError):
        Petitioner.objects.get(pk=person.pk)


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_existing_clear_names_and_its_reverse_decrypts(jianan):
    case = register_in(jianan)
    person = case.main_petitioner
    call_command("migrate", "cases", "0006_people_confidential", verbosity=0)
    try:
        assert stored_name(person) == "张三明"  # the reverse gave the clear name back
        with connection.cursor() as cursor:  # a row as the old code wrote it
            cursor.execute(f"UPDATE {TABLE} SET name = %s WHERE id = %s", ["李 四", person.pk])
    finally:
        # Every app: going back to cases 0006 unapplied the apps that depend on later cases
        # migrations too (notify, registers, documents…), dropping their tables.
        call_command("migrate", verbosity=0)
    raw = stored_name(person)
    assert is_token(raw) and get_keyring().decrypt(raw) == "李 四"
    again = Petitioner.objects.get(pk=person.pk)
    assert again.name_index == name_index("李四") and again.name_pinyin_index == name_pinyin_index(
        "李四")
    call_command("migrate", "cases", verbosity=0)  # idempotent: nothing left in clear to do
    assert stored_name(person) == raw


# -- search ----------------------------------------------------------------------------------------


def ledger_numbers(member, **params) -> set[str]:
    page = signed_in(member).get(reverse("web:ledger"), params).content.decode()
    return {n for n in NUMBERS if n in page}


NUMBERS: set[str] = set()


@pytest.mark.django_db
def test_the_ledger_finds_a_petitioner_by_exact_name_only(jianan):
    j = jianan
    plain = walk(j, "in_progress")
    secret = walk(j, "in_progress", confidential=True,
                  petitioners=[PetitionerInput(name="李秘芳", phone="13900001111")])
    NUMBERS.clear()
    NUMBERS.update({plain.number, secret.number})
    clerk, township = j.member("clerk"), j.member("township")
    assert ledger_numbers(clerk, petitioner="张三明") == {plain.number}
    assert ledger_numbers(clerk, petitioner="张 三明") == {plain.number}
    assert ledger_numbers(clerk, petitioner="李秘芳") == {secret.number}
    # No part of a name, no homophone: the name is encrypted.
    for part in ("张", "三明", "张三", "章三明"):
        assert ledger_numbers(clerk, petitioner=part) == set(), part
    # The township handles both; it may find the ordinary petitioner, never the confidential one.
    assert ledger_numbers(township, petitioner="张三明") == {plain.number}
    assert ledger_numbers(township, petitioner="李秘芳") == set()
    assert ledger_numbers(township) == {plain.number, secret.number}
    # The export reads the same filter.
    for member, expected in ((clerk, {secret.number}), (township, set())):
        sheet = read_sheet(client_as(member).get(
            "/api/ledgers/l0.xlsx",
            {"petitioner": "李秘芳", "unmasked": "true", "reason": "核对信访人身份"}).getvalue())
        assert {row[0] for row in sheet[1:]} == expected


@pytest.mark.django_db
def test_the_name_filter_without_a_viewer_finds_nothing(jianan):
    from xinfang.cases.selectors import cases_for
    from xinfang.ledgers.filters import filter_ledger

    walk(jianan, "in_progress")
    qs = cases_for(jianan.member("clerk"))
    assert filter_ledger(qs, {"petitioner": "张三明"}).count() == 0
    assert filter_ledger(qs, {"petitioner": "张三明"}, by=jianan.member("clerk")).count() == 1


# -- names as they arrive pasted -------------------------------------------------------------------


@pytest.mark.parametrize("pasted", [
    "张三明\u200b", "\ufeff张三明", "张\u200c三明", "张\u200d三明", "张三\u2060明", "张三\u00ad明",
    "\u200e张三明\u200f", "\u202a张三明\u202c", "张三明\r\n", "\u3000张三明\u00a0",
])
def test_a_name_pasted_with_what_nobody_sees_is_the_typed_name(pasted):
    assert normalise_name(pasted) == "张三明"
    assert name_index(pasted) == name_index("张三明")
    assert name_pinyin_index(pasted) == name_pinyin_index("张三明")
    assert tidy_name(pasted) == "张三明"


@pytest.mark.parametrize("dot", ["ꞏ", "⸱", "⸳", ".", "。", "．", "｡", "·", "・", "•"])
def test_every_dot_typed_in_a_minority_name_is_the_middle_dot(dot):
    assert normalise_name(f"阿依古丽{dot}买买提") == "阿依古丽·买买提"


def test_a_variation_selector_is_the_same_character():
    # 葛 followed by an ideographic variation selector is drawn another way; the same person
    assert normalise_name("葛\U000e0100优") == normalise_name("葛优") == "葛优"
    assert normalise_name("张三\ufe00明") == "张三明"


def test_a_rare_character_outside_the_basic_plane_is_kept_whole():
    assert normalise_name("王𠀾明") == "王𠀾明" and len(normalise_name("王𠀾明")) == 3
    assert name_index("王𠀾明") != name_index("王明")


@pytest.mark.django_db
def test_a_name_pasted_into_registration_is_stored_as_seen_and_found_as_typed(jianan):
    # given a name pasted from WeChat with a zero-width space and a BOM
    case = register_in(jianan, petitioners=[PetitionerInput(name="\ufeff李秘芳\u200b",
                                                            phone="13900001111")])

    # then the person is stored without them, and found by the name as typed
    person = Petitioner.objects.get(pk=case.main_petitioner.pk)
    assert person.name == "李秘芳"
    assert get_keyring().decrypt(stored_name(person)) == "李秘芳"
    NUMBERS.clear()
    NUMBERS.add(case.number)
    clerk = jianan.member("clerk")
    assert ledger_numbers(clerk, petitioner="李秘芳") == {case.number}
    assert ledger_numbers(clerk, petitioner="李秘芳\u200b") == {case.number}


@pytest.mark.django_db
def test_a_name_of_nothing_but_what_nobody_sees_is_refused_naming_the_field(jianan):
    with pytest.raises(Invalid) as refused:
        register_in(jianan, petitioners=[PetitionerInput(name="\u200b\ufeff ")])
    assert refused.value.errors["petitioners[0].name"] == "请填写姓名"


@pytest.mark.django_db
def test_the_migration_reindexes_a_name_stored_with_what_nobody_sees(jianan):
    # given people and register rows stored before the wider normal form: each name kept as
    # typed, its indexes and keys computed with the unseen character or the full stop in it
    import importlib

    from django.apps import apps

    from xinfang.matching import keys
    from xinfang.matching.models import PersonKey
    from xinfang.registers.models import ScreeningFinding

    ring = get_keyring()
    township = jianan.townships["将官池镇"]
    plain = register_in(jianan).main_petitioner
    old = {}
    for typed in ("李秘芳\u200b", "阿依古丽.买买提"):
        person = Petitioner.objects.create(name=typed, township=township)
        PersonKey.objects.filter(petitioner=person).delete()
        Petitioner.objects.filter(pk=person.pk).update(
            name_index=ring.blind_index(typed, purpose="name"))
        PersonKey.objects.create(petitioner=person, key=keys.key_value(
            f"d|{township.pk}|{typed}", ring=ring))
        old[person.pk] = typed
    finding = ScreeningFinding.objects.create(
        jurisdiction=jianan.county, month="2026-09-01", screened_on="2026-09-03",
        person_name="\ufeff赵大勇", township=township, problem="反映低保问题", category="低保",
        recorded_by=jianan.member("clerk").user)
    ScreeningFinding.objects.filter(pk=finding.pk).update(
        name_index=ring.blind_index("\ufeff赵大勇", purpose="name"))
    untouched = Petitioner.objects.values_list("name_index", "name_pinyin_index").get(pk=plain.pk)

    # when the migration runs
    migration = importlib.import_module("xinfang.matching.migrations.0002_names_reindexed")
    migration.reindex(apps, None)

    # then each is found by its name as seen, with the keys of that name
    for pk, typed in old.items():
        person = Petitioner.objects.get(pk=pk)
        assert person.name == typed  # the name itself is left as stored
        assert person.name_index == name_index(typed.replace("\u200b", "").replace(".", "·"))
        assert set(PersonKey.objects.filter(petitioner=person).values_list("key", flat=True)) == (
            set(keys.person_keys(typed.replace("\u200b", ""), township.pk)))
    assert ScreeningFinding.objects.get(pk=finding.pk).name_index == name_index("赵大勇")
    assert Petitioner.objects.values_list("name_index", "name_pinyin_index").get(
        pk=plain.pk) == untouched


@pytest.mark.parametrize(("typed", "stored"), [
    ("李  四", "李四"), ("王\u3000𠀾", "王𠀾"), ("阿依古丽 · 买买提", "阿依古丽·买买提"),
    ("John  Smith", "John Smith"), ("Ｍａｒｙ", "Mary"),
])
def test_a_name_lined_up_with_spaces_is_stored_without_them(typed, stored):
    assert tidy_name(typed) == stored
