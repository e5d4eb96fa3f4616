"""Units as a tree and the people who act in them.

A unit's ``path`` is the chain of primary keys from the root ("/1/4/9/"), so "everything under this
township" is one indexed prefix filter rather than a recursive query.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from datetime import date

from django.contrib.auth.models import AbstractUser
from django.db import connections, models, router
from django.db.models import BooleanField, F, Q
from django.db.models.expressions import RawSQL
from django.db.models.lookups import Lookup, StartsWith
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinfang.db import locks
from xinfang.db.fixed import TreeRead

from .choices import LEVEL_ORDER, Level, Role, UnitKind


class Unit(models.Model):
    name = models.CharField(_("名称"), max_length=100)
    short_name = models.CharField(
        _("简称"), max_length=20, blank=True, help_text=_("案件编号前缀，如“建安”")
    )
    level = models.CharField(_("层级"), max_length=16, choices=Level.choices)
    kind = models.CharField(_("类型"), max_length=20, choices=UnitKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    # A jurisdiction runs its own petition office under a rule profile and numbers its own cases.
    profile_code = models.CharField(_("规则配置"), max_length=40, blank=True)
    phone = models.CharField(_("办公电话"), max_length=40, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("单位")
        verbose_name_plural = _("单位")
        ordering = ["path"]
        indexes = [
            # The offices by path (``offices_under``): a province's 168 among its 37,000 units.
            # The condition is the one ``OFFICE`` writes, word for word: SQLite uses a partial
            # index only for a query that repeats its condition.
            models.Index(fields=["path"], name="unit_office_path", condition=~Q(profile_code=""),
                         opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        path = (self.parent.path if self.parent else "/") + f"{self.pk}/"
        if path != self.path:
            self.path = path
            Unit.objects.filter(pk=self.pk).update(path=path)

    @property
    def is_jurisdiction(self) -> bool:
        return bool(self.profile_code)

    @property
    def path_ids(self) -> list[int]:
        """The ids on the unit's path, from the top of the tree down to the unit itself."""
        return [int(p) for p in self.path.strip("/").split("/") if p]

    def ancestors(self, *, include_self: bool = True) -> list[Unit]:
        # Read once per instance (and path): a request asks its units' ancestors several times
        # (jurisdiction, the door, each check), and a unit instance lives for one request.
        cached = getattr(self, "_ancestors", None)
        if cached is None or cached[0] != self.path:
            ids = self.path_ids
            by_id = Unit.objects.order_by().in_bulk(ids)  # ordered below, by the path
            cached = (self.path, [by_id[i] for i in ids if i in by_id])
            self._ancestors = cached
        chain = list(cached[1])
        if not include_self and chain and chain[-1].pk == self.pk:
            chain = chain[:-1]
        return chain

    def jurisdiction(self) -> Unit | None:
        """The nearest unit at or above this one that runs a petition office under a profile."""
        if self.is_jurisdiction:
            return self
        # Read with its parent (a membership's unit is: ``select_related("unit__parent")``) and
        # the parent is the jurisdiction — an office or township right under its county: no walk.
        parent = self._state.fields_cache.get("parent")
        if parent is not None and parent.is_jurisdiction:
            return parent
        for unit in reversed(self.ancestors()):
            if unit.is_jurisdiction:
                return unit
        return None

    def subtree(self):
        return Unit.objects.filter(path__under=self.path)

    @staticmethod
    def offices_under(path: str) -> tuple[int, ...]:
        """The ids of the offices (units with a profile) at ``path`` or under it, off the
        partial index ``unit_office_path``. Every case's jurisdiction is one of them: a case is
        registered at its office (``case_register``), and an office holding cases keeps its
        profile (``unit_update``)."""
        return tuple(pk for (pk,) in _OFFICES_UNDER(path))

    def is_within(self, other: Unit) -> bool:
        return self.path.startswith(other.path)

    def level_rank(self) -> int:
        return LEVEL_ORDER.index(Level(self.level))


# A path as the tree writes it (``Unit.save``): the ids from the root, each closed by a slash.
TREE_PATH = re.compile(r"/(?:[0-9]+/)*")


