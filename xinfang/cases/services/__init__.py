"""The front door for every write to a case. UI views, API views and CLI commands call these;
nothing else changes a case."""

from .base import Invalid
from .registration import (
    DemandInput,
    PetitionerInput,
    Registration,
    RespondentInput,
    case_register,
)
from .routing import check_assignable, propose_units
from .supervision import sweep
from .transitions import actor_refusal, available, perform, refusal

__all__ = [
    "DemandInput", "Invalid", "PetitionerInput", "Registration", "RespondentInput",
    "actor_refusal", "available", "case_register", "check_assignable", "perform",
    "propose_units", "refusal", "sweep",
]
