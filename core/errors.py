"""Application errors: raised by services when a request is understood but cannot be done."""


class ApplicationError(Exception):
    """A rule of the business refused the action; ``message`` is shown to the person as it is."""

    def __init__(self, message: str, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.extra = extra or {}