class Under(Lookup):
    """``path__under=p``: the units whose path starts with ``p`` — a unit and its subtree.

    PostgreSQL reads a ``LIKE 'p%'`` off the path's pattern index (``startswith``). SQLite does
    not: its ``LIKE`` ignores case, so no binary index serves it, and a county's subtree was a
    scan of the province's 37,000 units on every list (5.7 ms at 200k cases, against 0.15 ms).
    There the same set is the index range ``p <= path < p'``, ``p'`` being ``p`` with its last
    character one higher: a string starting with ``p`` sorts between the two under the binary
    collation, and any other string outside them.

    On PostgreSQL a path of the tree's own form (``/1/2/4/``: digits and slashes, nothing to
    escape) is written into the statement, not bound. A statement prepared on its connection
    may keep a generic plan, which cannot read a pattern it does not know off the index: the
    registration form's villages of a county took 3.2 ms from the fifth run on, a scan of the
    province's 37,000 units, against 0.3 ms (1M cases, lead35)."""

    lookup_name = "under"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        if not isinstance(self.rhs, str):
            raise TypeError("path__under takes a path, not an expression")
        if connection.vendor == "postgresql" and TREE_PATH.fullmatch(self.rhs):
            lhs, lhs_params = self.process_lhs(compiler, connection)
            lhs = connection.ops.lookup_cast("startswith", "CharField") % lhs
            # ``%%``: the statement goes to the driver with its parameters, which reads a
            # lone ``%`` as the start of one
            return f"{lhs} LIKE '{self.rhs}%%'", lhs_params
        if connection.vendor != "sqlite" or not self.rhs:
            return StartsWith(self.lhs, self.rhs).as_sql(compiler, connection)
        lhs, lhs_params = self.process_lhs(compiler, connection)
        upper = self.rhs[:-1] + chr(ord(self.rhs[-1]) + 1)
        return f"({lhs} >= %s AND {lhs} < %s)", (*lhs_params, self.rhs, *lhs_params, upper)


Unit._meta.get_field("path").register_lookup(Under)


def children_locked(parent: Unit | None) -> None:
    """The parent's row held until commit, by whoever names a unit under it (``unit_create``,
    ``unit_update``, the tree's import): a name is checked free among its children and then
    taken while no other writer checks the same children. The tree keeps no constraint on
    sibling names — a tree loaded before may hold two alike — so the check is this lock's. The
    top of the tree has no row to hold: PostgreSQL holds a transaction's advisory lock in its
    stead; SQLite's IMMEDIATE transaction already holds the one write lock."""
    if parent is not None:
        Unit.objects.select_for_update().filter(pk=parent.pk).values_list("pk").get()
        return
    locks.held(locks.TREE_TOP, using=router.db_for_write(Unit))


def units_held_active(ids) -> set[int]:
    """Which of the units ``ids`` are active, their rows held FOR KEY SHARE until commit on
    PostgreSQL. A unit is switched off under FOR UPDATE after finding nothing that still needs
    it (``web.admin_services.unit_set_active``: no active membership, no open case or
    assignment): a writer that names the unit (a grant, an assignment) waits here for it to
    commit and reads it off, or commits first and is found by it. KEY SHARE, not a writer's
    lock: grants and assignments to one unit do not queue on each other. An instance read
    before (a form's, a fixture's) does not answer this: it may be stale."""
    ids = sorted({int(i) for i in ids})
    if not ids:
        return set()
    db = router.db_for_write(Unit)
    connection = connections[db]
    if connection.vendor != "postgresql":  # SQLite: one writer at a time already
        return set(Unit.objects.using(db).filter(pk__in=ids, is_active=True)
                   .values_list("pk", flat=True))
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {quote('id')}, {quote('is_active')} "
                       f"FROM {quote(Unit._meta.db_table)} WHERE {quote('id')} = ANY(%s) "
                       f"ORDER BY {quote('id')} FOR KEY SHARE", [ids])
        return {pk for pk, active in cursor.fetchall() if active}


def units_switched_off(units) -> list[Unit]:
    """Of ``units`` (None skipped), those switched off, each read again and held
    (``units_held_active``): the places and units a registration or a register's row names
    other than by its form (a ledger's import, a screening finding, the ``match`` command),
    refused as the form refuses them. An instance read before (a preview's, a finding's) does
    not answer this."""
    units = [u for u in units if u is not None]
    active = units_held_active(u.pk for u in units)
    return [u for u in units if u.pk not in active]


def switched_off_text(unit: Unit) -> str:
    """What a refusal of the switched-off ``unit`` says: its name, and what to name instead."""
    what = Level(unit.level).label if unit.level in (Level.TOWNSHIP, Level.VILLAGE) else "单位"
    return f"“{unit.name}”已停用，请改为现行的{what}"


def names_told_apart(ids, *, then: Mapping[int, str] | None = None) -> dict[int, str]:
    """The names of the units ``ids`` (a falsy id is skipped), a name two of them share followed
    by each one's parent ("区民政局（建安区）"): a city's or a province's tables hold units of
    several counties, which have bureaus and townships of the same names. One query, each id
    asked once (a table's rows name a township many times: 30,000 ids for 2,400 townships).

    ``then``: a period's names (``names_then``, read once a report): each unit and parent named
    as on the period's last day — May's table says 城关镇 after a rename to 城关街道 in June.
    Without it, the present names (a live list)."""
    rows = list(Unit.objects.filter(pk__in=sorted({i for i in ids if i})).order_by()
                .values_list("pk", "name", "parent_id", "parent__name"))
    if then:
        rows = [(pk, then.get(pk, name), parent_id, then.get(parent_id, parent))
                for pk, name, parent_id, parent in rows]
    shared = Counter(name for _pk, name, _parent_id, _parent in rows)
    return {pk: f"{name}（{parent}）" if shared[name] > 1 and parent else name
            for pk, name, _parent_id, parent in rows}


