"""Rule profiles: one office's regime as data, loaded from YAML and validated with line numbers.

``load_profile(path)`` reads a profile file (following ``extends:`` to its parent), checks it
against a JSON Schema and then against the system's vocabularies (events, roles, facts, unit
kinds, time units), and returns a frozen :class:`Profile`. Every problem found is reported at
once in a :class:`ProfileError`, each with its file, line and dotted key (``clocks[2].unit``).

The package is in three parts: :mod:`.schema` (vocabularies, dataclasses, errors, JSON Schema),
:mod:`.loader` (YAML with lines, ``extends``, building the dataclasses) and :mod:`.checks` (the
semantic checks). Import from here; the names below are the public surface.

The format is documented for administrators in ``profiles/README.md``.
"""

from .loader import (
    SHIPPED_CODES,
    SHIPPED_DIR,
    load_profile,
    load_profile_text,
    shipped_profiles,
)
from .schema import (
    AGAINST_OFFICE_ROUTES,
    CLOSING_ITEMS,
    COUNTS,
    DEFAULT_INSTRUCTION_READERS,
    DOCUMENTS,
    EVENT_FAMILIES,
    EVENTS,
    PATTERN_FIELDS,
    PERIODS,
    ROLES,
    SCHEMA,
    SIGN_STEPS,
    TIME_UNITS,
    UNIT_FACTS,
    AgainstOfficeRule,
    AnalysisRule,
    ClockRule,
    ClosingRule,
    CollectiveRule,
    ConditionalSignature,
    Constraint,
    Disclosure,
    Duration,
    ExtensionRule,
    LineBureau,  # noqa: E402
    Path,
    PeriodicReport,
    Principle,
    Profile,
    ProfileError,
    ProfileIssue,
    ReceptionRule,
    RegisterRule,
    ReplyModeRule,
    ReportBackRule,
    ReviewStage,
    ReviewWindows,
    RoutingRule,
    ScopeRule,
    Signatures,
    Target,
    WarningRule,
    Weekly,
)

__all__ = [
    "CLOSING_ITEMS", "COUNTS", "DOCUMENTS", "EVENT_FAMILIES", "EVENTS", "ROLES", "TIME_UNITS",
    "AGAINST_OFFICE_ROUTES", "DEFAULT_INSTRUCTION_READERS", "PATTERN_FIELDS", "PERIODS", "SCHEMA",
    "SHIPPED_CODES", "SHIPPED_DIR", "SIGN_STEPS", "UNIT_FACTS",
    "AgainstOfficeRule", "AnalysisRule", "ClockRule", "ClosingRule", "CollectiveRule",
    "ConditionalSignature", "Constraint", "Disclosure", "Duration", "ExtensionRule", "Path",
    "PeriodicReport", "Principle", "Profile", "ProfileError", "ProfileIssue", "ReceptionRule",
    "RegisterRule", "ReplyModeRule", "ReportBackRule", "ReviewStage", "ReviewWindows",
    "RoutingRule", "ScopeRule", "Signatures", "Target", "WarningRule", "Weekly", "load_profile",
    "load_profile_text", "shipped_profiles", "LineBureau",
    "Oversight", "ProxyRule", "ReviewPoint", "ReviewRule", "VerificationRule", "VERIFY_METHODS",
]  # fmt: skip
from .schema import (  # noqa: E402  (issue 17, kept apart to merge by union)
    VERIFY_METHODS,
    Oversight,
    ProxyRule,
    ReviewPoint,
    ReviewRule,
    VerificationRule,
)
