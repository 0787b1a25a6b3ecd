"""Domain errors, free of HTTP. ``api.errors`` maps them to status codes."""

from __future__ import annotations


class DomainError(Exception):
    """Base class: carries the offending field and a human reason."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason

    def __reduce__(self) -> tuple:
        """Rebuilt from its field and reason: one raised in a worker process (a bench's
        process pool, a Ray task) reaches the caller as itself."""
        return (self.__class__, (self.field, self.reason))


class NotFound(DomainError):
    """A referenced object does not exist (404)."""


class Conflict(DomainError):
    """The request contradicts stored data (409)."""


class Invalid(DomainError):
    """The request is well-formed but its content is wrong (422)."""


class Forbidden(DomainError):
    """The caller may not do this here: outside their site scope or role (403)."""


class Overloaded(Exception):
    """The service cannot take more work now (503 with Retry-After)."""

    def __init__(self, retry_after_s: int = 1) -> None:
        super().__init__("overloaded")
        self.retry_after_s = retry_after_s


class TooLarge(Exception):
    """The request body or batch exceeds the configured limit (413)."""
