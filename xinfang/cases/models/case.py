"""The case and the people and demands in it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from xinfang.security.fields import EncryptedTextField

from .. import choices as c
from ..duesort import DueKey


class Petitioner(models.Model):
    """A person, who may appear in many cases. Identity data — the name included — is encrypted
    at rest; the blind indexes allow an exact lookup ("has this ID number petitioned before?",
    "every case of 张三明") without decrypting (``xinfang.security.names``).

    ``confidential`` belongs to the person, not to a case: once they asked that their identity be
    kept from the units handling their petition, every case they appear in — merged into, reviewed,
    registered again — masks them for those units (``xinfang.cases.disclosure``). It is never
    cleared by a later registration."""

    name = EncryptedTextField(_("姓名"))
    name_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    name_pinyin_index = models.CharField(
        max_length=64, blank=True, db_index=True, editable=False
    )
    gender = models.CharField(_("性别"), max_length=1, choices=c.Gender.choices, blank=True)
    birth_year = models.PositiveIntegerField(_("出生年份"), null=True, blank=True)
    id_number = EncryptedTextField(_("身份证号"), blank=True)
    id_number_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    phone = EncryptedTextField(_("联系电话"), blank=True)
    phone_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    address = EncryptedTextField(_("住址"), blank=True)
    township = models.ForeignKey(
        "org.Unit",
        verbose_name=_("乡镇"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    village = models.ForeignKey(
        "org.Unit",
        verbose_name=_("村"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    exited_household = models.BooleanField(_("脱贫户"), default=False)
    monitored_household = models.BooleanField(_("监测对象"), default=False)
    confidential = models.BooleanField(_("要求保密"), default=False, db_default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("信访人")
        verbose_name_plural = _("信访人")

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        from xinfang.security.crypto import get_keyring
        from xinfang.security.names import name_index, name_pinyin_index

        ring = get_keyring()
        self.name_index = name_index(self.name, ring=ring)
        self.name_pinyin_index = name_pinyin_index(self.name, ring=ring)
        self.id_number_index = (
            ring.blind_index(self.id_number, purpose="id_number") if self.id_number else ""
        )
        self.phone_index = ring.blind_index(self.phone, purpose="phone") if self.phone else ""
        super().save(*args, **kwargs)


class CaseNumberSequence(models.Model):
    """The last number issued per jurisdiction and year; incremented inside the registering
    transaction so that numbers are gap-free (a rolled-back registration returns its number)."""

    jurisdiction = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["jurisdiction", "year"], name="case_sequence_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.jurisdiction_id}/{self.year}: {self.last}"


class Case(models.Model):
    number = models.CharField(_("信访件编号"), max_length=60, unique=True)
    jurisdiction = models.ForeignKey(
        "org.Unit", verbose_name=_("受理机关"), on_delete=models.PROTECT, related_name="cases",
        db_index=False,  # case_jurisdiction_id below leads with it
    )
    year = models.PositiveIntegerField(_("年度"))
    seq = models.PositiveIntegerField(_("序号"))
    # No index of its own: case_profile_state leads with it.
    profile = models.ForeignKey(
        "rules.ProfileVersion",
        verbose_name=_("规则版本"),
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,
    )
    # No index of its own: case_state_due_idx and case_state_accepted lead with it.
    state = models.CharField(_("状态"), max_length=24, choices=c.State.choices)
    # Bumped by every transition; a form that carries an older version is refused, so two people
    # acting at once never overwrite each other.
    version = models.PositiveIntegerField(default=1)

    kind = models.CharField(
        _("类型"), max_length=20, choices=c.Kind.choices, default=c.Kind.PETITION
    )
    channel = models.CharField(_("信访形式"), max_length=20, choices=c.Channel.choices)
    matter_type = models.CharField(
        _("事项类型"), max_length=20, choices=c.MatterType.choices, default=c.MatterType.REQUEST
    )
    received_at = models.DateTimeField(_("信访时间"))
    registered_at = models.DateTimeField(_("登记时间"))
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    matter = models.TextField(_("信访事项"))
    headcount = models.PositiveIntegerField(_("来访人数"), default=1)
    # Neither place has an index of its own: (township, village), case_township_state_recv and
    # case_village_received lead with them.
    township = models.ForeignKey(
        "org.Unit",
        verbose_name=_("问题属地（乡镇）"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    village = models.ForeignKey(
        "org.Unit",
        verbose_name=_("问题属地（村）"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )

    source_level = models.CharField(
        _("交办层级"), max_length=20, choices=c.SourceLevel.choices, default=c.SourceLevel.NONE
    )
    source_office = models.CharField(_("交办机关"), max_length=100, blank=True)
    source_reference = models.CharField(_("交办文号"), max_length=100, blank=True)
    leader_instruction = models.TextField(_("领导批示"), blank=True)
    leader_instruction_level = models.CharField(
        _("批示领导层级"), max_length=20, choices=c.SourceLevel.choices, blank=True
    )

    key_case = models.BooleanField(_("重点信访件"), default=False)
    repeat_count = models.PositiveIntegerField(_("此前信访次数"), default=0)
    level_skipping = models.BooleanField(_("越级访"), default=False)
    collective = models.BooleanField(_("集体访"), default=False)
    extreme_behaviour = models.BooleanField(_("极端行为"), default=False)
    exited_household = models.BooleanField(_("脱贫户"), default=False)
    monitored_household = models.BooleanField(_("监测对象"), default=False)
    confidential = models.BooleanField(_("信访人要求保密"), default=False)
    concerns_misconduct = models.BooleanField(_("反映干部违纪违法"), default=False)
    concerns_policy = models.BooleanField(_("政策或行业问题"), default=False)
    concerns_execution = models.BooleanField(_("片区执行问题"), default=False)
    concerns_several_units = models.BooleanField(_("涉及多个部门"), default=False)
    leader_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("包案领导"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_cases",
    )

    repeat_of = models.ForeignKey(
        "self",
        verbose_name=_("重复信访于"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="repeats",
    )
    # The matter's first visit, the root of the ``repeat_of`` chain (issue 14: a repeat is the
    # same matter, visit after visit), kept when the repeat is linked at registration so that
    # a report, a ledger or a person's page groups visits by matter without climbing the chain
    # (a recursive statement per 500 cases, 870 ms of the province's monthly bulletin at 1M).
    # Empty on a first visit: its matter is itself (``matter_id``).
    matter_root = models.ForeignKey(
        "self",
        verbose_name=_("初次信访件"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # case_matter_root_id below leads with it
    )
    review_of = models.ForeignKey(
        "self",
        verbose_name=_("复查（复核）原件"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reviews",
    )
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("合并至"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_cases",
    )

    decline_reason = models.TextField(_("不予受理理由"), blank=True)
    guidance = models.TextField(_("引导去向"), blank=True)
    proposal = models.TextField(_("处置建议"), blank=True)
    reply_mode_required = models.CharField(_("答复方式要求"), max_length=20, blank=True)
    rating = models.CharField(_("满意度"), max_length=20, choices=c.Rating.choices, blank=True)
    rating_at = models.DateTimeField(_("评价时间"), null=True, blank=True)
    reported_back_at = models.DateTimeField(_("反馈交办机关时间"), null=True, blank=True)
    # When the decision letter last reached the petitioner (its latest delivery not refused),
    # kept by the delivery's effect: the return visits owed are listed oldest reply first, and
    # reading each case's deliveries to sort them took 0.5 s for a county at 1M cases.
    reply_delivered_at = models.DateTimeField(_("答复送达时间"), null=True, blank=True)
    settlement_pledge_at = models.DateTimeField(_("息诉息访书签署时间"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("销号时间"), null=True, blank=True)
    archived_at = models.DateTimeField(_("归档时间"), null=True, blank=True)
    transferred_to_discipline = models.BooleanField(_("已移送纪检"), default=False)
    # Printed on the acceptance notice; the petitioner's key to the public progress page.
    query_code = models.CharField(_("查询码"), max_length=12, blank=True)
    # The soonest due instant of the case's running deadline clocks (None: none running), kept
    # by ``case_refresh_due`` whenever a clock starts, stops, pauses, resumes or moves. Lists sort
    # and filter on it ("overdue" is ``next_due_at < now`` for an open case) without joining
    # every clock of every case.
    next_due_at = models.DateTimeField(_("最近截止时间"), null=True, blank=True, editable=False)
    # The same instant while the case is open, else None: "overdue" is ``open_due_at < now``, one
    # column a database can estimate and index. Asked as two tests (an open state and a
    # deadline past), PostgreSQL took them for independent and planned the county's overdue
    # list for a twentieth of its rows (docs/PERFORMANCE.md, lead38). Kept by the database itself
    # (migration 0046: stored on PostgreSQL, computed on reading on SQLite), so no write path
    # can leave it behind a state or a deadline. Ask it in queries: Django does not read it back
    # after an UPDATE, so an instance saved since it was read holds the value it was read with.
    open_due_at = models.GeneratedField(
        expression=models.Case(models.When(state__in=sorted(c.OPEN_STATES),
                                           then=F("next_due_at"))),
        output_field=models.DateTimeField(null=True), db_persist=True, null=True,
        verbose_name=_("在办最近截止时间"))

    class Meta:
        verbose_name = _("信访件")
        verbose_name_plural = _("信访件")
        ordering = ["-registered_at"]
        constraints = [
            models.UniqueConstraint(fields=["jurisdiction", "year", "seq"], name="case_seq_unique"),
        ]
        indexes = [
            # An office's cases by id: the lists' capped counts (and the door's NOT IN of the
            # respondent cases) read the index alone, never the table (PostgreSQL; SQLite's
            # indexes carry the id anyway).
            models.Index(fields=["jurisdiction", "id"], name="case_jurisdiction_id"),
            # An office's ended cases waiting to be archived, newest first: the clerk's 待归档
            # bucket and its count read its first rows here, where they read and sorted the
            # busy county's 7,700 (SQLite) or 38,000 (PostgreSQL, 1M) ended cases for ten.
            # The condition is written as the bucket writes its states (``Written``).
            models.Index(fields=["jurisdiction", "registered_at", "id"], name="case_ended_idx",
                         condition=Q(state__in=list(c.ENDED_STATES))),
            models.Index(fields=["jurisdiction", "state"]),
            # An office's to-do bucket (one state of its own jurisdiction) in the queue's order,
            # soonest deadline first then newest (``queues.ordered``): its first rows and its
            # count to the cap read off the index. The due key is the sort's own expression
            # (``duesort``): the column on PostgreSQL, its COALESCE on SQLite.
            models.Index(F("jurisdiction"), F("state"), DueKey(F("next_due_at")),
                         F("registered_at").desc(), F("id").desc(), name="case_queue_idx"),
            models.Index(fields=["township", "village"]),
            # The same village's newest cases: where the matching looks for the same matter.
            models.Index(fields=["village", "received_at"], name="case_village_received"),
            # What the lists sort by (newest first, ties by id) and the queues' soonest-due order.
            models.Index(fields=["received_at", "id"], name="case_received_idx"),
            # A township's cases in one state, newest first: the ledger's common filter reads its
            # page in order instead of and-ing the township with the province's whole state.
            models.Index(fields=["township", "state", "received_at", "id"],
                         name="case_township_state_recv"),
            models.Index(fields=["registered_at", "id"], name="case_registered_idx"),
            models.Index(fields=["next_due_at"], name="case_next_due_idx"),
            models.Index(fields=["state", "next_due_at"], name="case_state_due_idx"),
            # An office's open cases by deadline (the overdue lists and their counts): only the
            # open cases with a deadline running, a fifteenth of the cases at 1M; their ids
            # included, the counts read the index alone (PostgreSQL; SQLite's rows hold the id).
            models.Index(fields=["jurisdiction", "open_due_at"], name="case_open_due_idx",
                         include=["id"], condition=Q(open_due_at__isnull=False)),
            models.Index(fields=["state", "accepted_at"], name="case_state_accepted"),
            # The open cases a leader owns (领导包案), a county's: the supervision page's list
            # read them out of every leader-owned case of the province.
            # Its id included (PostgreSQL; SQLite's index rows hold the id as their rowid): the
            # page's two reads are index-only. Without it PostgreSQL and-ed the index with a
            # state index's 98,000 open cases to save 400 row visits (8 ms a read at 1M).
            models.Index(fields=["jurisdiction", "received_at"], name="case_leader_owned_open",
                         include=["id"],
                         condition=Q(leader_owner__isnull=False,
                                     state__in=sorted(c.OPEN_STATES))),
            # The cases reported back to the office that referred them (反馈交办机关): the
            # report-backs owed a verification (oversight), newest first, out of the few
            # reported rather than by probing every case of the scope for such an event.
            models.Index(fields=["jurisdiction", "id"], name="case_reported_back",
                         condition=Q(reported_back_at__isnull=False)),
            # The cases closed (销号) in a period, an office's: the weekly report's batch and
            # its count on the reports page read a county's 100,000 cases at 1M (265 ms).
            models.Index(fields=["jurisdiction", "closed_at"], name="case_closed_idx",
                         condition=Q(closed_at__isnull=False)),
            # A profile version's cases, open or all (the versions page, the migration of open
            # cases to a newer version): counted off the index alone, where the profile's own
            # index left the open ones to 98,000 row visits at 1M cases (215 ms).
            models.Index(fields=["profile", "state"], name="case_profile_state"),
            # The return visits owed, oldest reply first: walked in that order across the
            # province, the reader's cases kept, fifty found long before the end.
            models.Index(fields=["reply_delivered_at", "id"], name="case_reply_delivered"),
            # A matter's visits, the repeats of its first visit, read off the index alone
            # (national §36 asks them at each proposal of a repeat: ``scope._REREVIEWED_SQL``).
            models.Index(fields=["matter_root", "id"], name="case_matter_root_id"),
            # An office's cases received in a span, with what the goals count of them
            # (``scoring.goals``: two years of months at once, and the backlog at each month's
            # end): read off the index alone, where the rows of a county's year and the year
            # before were 44,000 page visits at 1M cases (the scores page for a year 267 → 59
            # ms, lead26) and the backlog 177 ms (lead27). SQLite has no INCLUDE: there the
            # included columns are trailing key columns (migration 0038).
            models.Index(fields=["jurisdiction", "received_at"], name="case_jurisdiction_received",
                         include=["id", "state", "source_level", "level_skipping", "collective",
                                  "rating", "repeat_count", "repeat_of", "registered_at",
                                  "closed_at"]),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def matter_id(self) -> int:
        """The matter this visit is about: its first visit's id (its own for a first visit)."""
        return self.matter_root_id or self.pk

    @property
    def is_referred(self) -> bool:
        return self.source_level not in ("", c.SourceLevel.NONE)

    @property
    def main_petitioner(self) -> Petitioner | None:
        link = (
            self.petitioner_links.filter(role__in=c.PETITIONING_ROLES)
            .order_by("role", "pk")  # "main" sorts before "representative"
            .select_related("petitioner")
            .first()
        )
        return link.petitioner if link else None


