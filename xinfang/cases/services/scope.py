"""What an office accepts (受理范围): the profile's ``scope`` and the national rule against
accepting a re-reviewed matter again.

Every petition is registered (有访必登); one outside the scope cannot go on to a proposal: the clerk
is told why, and the decline records the reasons and the profile's guidance.

- ``scope.matter_types`` / ``scope.accepted_since`` — seed 002 §四(一): kaijiang takes 求决类
  matters raised since 2018-08-01 only.
- national §19 — a matter accepted below and still within its handling limit is not accepted
  again by the office above.
- national §36 — a matter decided on re-review (复核) is not accepted again on the same facts:
  any visit of the matter (``Case.matter_id``) re-reviewed with its decision issued.
"""

from __future__ import annotations

from django.db import connection

from xinfang.org.models import Unit
from xinfang.rules.consumers import consumes
from xinfang.rules.deadlines import SHANGHAI
from xinfang.rules.profile import Profile

from .. import choices as c
from ..models import Case, CasePetitioner, Clock, Demand, Document


@consumes("scope.matter_types", "scope.accepted_since", "scope.items", "scope.note",
          by="xinfang.cases.services.scope.scope_reasons")
def scope_reasons(case: Case, profile: Profile, *, people: list[int] | None = None,
                  categories: list[str] | None = None) -> list[str]:
    """Why the office may not accept this case (empty when it may). ``people`` / ``categories``:
    what registration knows already (the petitioning people on file before it, the demands'
    categories) — read from the case otherwise."""
    scope = profile.scope
    reasons = []
    if case.kind == c.Kind.PETITION:
        if scope.matter_types and case.matter_type not in scope.matter_types:
            allowed = "、".join(str(c.MatterType(t).label) for t in scope.matter_types)
            reasons.append(f"本机关只受理{allowed}信访事项（{scope.seed}），本件为"
                           f"{c.MatterType(case.matter_type).label}")
        received = case.received_at.astimezone(SHANGHAI).date()
        if scope.accepted_since and received < scope.accepted_since:
            reasons.append(f"本机关受理{scope.accepted_since:%Y年%m月%d日}起反映的信访事项"
                           f"（{scope.seed}），本件反映于{received:%Y年%m月%d日}")
        below, decided = _earlier(case, people=people, categories=categories)
        if below is not None:
            lower = Case.objects.select_related("jurisdiction").get(pk=below)
            reasons.append(f"同一信访人的同一事项已由{lower.jurisdiction}受理（{lower.number}），"
                           "正在办理期限内，本机关不再受理（《信访工作条例》第十九条）")
        if decided is not None:
            earlier = Case.objects.only("number").get(pk=decided)
            reasons.append(f"同一事项（{earlier.number}）已经复核，以同一事实和理由提出的不再受理"
                           "（《信访工作条例》第三十六条）")
    return reasons


def _earlier(case: Case, *, people: list[int] | None = None,
             categories: list[str] | None = None) -> tuple[int | None, int | None]:
    """What the two national checks need, in one statement (issue 9: a transition asks at most
    8): the id of a case handling the same matter below (§19) and of an earlier visit of this
    case's matter decided on re-review (§36), each None when there is none. Nothing is asked
    when neither can exist: everyone new at registration (``people`` given and empty), no
    earlier visit."""
    below, params = ("NULL", []) if people is not None and not people else _handled_below(
        case, people=people, categories=categories)
    decided = "NULL"
    root = case.matter_root_id or case.repeat_of_id
    if root is not None:
        decided = f"({_REREVIEWED_SQL})"
        params += [c.Kind.REREVIEW, c.DocumentKind.DECISION_LETTER, c.DocumentStatus.ISSUED,
                   root, root]
    if below == decided == "NULL":
        return None, None
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {below}, {decided}", params)
        return cursor.fetchone()


