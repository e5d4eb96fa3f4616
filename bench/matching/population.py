"""A synthetic population of petitioners, their matters and their visits, with the true links
known (issue 14's "Must show"): who is whom, which visits are one matter.

Realistic names (common surnames, common given characters, namesakes in one village), addresses
(the tree's townships and villages), mobile numbers, and matters written from category-specific
templates with their own specifics (years, amounts, objects, people, places). Each visit is
typed again by a clerk, with the noise offices see:

- the name: a homophone character (秀兰/秀澜), the given characters swapped, one character
  mistyped, or exact;
- the ID number missing on this visit (or never known), the phone in any format
  (+86, spaces, dashes) or missing or changed;
- the village with or without its township;
- the matter and the demand reworded: synonyms, clauses reordered or dropped, filler added.

A visit is stored linked to the person's record, or (``duplicate_share``) to a new record made
with that visit's noisy identity — as happens when an earlier clerk missed the link.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

SURNAMES = ("王王王李李李张张张刘刘陈陈杨杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧"
            "程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊")
GIVEN = ("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志红梅海燕文玉春花金凤德胜"
         "玲丹萍鹏辉斌宇浩凯秋云莲荣新利清飞彬富顺信子杰光天达安岩中茂进林有坚和彪博诚先敬"
         "震振壮会思群豪心邦承乐绍功松善厚庆民友裕河哲江超浩亮政谦亨奇固之轮翰朗伯宏言若鸣")
# Homophone groups the clerk may write for one another.
HOMOPHONES = ["兰岚澜蓝", "秀绣琇", "英瑛", "明鸣铭", "丽莉俐", "芳方", "军君均", "伟玮维",
              "娟涓", "静晶婧", "敏珉", "杰洁婕", "红虹宏鸿", "梅玫媚", "平萍苹", "华桦",
              "玲铃翎", "丹单", "鹏朋", "辉晖徽", "斌彬", "宇雨羽", "云芸耘", "荣容蓉",
              "利莉力", "清青卿", "飞菲非", "光广", "林琳霖", "庆青", "民敏", "江疆",
              "亮靓", "国果", "春纯", "凤峰锋", "德得", "文雯", "海凯", "金津", "燕艳雁"]
_HOMO = {ch: group for group in HOMOPHONES for ch in group}

CATEGORIES = ("防返贫监测", "帮扶措施", "资金项目", "危房改造", "小额信贷", "民政救助",
              "医疗保障", "残疾人补贴", "精准识别", "精准退出", "易地搬迁", "教育保障", "其他")
SUBJECTS = {
    "防返贫监测": ["家中因病返贫未被纳入监测对象", "因灾收入骤减申请纳入监测户",
              "监测帮扶措施未落实"],
    "帮扶措施": ["帮扶干部承诺的产业奖补未兑现", "光伏收益分红未发放", "公益岗位工资被拖欠"],
    "资金项目": ["村里产业项目资金使用不公开", "扶贫车间租金去向不明", "道路硬化项目质量差"],
    "危房改造": ["危房改造补助未到位", "危房鉴定等级有误", "改造后房屋出现裂缝漏雨"],
    "小额信贷": ["小额贷款到期无法续贷", "贷款贴息未兑现", "被他人冒用名义贷款"],
    "民政救助": ["低保被取消", "临时救助申请无人受理", "特困供养待遇未落实"],
    "医疗保障": ["住院费用报销比例不对", "慢性病卡未办理", "大病救助未到位"],
    "残疾人补贴": ["残疾人两项补贴停发", "残疾等级评定不准", "护理补贴少发"],
    "精准识别": ["符合条件未被识别为脱贫户", "识别过程优亲厚友", "家庭人口信息登记错误"],
    "精准退出": ["未达标准被强行退出", "退出后帮扶政策被取消", "退出验收数据造假"],
    "易地搬迁": ["搬迁安置房质量有问题", "旧房拆除补偿未兑现", "安置房产权证未办理"],
    "教育保障": ["雨露计划补助未领到", "孩子上学生活补助被停", "助学贷款贴息未落实"],
    "其他": ["宅基地纠纷", "土地流转租金被拖欠", "邻里排水沟纠纷"],
}
OBJECTS = ["东屋", "西屋", "堂屋", "院墙", "屋顶", "厨房", "厕所", "门前路", "水井", "猪圈",
           "大棚", "果园", "鱼塘", "机井", "耕地", "林地", "责任田", "宅基地", "养殖场", "小卖部"]
PEOPLE = ["村支书", "村主任", "村会计", "驻村队员", "包村干部", "网格员", "组长", "镇干部"]
ACTIONS = {"default": ["尽快落实", "给个说法", "查清问题", "依法处理", "补发到位", "重新核查"]}
SYNONYMS = [("补助", "补贴"), ("未到位", "没有到位"), ("未发放", "没有发下来"),
            ("至今", "到现在"), ("要求", "希望"), ("反映", "来访反映"), ("被取消", "被停了"),
            ("拖欠", "欠着不给"), ("有问题", "存在问题"), ("尽快", "早日"), ("多次", "几次"),
            ("未兑现", "没有兑现"), ("不公开", "没有公开"), ("村支书", "村书记")]
PREFIXES = ["", "", "", "再次", "又一次来访，", "上次反映后仍未解决，", "第二次来信，"]
SUFFIXES = ["", "", "", "，请领导重视", "，希望尽快答复", "，家里生活困难", "。"]


@dataclass
class Identity:
    name: str
    id_number: str
    phone: str


@dataclass
class Person:
    pk: int  # the generator's person number (not a database id)
    identity: Identity  # the true one
    township: int
    village: int


@dataclass
class Matter:
    pk: int
    person: Person
    category: str
    core: list[str]  # the clauses of the matter
    demand: str


@dataclass
class Visit:
    matter: Matter
    received_at: float  # seconds since the epoch
    identity: Identity  # as the clerk typed it this time
    matter_text: str
    demand_text: str
    case_id: int | None = None  # once stored
    petitioner_key: int | None = None  # the stored person record's number
    township_typed: bool = True
    earlier: list[int] = field(default_factory=list)  # true earlier case ids (same matter)


def id_check_digit(first17: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return "10X98765432"[sum(int(d) * w for d, w in zip(first17, weights, strict=True)) % 11]


def make_id(rng: random.Random, serial: int) -> str:
    year = rng.randint(1940, 2002)
    first17 = (f"41{rng.randint(1, 17):02d}{rng.randint(1, 30):02d}{year}"
               f"{1 + serial % 12:02d}{1 + (serial // 12) % 28:02d}{(serial // 336) % 1000:03d}")
    return first17 + id_check_digit(first17)


def make_name(rng: random.Random) -> str:
    given = "".join(rng.choice(GIVEN) for _ in range(1 if rng.random() < 0.25 else 2))
    return rng.choice(SURNAMES) + given


def noisy_name(rng: random.Random, name: str) -> str:
    r = rng.random()
    chars = list(name)
    if r < 0.72 or len(chars) < 2:
        return name
    if r < 0.86:  # a homophone for one given character
        spots = [i for i in range(1, len(chars)) if chars[i] in _HOMO]
        if spots:
            i = rng.choice(spots)
            chars[i] = rng.choice([c for c in _HOMO[chars[i]] if c != chars[i]])
            return "".join(chars)
        return name
    if r < 0.93 and len(chars) == 3:  # the given characters swapped
        return chars[0] + chars[2] + chars[1]
    if len(chars) >= 3:  # one character mistyped
        i = rng.randrange(1, len(chars))
        chars[i] = rng.choice(GIVEN)
        return "".join(chars)
    return name


def phone_format(rng: random.Random, phone: str) -> str:
    return rng.choice([
        phone, phone, phone, f"+86 {phone}", f"{phone[:3]} {phone[3:7]} {phone[7:]}",
        f"{phone[:3]}-{phone[3:7]}-{phone[7:]}", f"86{phone}", f"+86-{phone}",
    ])


def reword(rng: random.Random, clauses: list[str]) -> str:
    parts = list(clauses)
    if len(parts) >= 3 and rng.random() < 0.4:
        parts.pop(rng.randrange(1, len(parts)))
    if rng.random() < 0.4:
        rng.shuffle(parts)
    text = "，".join(parts)
    for a, b in SYNONYMS:
        if a in text and rng.random() < 0.5:
            text = text.replace(a, b)
    return rng.choice(PREFIXES) + text + rng.choice(SUFFIXES)


class Population:
    """People, matters and visits of one county, drawn from ``rng``."""

    def __init__(self, rng: random.Random, *, villages: dict[int, list[int]], visits: int,
                 start: float, end: float, serial: int = 0, id_share: float = 0.8,
                 phone_share: float = 0.9):
        self.rng = rng
        self.villages = [(t, v) for t, vs in villages.items() for v in vs]
        self.people: list[Person] = []
        self.matters: list[Matter] = []
        self.visits: list[Visit] = []
        self.serial = serial
        self.id_share, self.phone_share = id_share, phone_share
        self.start, self.end = start, end
        while len(self.visits) < visits:
            self._person()
        self.visits = self.visits[:visits]
        self.visits.sort(key=lambda v: v.received_at)

    def _person(self) -> None:
        rng = self.rng
        self.serial += 1
        township, village = rng.choice(self.villages)
        identity = Identity(
            make_name(rng),
            make_id(rng, self.serial) if rng.random() < self.id_share else "",
            f"1{rng.choice('3578')}{rng.randint(0, 9)}{rng.randint(0, 99_999_999):08d}"
            if rng.random() < self.phone_share else "",
        )
        person = Person(self.serial, identity, township, village)
        self.people.append(person)
        for _ in range(rng.choices((1, 2, 3), (70, 20, 10))[0]):
            self._matter(person)

    def _matter(self, person: Person) -> None:
        rng = self.rng
        category = rng.choice(CATEGORIES)
        year = rng.randint(2015, 2025)
        amount = rng.choice([rng.randint(2, 60) * 100, rng.randint(1, 9) * 1000])
        said = rng.choice(["再等等", "不归他管", "已经上报", "没有指标", "材料不全"])
        core = [f"{rng.choice(SUBJECTS[category])}", f"{year}年{rng.choice(OBJECTS)}的事",
                f"涉及{amount}元", f"{rng.choice(PEOPLE)}说{said}"]
        demand = f"要求{rng.choice(ACTIONS['default'])}{amount}元"
        matter = Matter(len(self.matters) + 1, person, category, core, demand)
        self.matters.append(matter)
        n = rng.choices((1, 2, 3, 4, 5, 6), (55, 22, 10, 6, 4, 3))[0]
        first = rng.uniform(self.start, self.end - 86400 * 30)
        times = sorted([first] + [rng.uniform(first, self.end) for _ in range(n - 1)])
        for at in times:
            self.visits.append(self._visit(matter, at))

    def _visit(self, matter: Matter, at: float) -> Visit:
        rng = self.rng
        true = matter.person.identity
        r = rng.random()
        phone = "" if not true.phone or r < 0.1 else (
            f"1{rng.choice('3578')}{rng.randint(0, 9)}{rng.randint(0, 99_999_999):08d}"
            if r < 0.15 else phone_format(rng, true.phone))
        typed = Identity(noisy_name(rng, true.name),
                         true.id_number if true.id_number and rng.random() < 0.7 else "",
                         phone)
        return Visit(matter, at, typed, reword(rng, matter.core), reword(rng, [matter.demand]),
                     township_typed=rng.random() < 0.7)