class CasePetitioner(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="petitioner_links",
                             db_index=False)  # case_petitioner_unique leads with it
    petitioner = models.ForeignKey(Petitioner, on_delete=models.PROTECT, related_name="case_links")
    role = models.CharField(_("身份"), max_length=20, choices=c.PetitionerRole.choices)
    # The person's confidentiality as it stood when linked to this case, carried on every copy
    # (merge, review): the link says by itself that this person is masked for handling units.
    confidential = models.BooleanField(_("要求保密"), default=False, db_default=False)

    class Meta:
        verbose_name = _("案件信访人")
        verbose_name_plural = _("案件信访人")
        constraints = [
            models.UniqueConstraint(fields=["case", "petitioner"], name="case_petitioner_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.petitioner_id} ({self.role})"


class Demand(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="demands",
                             db_index=False)  # demand_seq_unique leads with it
    seq = models.PositiveIntegerField(_("序号"))
    text = models.TextField(_("诉求"))
    category = models.CharField(_("问题类别"), max_length=40)
    finding = models.CharField(_("核查结论"), max_length=10, choices=c.Finding.choices, blank=True)
    resolution_class = models.CharField(
        _("三到位一处理"), max_length=20, choices=c.ResolutionClass.choices, blank=True
    )
    finding_note = models.TextField(_("核查情况"), blank=True)

    class Meta:
        verbose_name = _("诉求")
        verbose_name_plural = _("诉求")
        # By the case's id, not the case: ordering by the relation sorts by the case's own
        # order, which joins the cases table into every read of demands.
        ordering = ["case_id", "seq"]
        constraints = [models.UniqueConstraint(fields=["case", "seq"], name="demand_seq_unique")]
        # The ledger's category filter asks of each case whether a demand has the category: read
        # off the first index, not each demand's row (a county clerk's category + township
        # ledger at 1M: 121 → 89 ms, PERFORMANCE.md lead25). A count of the filter over a whole
        # county, city or province reads the category's cases from the second at once, where
        # the first was probed once a case (a city's 92,000 at 1M: 80–107 ms; lead28).
        indexes = [models.Index(fields=["case", "category"], name="demand_case_category"),
                   models.Index(fields=["category", "case"], name="demand_category_case")]

    def __str__(self) -> str:
        return f"{self.case}#{self.seq}"


class Respondent(models.Model):
    """The unit or official complained about: never assigned the case, never shown it."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="respondents")
    unit = models.ForeignKey("org.Unit", null=True, blank=True, on_delete=models.PROTECT)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    name = models.CharField(_("被反映人（单位）"), max_length=100)
    position = models.CharField(_("职务"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("被反映对象")
        verbose_name_plural = _("被反映对象")

    def __str__(self) -> str:
        return self.name
