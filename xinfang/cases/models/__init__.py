from .case import Case, CaseNumberSequence, CasePetitioner, Demand, Petitioner, Respondent
from .handling import (
    Assignment,
    Attachment,
    Contact,
    Delivery,
    Document,
    Extension,
    Report,
    Signature,
)
from .history import CaseEvent
from .supervision import Alert, Clock, SweepMark, WarningNotice

__all__ = [
    "Alert",
    "Assignment",
    "Attachment",
    "Case",
    "CaseEvent",
    "CaseNumberSequence",
    "CasePetitioner",
    "Clock",
    "Contact",
    "Delivery",
    "Demand",
    "Document",
    "Extension",
    "Petitioner",
    "Report",
    "Respondent",
    "Signature",
    "SweepMark",
    "WarningNotice",
]
