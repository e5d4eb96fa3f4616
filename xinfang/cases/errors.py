class Refused(Exception):
    """A transition or input the rules do not allow. The message is shown to the user as is,
    so it says why, in Chinese; ``field`` names the input at fault where there is one."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class StaleCase(Refused):
    """Someone else changed the case after this user loaded it."""
