"""One hierarchy of errors, each a value a user can act on.

Every error names what is wrong (a field, a value) and what was expected. The faces map these
classes to HTTP statuses and CLI exit codes in one table each; nothing else decides a status.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem with one field of an input: ``field`` is a dotted path (``properties.url``)."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class MaumeterError(Exception):
    """Base of every error maumeter raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(MaumeterError):
    """Input that does not have the expected shape; carries every problem found, not just one."""

    def __init__(self, problems: list[Problem] | Problem) -> None:
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))

    @classmethod
    def field(cls, field: str, message: str) -> InvalidInput:
        return cls(Problem(field, message))


class NotFound(MaumeterError):
    """A named thing (org, project, person) does not exist."""


class AlreadyExists(MaumeterError):
    """Creating something whose name is taken."""


class Unauthorized(MaumeterError):
    """A missing or unknown key."""


class StoreUnavailable(MaumeterError):
    """The store cannot be opened (held by another process, unreadable, wrong format)."""


class Forbidden(MaumeterError):
    """A valid key that may not do this (a write key reading usage, an org's key elsewhere)."""


class Conflicting(MaumeterError):
    """A request that contradicts the current state (a third active key during a rotation)."""


class PayloadTooLarge(MaumeterError):
    """A request past the size limits (body, event, batch)."""


class UnsupportedMediaType(MaumeterError):
    """A body in an encoding the server does not read."""


class TooManyRequests(MaumeterError):
    """A key over its rate limit; ``retry_after`` says when to try again (seconds)."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after