def _handled_below(case: Case, *, people: list[int] | None,
                   categories: list[str] | None) -> tuple[str, list]:
    """National §19 as a scalar subquery and its parameters: the same people's matter, with a
    demand of the same category, accepted by an office below this one and still within its
    handling limit.

    Driven by the people's links (a handful of rows): the other cases of the case's petitioning
    people, each tested for a demand of the same category and a running handling clock. Written
    out in SQL: a five-table join of the ORM cost the planner ~100 ms a call at 200,000 cases for
    the same plan, and building the ORM form ~13 ms of Python."""
    sql, params = _HANDLED_BELOW_SQL, []
    roles = list(c.PETITIONING_ROLES)
    if people is None:
        sql = sql.replace("{people}", f"SELECT m.petitioner_id FROM {_t(CasePetitioner)} m "
                          "WHERE m.case_id = %s AND m.role IN (%s, %s)")
        params += [case.pk, *roles]
    else:
        sql = sql.replace("{people}", ", ".join(["%s"] * len(people)))
        params += list(people)
    params += roles
    if categories is None:
        sql = sql.replace("{categories}", f"SELECT n.category FROM {_t(Demand)} n "
                          "WHERE n.case_id = %s")
        params.append(case.pk)
    else:
        sql = sql.replace("{categories}", ", ".join(["%s"] * len(categories)) or "NULL")
        params += list(categories)
    path = case.jurisdiction.path
    params += [connection.ops.adapt_datetimefield_value(case.received_at), *c.OPEN_STATES,
               case.jurisdiction_id, path.replace("\\", "\\\\").replace("%", "\\%")
               .replace("_", "\\_") + "%"]
    return f"({sql.replace('{open}', ', '.join(['%s'] * len(c.OPEN_STATES)))})", params


def _t(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


_HANDLED_BELOW_SQL = f"""SELECT c.id
FROM {_t(Case)} c INNER JOIN {_t(Unit)} u ON u.id = c.jurisdiction_id
WHERE c.id IN (SELECT o.case_id FROM {_t(CasePetitioner)} o
               WHERE o.petitioner_id IN ({{people}}) AND o.role IN (%s, %s))
  AND EXISTS (SELECT 1 FROM {_t(Demand)} d
              WHERE d.case_id = c.id AND d.category IN ({{categories}}))
  AND EXISTS (SELECT 1 FROM {_t(Clock)} k
              WHERE k.case_id = c.id AND k.name = 'handling' AND k.status = 'running'
                AND k.due_at > %s)
  AND c.state IN ({{open}}) AND c.accepted_at IS NOT NULL AND c.jurisdiction_id <> %s
  AND u.path {connection.operators["startswith"]}
ORDER BY c.id LIMIT 1"""

# §36: the visit of the matter (its first visit ``root`` or a repeat of it) whose review
# (复查) was re-reviewed (复核) with the decision issued. A review is registered with
# ``review_of`` its visit, a re-review with ``review_of`` the review.
#
# The matter's visits are the root and its repeats read off the (matter_root, id) index alone,
# a UNION ALL rather than ``m.id = root OR m.matter_root_id = root``: PostgreSQL answered the OR
# by visiting each visit's row (a matter of 180 visits, 181 pages read, 2.6 ms cold at 1M).
_REREVIEWED_SQL = f"""SELECT rv.review_of_id
FROM {_t(Case)} rr INNER JOIN {_t(Case)} rv ON rv.id = rr.review_of_id
WHERE rr.kind = %s
  AND EXISTS (SELECT 1 FROM {_t(Document)} d
              WHERE d.case_id = rr.id AND d.kind = %s AND d.status = %s)
  AND rv.review_of_id IN (SELECT CAST(%s AS BIGINT) UNION ALL
                          SELECT m.id FROM {_t(Case)} m WHERE m.matter_root_id = %s)
ORDER BY rr.id LIMIT 1"""


def scope_guidance(profile: Profile) -> str:
    """What the clerk tells the petitioner (the profile's note, or the national default)."""
    return profile.scope.note or "引导信访人向有权处理的机关提出"
