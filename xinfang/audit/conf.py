"""Settings of the audit trail, read through here so that each has one default.

``AUDIT_RETENTION_DAYS`` may lengthen the retention of audit entries but never shorten it below
the 180 days 等保 2.0 requires (网络安全法 第二十一条: logs kept no less than six months).
"""

from __future__ import annotations

from django.conf import settings

MIN_RETENTION_DAYS = 180
AUDIT_RETENTION_DAYS = MIN_RETENTION_DAYS


def retention_days() -> int:
    configured = int(getattr(settings, "AUDIT_RETENTION_DAYS", AUDIT_RETENTION_DAYS))
    return max(configured, MIN_RETENTION_DAYS)