class UnitName(models.Model):
    """A unit's name and the day it took effect: the history ``unit_update`` writes on a rename
    (乡镇撤并, 撤乡设街), so a period's tables name a unit as it was then (``names_then``) while
    the live lists name it as it is. ``valid_from`` empty: the name the unit had before any
    rename recorded here (seeded from the tree as it stood, or written when the unit was made).
    Rows are only added: a correction of a rename is a later row of the same day."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="names")
    name = models.CharField(_("名称"), max_length=100)
    valid_from = models.DateField(_("生效日期"), null=True, blank=True)
    recorded_at = models.DateTimeField(_("记录时间"), default=timezone.now)

    class Meta:
        verbose_name = _("单位名称沿革")
        verbose_name_plural = _("单位名称沿革")
        indexes = [models.Index(fields=["valid_from"], name="unit_name_valid_from")]
        constraints = [
            models.UniqueConstraint(fields=["unit"], condition=Q(valid_from=None),
                                    name="unit_name_origin"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.valid_from or '原名'}起）"


def names_then(before: date) -> dict[int, str]:
    """The name each unit renamed on or after ``before`` bore on the day before it (a period's
    last day), by unit id; a unit not renamed since is not in it (its present name holds). One
    read of the history: the rows of the units renamed since, few however large the tree;
    none for a period not yet ended (a rename takes effect on a day already come:
    ``unit_update``)."""
    if before > timezone.localdate():
        return {}
    renamed = UnitName.objects.filter(valid_from__gte=before).values("unit_id")
    rows = (UnitName.objects.filter(unit_id__in=renamed)
            .order_by("unit_id", F("valid_from").asc(nulls_first=True), "pk")
            .values_list("unit_id", "name", "valid_from"))
    then: dict[int, str] = {}
    for unit_id, name, since in rows:
        if since is None or since < before:
            then[unit_id] = name  # in order: the last one in force wins
    return then


# A unit that runs an office: the condition of the index ``unit_office_path`` as SQL text, the
# empty string written in (as the index's DDL writes it), where ``exclude(profile_code="")``
# would bind it as a parameter and SQLite would not match the index's condition. It names the
# table itself: for a query of the units (``Unit.objects``), not of a join that aliases them.
OFFICE = RawSQL("""NOT ("org_unit"."profile_code" = '')""", (), output_field=BooleanField())

# ``Unit.offices_under``'s statement, compiled once a path (``db.fixed.TreeRead``): a work
# queue and a door asked it on every page, and building the queryset cost more than running it.
_OFFICES_UNDER = TreeRead(Unit, lambda path: Unit.objects.filter(OFFICE, path__under=path)
                          .order_by().values_list("pk"))


# Where ``backends.MembershipBackend`` leaves a signed-in user's active memberships, read with
# the user at the start of a request, for ``User.memberships_active``.
ACTIVE_MEMBERSHIPS = "_active_memberships"


class User(AbstractUser):
    full_name = models.CharField(_("姓名"), max_length=50, blank=True)
    phone = models.CharField(_("手机号码"), max_length=20, blank=True)
    position = models.CharField(_("职务"), max_length=50, blank=True)
    failed_logins = models.PositiveIntegerField(default=0, editable=False)
    locked_until = models.DateTimeField(null=True, blank=True, editable=False)
    # The TOTP secret, encrypted under the key ring (a token of ~90 characters).
    totp_secret = models.CharField(max_length=255, blank=True, editable=False)
    # The 30-second step of the last TOTP code accepted: a code is good once, never replayed.
    totp_last_step = models.BigIntegerField(null=True, blank=True, editable=False)
    # Set by an administrator's reset (a one-time password): nothing but changing it until done.
    must_change_password = models.BooleanField(_("须修改密码"), default=False, editable=False)
    # The password in force is one an administrator typed or was shown (``user_create``; an
    # administrator's reset it approved) and its holder has not changed it holding a role. A
    # first business role voids it (``password_services.first_password_void``, 三员分立); the
    # holder's own password, a leader's collected one-time password and the operator's clear it.
    password_by_admin = models.BooleanField(_("管理员设定的密码"), default=False, editable=False)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.full_name or self.username

    def memberships_active(self, pk: int | None = None) -> list[Membership]:
        """The user's active memberships (or the one with id ``pk``) by id, each with its unit
        and the unit's parent: most units sit right under their jurisdiction, which the
        permission door then finds without reading the tree (``Unit.jurisdiction``). One read,
        ``backends.active_memberships``, whether the sign-in backend made it with the user at
        the start of the request or it is made here (a command, a token's user)."""
        known = getattr(self, ACTIVE_MEMBERSHIPS, None)
        if known is None:  # not read with the user on this request: read them now
            from .backends import active_memberships

            known = active_memberships(self.pk)
            for m in known:
                m.user = self
        return [m for m in known if pk is None or m.pk == pk]


class Membership(models.Model):
    """A user holds one role in one unit; every action is taken as one membership."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="memberships")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices)
    is_active = models.BooleanField(_("有效"), default=True)

    class Meta:
        verbose_name = _("任职")
        verbose_name_plural = _("任职")
        constraints = [
            models.UniqueConstraint(fields=["user", "unit", "role"], name="membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.unit} · {self.get_role_display()}"
