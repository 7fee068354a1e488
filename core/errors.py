"""Application errors: raised by services when a request is understood but cannot be done."""


class RateLimited(Exception):
    """Too many of one kind of request from a person: answered 429 with ``wait`` seconds to come back."""

    def __init__(self, message: str, wait: int):
        super().__init__(message)
        self.message, self.wait = message, wait


class ApplicationError(Exception):
    """A rule of the business refused the action; ``message`` is shown to the person as it is."""

    def __init__(self, message: str, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.extra = extra or {}
