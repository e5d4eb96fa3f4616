"""Petitioners: plausible people, with their identity data stored exactly as the product stores it.

``petitioner_columns`` is the ONE place that turns a generated person into the stored columns of
``cases_petitioner``. It encrypts with the product's own key ring (``xinfang.security.crypto``:
SM4-GCM tokens and HMAC-SM3 blind indexes, the same purposes the product uses). When the
petitioner model gains columns (e.g. an encrypted name with its blind index and pinyin key),
this function — and only it — changes to return them; the product's own helper that computes
them, if it exposes one, is what it should call.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from xinfang.security.crypto import KeyRing
from xinfang.security.names import petitioner_name_columns

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华建国志红梅海燕文玉春花金凤德胜"
STREETS = ["村东头", "村西组", "南街", "北街", "中心街", "新村", "老庄", "后营"]
# Area codes of Henan's prefectures (the first four digits of an ID number).
AREA_CODES = ["4101", "4102", "4103", "4104", "4105", "4106", "4107", "4108", "4109",
              "4110", "4111", "4112", "4113", "4114", "4115", "4116", "4117"]
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_check_digit(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return "10X98765432"[total % 11]


@dataclass(frozen=True)
class Person:
    name: str
    gender: str
    birth_year: int
    id_number: str
    phone: str
    address: str
    township_id: int
    village_id: int
    exited_household: bool
    monitored_household: bool


def make_person(rng: random.Random, serial: int, *, township_id: int, village_id: int,
                township_name: str, village_name: str) -> Person:
    gender = "M" if rng.random() < 0.55 else "F"
    birth_year = rng.randint(1940, 2000)
    area = rng.choice(AREA_CODES) + f"{rng.randint(1, 30):02d}"
    # A serial in the birth date's day-of-year part keeps every generated number distinct.
    month, day = 1 + serial % 12, 1 + (serial // 12) % 28
    order = f"{(serial // 336) % 1000:03d}"
    first17 = f"{area}{birth_year}{month:02d}{day:02d}{order}"
    id_number = first17 + id_check_digit(first17)
    phone = f"1{rng.choice('3578')}{rng.randint(0, 9)}{serial % 100_000_000:08d}"
    name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
    address = f"{township_name}{village_name}{rng.choice(STREETS)}{rng.randint(1, 99)}号"
    return Person(name, gender, birth_year, id_number, phone, address, township_id, village_id,
                  rng.random() < 0.12, rng.random() < 0.05)


PETITIONER_FIELDS = (
    "id", "name", "name_index", "name_pinyin_index", "gender", "birth_year", "id_number",
    "id_number_index", "phone", "phone_index", "address", "township_id", "village_id",
    "exited_household", "monitored_household", "created_at",
)


def petitioner_columns(ring: KeyRing, pk: int, person: Person, created_at: datetime) -> tuple:
    """The stored row of one person, in ``PETITIONER_FIELDS`` order — as ``Petitioner.save``
    stores it: name, ID number, phone and address as SM4-GCM tokens, blind indexes beside the
    name (exact and pinyin), the ID number and the phone.
    """
    name = petitioner_name_columns(person.name, ring=ring)
    return (
        pk,
        name["name"],
        name["name_index"],
        name["name_pinyin_index"],
        person.gender,
        person.birth_year,
        ring.encrypt(person.id_number),
        ring.blind_index(person.id_number, purpose="id_number"),
        ring.encrypt(person.phone),
        ring.blind_index(person.phone, purpose="phone"),
        ring.encrypt(person.address),
        person.township_id,
        person.village_id,
        person.exited_household,
        person.monitored_household,
        created_at,
    )
