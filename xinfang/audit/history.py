"""Case history (``CaseEvent``) sealed the way the audit trail is: an HMAC chain, per case.

Each event's ``mac`` is the HMAC-SM3, under the key file's current MAC key, of its content, its
``seq`` and case, and the ``mac`` of the case's previous event. Chaining per case (not one global
chain) keeps transitions of different cases from queueing behind one lock: ``append_event``
already reads the case's last ``seq`` and reads the last ``mac`` in the same query.

``history_verify`` walks every case's events in ``seq`` order: sequence numbers must run 1, 2, 3…
without a gap (a deleted event leaves one), and every MAC must fit. Deleting a case's *newest*
events leaves a chain that fits: the checkpoints (total count, newest event and its MAC) catch
that. Events from before sealing (``mac_key_id`` empty) are accepted only as a prefix of their
case's chain.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from xinfang.security.crypto import KeyFileError, get_keyring

FIELDS = ("id", "case_id", "seq", "at", "type", "actor_id", "actor_role", "actor_unit_id",
          "from_state", "to_state", "payload", "profile_code", "profile_version", "mac_key_id",
          "mac")


@dataclass(frozen=True)
class HistoryResult:
    ok: bool
    checked: int
    cases: int
    first_bad_id: int | None = None
    message: str = ""
    head_id: int | None = None  # the newest event (highest id) and its MAC, for checkpoints
    head_mac: str = ""
    unsealed: int = 0


def event_mac(*, key_id: str | None, prev_mac: str, case_id: int, seq: int, at: datetime,
              type: str, actor_id: int | None, actor_role: str, actor_unit_id: int | None,
              from_state: str, to_state: str, payload: Any, profile_code: str,
              profile_version: int) -> tuple[str, str]:
    ring = get_keyring()
    key_id = key_id or ring.current_mac_key_id
    message = json.dumps(
        ["history/v1", key_id, prev_mac, case_id, seq, at.astimezone(UTC).isoformat(), type,
         actor_id, actor_role, actor_unit_id, from_state, to_state, _canonical(payload),
         profile_code, profile_version],
        ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False,
    ).encode("utf-8")
    return ring.mac(message, key_id=key_id)


def sealed(*, prev_mac: str, payload: Any, **values: Any) -> tuple[str, str]:
    """(key id, MAC) of an entry not yet inserted, given by its values (``event_mac``'s names),
    its payload taken as the database will hand it back."""
    return event_mac(key_id=None, prev_mac=prev_mac, payload=_as_stored(payload), **values)


def history_verify() -> HistoryResult:
    from xinfang.cases.models import CaseEvent

    checked = cases = unsealed = 0
    case_id = None
    expected_seq = 1
    prev_mac = ""
    sealed_seen = False
    head_id, head_mac = None, ""
    rows = CaseEvent.objects.order_by("case_id", "seq").values_list(*FIELDS)
    for row in rows.iterator(chunk_size=5000):
        values = dict(zip(FIELDS, row, strict=True))
        pk = values.pop("id")
        stored_key, stored_mac = values.pop("mac_key_id"), values.pop("mac")
        if values["case_id"] != case_id:
            case_id, expected_seq, prev_mac, sealed_seen = values["case_id"], 1, "", False
            cases += 1
        if values["seq"] != expected_seq:
            return HistoryResult(
                False, checked, cases, pk,
                f"案件 {case_id} 的办理记录缺少第 {expected_seq} 条（下一条是第 {values['seq']} "
                "条）：有记录被删除。")
        if not stored_key:
            began = get_keyring().sealing_began()
            if sealed_seen or began is None or values["at"] >= began:
                return HistoryResult(
                    False, checked, cases, pk,
                    f"办理记录 #{pk} 没有 MAC，却排在已有 MAC 的记录之后或写于启用 MAC 之后："
                    "是伪造的记录。")
            unsealed += 1
        else:
            try:
                _, computed = event_mac(key_id=stored_key, prev_mac=prev_mac, **values)
            except KeyFileError:
                return HistoryResult(
                    False, checked, cases, pk,
                    f"办理记录 #{pk} 所用的 MAC 密钥 {stored_key} 不在密钥文件中。")
            except (TypeError, ValueError):
                computed = ""
            if computed != stored_mac:
                return HistoryResult(
                    False, checked, cases, pk,
                    f"办理记录 #{pk}（案件 {case_id} 第 {values['seq']} 条）与其 MAC 不符："
                    "内容被改动，或前面的记录被删除、调换。")
            sealed_seen = True
        if head_id is None or pk > head_id:
            head_id, head_mac = pk, stored_mac
        prev_mac = stored_mac
        expected_seq += 1
        checked += 1
    note = f"（其中 {unsealed} 条为启用 MAC 之前的旧记录）" if unsealed else ""
    return HistoryResult(True, checked, cases, None,
                         f"办理记录完整：{cases} 个案件共 {checked} 条{note}。", head_id, head_mac,
                         unsealed)


def _as_stored(payload: Any) -> Any:
    """The payload as the database will hand it back (JSON round trip)."""
    return json.loads(json.dumps(payload if payload is not None else {}, ensure_ascii=False))


def _canonical(value: Any) -> Any:
    # PostgreSQL's jsonb returns 1e+20 as 100000000000000000000: integral floats seal as ints.
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value
