"""Errors of the resource registry.

They carry what an HTTP layer needs to answer 4xx with a message naming the field
(DESIGN §7 `error` shape: code, message, field) without this package knowing about HTTP.
"""

from __future__ import annotations


class ResourceError(Exception):
    """Base of the registry's errors."""

    code = "error"


class ValidationError(ResourceError, ValueError):
    """Bad input; `field` names where (e.g. ``home.lat``, ``capabilities[2]``, ``row 7: speed_kmh``)."""

    def __init__(self, field: str | None, message: str, code: str = "invalid") -> None:
        self.field = field
        self.message = message
        self.code = code
        super().__init__(f"{field}: {message}" if field else message)

    def prefixed(self, prefix: str) -> ValidationError:
        """The same error with its field placed under `prefix` (e.g. a row of an import)."""
        field = f"{prefix}: {self.field}" if self.field else prefix
        return ValidationError(field, self.message, self.code)


class NotFound(ResourceError, LookupError):
    """No resource with that id (in the scope asked for)."""

    code = "not_found"

    def __init__(self, message: str, field: str | None = None) -> None:
        self.message = message
        self.field = field
        super().__init__(message)


class Conflict(ResourceError):
    """The change collides with the stored state (duplicate id, stale version, illegal transition)."""

    def __init__(self, message: str, field: str | None = None, code: str = "conflict") -> None:
        self.message = message
        self.field = field
        self.code = code
        super().__init__(message)
