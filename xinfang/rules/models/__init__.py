from .stored import CalendarYear, ProfileVersion

__all__ = ["CalendarYear", "ProfileVersion"]
