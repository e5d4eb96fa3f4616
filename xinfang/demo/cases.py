"""Living demo cases: a few dozen, spread over every step of the workflow, received over the past
weeks so that some clocks are late, some due soon, and some petitioners have come back. Every case
is made through the same services the office uses."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from xinfang.cases import choices as c
from xinfang.cases.services import (
    DemandInput,
    PetitionerInput,
    Registration,
    RespondentInput,
    case_register,
    perform,
)
from xinfang.registers.models import ScreeningFinding
from xinfang.registers.services import (
    Finding,
    backlog_designate,
    backlog_progress,
    roster_upsert,
    screening_record,
)
from xinfang.security.idcard import id_check_digit

from .org import Jurisdiction

PEOPLE = [
    ("张三明", "M", 1968),
    ("李秀英", "F", 1957),
    ("王建华", "M", 1975),
    ("刘桂兰", "F", 1962),
    ("陈国强", "M", 1980),
    ("杨翠花", "F", 1971),
    ("赵德胜", "M", 1959),
    ("黄小燕", "F", 1988),
    ("周玉梅", "F", 1966),
    ("吴长海", "M", 1953),
    ("徐红霞", "F", 1979),
    ("孙立新", "M", 1984),
    ("马春生", "M", 1970),
    ("朱丽娟", "F", 1992),
    ("胡振东", "M", 1961),
    ("郭淑珍", "F", 1958),
]
MATTERS = [
    ("危房改造", "反映2025年危房改造补助未足额到位", "要求补发危房改造补助差额"),
    ("小额信贷", "反映小额信贷贴息未按时发放", "要求发放2026年上半年贴息"),
    ("医疗保障", "反映住院费用未按脱贫人口政策报销", "要求按倾斜政策二次报销"),
    ("防返贫监测", "因病返贫风险未纳入监测对象", "要求纳入防返贫监测并落实帮扶"),
    ("民政救助", "反映低保被取消", "要求恢复低保待遇"),
    ("帮扶措施", "反映帮扶责任人长期未入户", "要求更换帮扶责任人并落实帮扶措施"),
    ("资金项目", "反映村扶贫项目收益分配不公开", "要求公开项目收益分配明细"),
    ("残疾人补贴", "反映重度残疾人护理补贴停发", "要求补发护理补贴"),
]
# The stage each demo case is taken to, in order; repeated so every step has several cases.
STAGES = [
    "registered",
    "proposed",
    "signed_off",
    "assigned",
    "in_progress",
    "contacted",
    "extension_requested",
    "letter_drafted",
    "letter_issued",
    "delivered",
    "closed",
    "archived",
    "declined",
]


def id_number(rng: random.Random, birth_year: int, gender: str) -> str:
    body = f"411023{birth_year}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    order = rng.randint(10, 99) * 10 + (
        rng.choice([1, 3, 5, 7, 9]) if gender == "M" else rng.choice([0, 2, 4, 6, 8])
    )
    first17 = body + f"{order:03d}"
    return first17 + id_check_digit(first17)


def _advance(case, stage: str, j: Jurisdiction, t: datetime) -> None:
    """Take a registered case to ``stage``, each step an hour or so after the last."""
    clerk, approver, township = j.member("clerk"), j.member("approver"), j.member("township")
    steps = []

    def do(name, by, **kw):
        steps.append((name, by, kw))

    if stage == "declined":
        do("decline", clerk, reason="不属于涉贫信访受理范围", guidance="已告知向镇司法所申请调解")
    order = STAGES.index(stage) if stage in STAGES else 0
    if stage != "declined" and order >= 1:
        do("propose", clerk, proposal="建议交将官池镇牵头办理，区民政局协办")
    if stage != "declined" and order >= 2:
        do("sign_off", approver, note="同意")
    if stage != "declined" and order >= 3:
        do(
            "assign",
            clerk,
            lead=j.townships["将官池镇"],
            assisting=[j.bureaus["区民政局"]],
            receiver_name="陈晓东",
            responsible_person="陈晓东",
        )
    if stage != "declined" and order >= 4:
        do("sign_for", township)
    if stage != "declined" and order >= 5:
        do("log_contact", township, kind="phone", note="电话联系信访人，了解具体诉求")
        do(
            "deliver_acceptance_notice",
            township,
            mode="in_person",
            deliverer="陈晓东",
            recipient="信访人本人",
        )
    if stage == "extension_requested":
        do(
            "request_extension",
            township,
            reason="需核对历年补助发放台账",
            progress_report="已调取2024、2025年发放台账",
            expected_completion=date.today() + timedelta(days=20),
        )
    if stage != "declined" and order >= 7:
        do("submit_report", township, kind="investigation", text="经调查核实，情况基本属实。")
        do("record_finding", township, findings={1: ("partly", "solved", "已督促发放")})
        do(
            "draft_letter",
            township,
            body="经调查核实，你反映的问题部分属实，现答复如下……"
            "如不服本处理意见，可自收到之日起30日内向区乡村振兴局书面申请复查。",
        )
    if stage != "declined" and order >= 8:
        do("approve_letter", approver)
        do("issue_letter", clerk)
    if stage != "declined" and order >= 9:
        do(
            "record_delivery",
            clerk,
            mode="in_person",
            delivered_at=None,
            deliverer="陈晓东",
            recipient="信访人本人",
            receipt_signed=True,
        )
        do(
            "record_rating",
            township,
            rating=random.Random(case.pk).choice(["satisfied", "satisfied", "basically"]),
        )
        do("record_pledge", township, text="本人对处理结果满意，今后不再就此事信访。")
    if stage != "declined" and order >= 10:
        if case.is_referred:
            do("report_back", clerk, note="已将处理意见、调查报告和佐证材料报交办机关")
        do("close", approver, note="同意销号")
    if order >= 11:
        do("archive", clerk)
    for name, by, kw in steps:
        t += timedelta(hours=2)
        if name == "record_delivery":
            kw["delivered_at"] = t
        case = perform(name, case=case, by=by, at=t, **kw)


def load_cases(j: Jurisdiction, *, now: datetime) -> int:
    rng = random.Random(2026)
    clerk = j.member("clerk")
    villages = list(j.villages.items())
    count = 0
    for i, stage in enumerate(STAGES * 2):
        name, gender, year = PEOPLE[i % len(PEOPLE)]
        category, matter, demand = MATTERS[i % len(MATTERS)]
        vname, village = villages[i % len(villages)]
        days_ago = 2 + (i * 7) % 40 if stage not in ("registered", "proposed") else i % 3
        received = now - timedelta(days=days_ago, hours=rng.randint(0, 6))
        referred = i % 5 == 0
        case = case_register(
            by=clerk,
            at=received + timedelta(minutes=20),
            data=Registration(
                channel=[c.Channel.VISIT, c.Channel.LETTER, c.Channel.PHONE, c.Channel.ONLINE][
                    i % 4
                ]
                if not referred
                else c.Channel.REFERRAL,
                matter=matter,
                received_at=received,
                petitioners=[
                    PetitionerInput(
                        name=name,
                        gender=gender,
                        birth_year=year,
                        id_number=id_number(rng, year, gender),
                        phone=f"13{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}",
                        address=f"河南省许昌市建安区{village.parent.name}{vname}"
                        f"{rng.randint(1, 9)}组",
                        exited_household=i % 2 == 0,
                        monitored_household=i % 7 == 0,
                    )
                ],
                demands=[DemandInput(text=demand, category=category)],
                township=village.parent,
                village=village,
                source_level=c.SourceLevel.PROVINCE if referred else c.SourceLevel.NONE,
                source_office="河南省乡村振兴局" if referred else "",
                key_case=i % 6 == 0,
                confidential=i % 9 == 0,
                respondents=[
                    RespondentInput(name="某村党支部书记", position="村支书", unit=village)
                ]
                if i % 8 == 3
                else [],
            ),
        )
        _advance(case, stage, j, received + timedelta(minutes=30))
        count += 1
    # A petitioner who keeps coming back: the third and fourth visits raise warnings.
    name, gender, year = "韩老四", "M", 1955
    repeat_id = id_number(rng, year, gender)
    for k, days_ago in enumerate([35, 20, 6, 1]):
        received = now - timedelta(days=days_ago, hours=3)
        case_register(
            by=clerk,
            at=received + timedelta(minutes=10),
            data=Registration(
                channel=c.Channel.VISIT,
                matter="反复反映产业奖补资金被村干部截留",
                received_at=received,
                headcount=6 if k == 3 else 1,
                level_skipping=k >= 2,
                petitioners=[
                    PetitionerInput(
                        name=name,
                        gender=gender,
                        birth_year=year,
                        id_number=repeat_id,
                        phone="13903745678",
                        address="河南省许昌市建安区椹涧乡小河村2组",
                    )
                ],
                demands=[DemandInput(text="要求足额发放产业奖补资金", category="资金项目")],
                township=j.townships["椹涧乡"],
                village=j.villages["小河村"],
                concerns_misconduct=True,
            ),
        )
        count += 1
    # An online opinion incident registered a few hours ago.
    case_register(
        by=clerk,
        at=now - timedelta(hours=3),
        data=Registration(
            channel=c.Channel.MEDIA,
            kind=c.Kind.OPINION_INCIDENT,
            matter="网帖称五女店镇某村扶贫车间停工、务工群众工资被拖欠",
            received_at=now - timedelta(hours=4),
            petitioners=[],
            demands=[DemandInput(text="核实扶贫车间欠薪情况", category="帮扶措施")],
            township=j.townships["五女店镇"],
            village=j.villages["魏庄村"],
        ),
    )
    return count + 1


def load_registers(j: Jurisdiction, *, now: datetime) -> None:
    clerk = j.member("clerk")
    if not ScreeningFinding.objects.filter(jurisdiction=j.county).exists():
        for k, (tname, vname, person, problem, category) in enumerate(
            [
                (
                    "将官池镇",
                    "霍庄村",
                    "冯大成",
                    "对低保评定结果有意见，多次到村委会反映",
                    "民政救助",
                ),
                ("五女店镇", "五女店村", "蒋桂芝", "认为因病致贫未及时纳入监测", "防返贫监测"),
                ("椹涧乡", "椹涧村", "沈永福", "光伏收益分红长期未发放", "资金项目"),
            ]
        ):
            screening_record(
                by=clerk,
                finding=Finding(
                    screened_on=(now - timedelta(days=10 + k)).date(),
                    township=j.townships[tname],
                    village=j.villages[vname],
                    person_name=person,
                    problem=problem,
                    category=category,
                    exited_or_monitored=True,
                    responsible_unit=j.townships[tname],
                ),
            )
    from xinfang.cases.models import Case

    repeat = Case.objects.filter(jurisdiction=j.county, repeat_count__gte=2).order_by("pk").first()
    if repeat is not None and not hasattr(repeat, "backlog"):
        backlog = backlog_designate(
            by=j.member("approver"),
            case=repeat,
            owner_leader=j.member("chief").user,
            reason="信访人多次越级上访，诉求涉及村干部作风问题",
            at=now - timedelta(days=5),
            plan="区纪委监察委介入核查资金去向；镇党委书记包案；每周入户沟通一次",
            plan_deadline=(now + timedelta(days=30)).date(),
        )
        backlog_progress(
            by=j.member("approver"),
            backlog=backlog,
            at=now - timedelta(days=2),
            text="已入户沟通，信访人情绪稳定，资金核查进行中。",
        )
    for tname, township in j.townships.items():
        roster_upsert(
            by=clerk,
            unit=township,
            leader_name=f"{tname[:2]}分管领导",
            leader_position="党委副书记",
            leader_office_phone="0374-8888001",
            leader_mobile="13700000001",
            clerk_name=f"{tname[:2]}信访专干",
            clerk_office_phone="0374-8888002",
            clerk_mobile="13700000002",
        )
