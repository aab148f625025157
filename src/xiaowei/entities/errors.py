"""The one error raised for a bad identifier or code, safe to log and to show.

Why a dedicated type: an invalid ID number typed at a branch counter ends up in logs, API
responses and error pages. The exception is built from an already-masked value, so the raw value
is never in its message, its ``args`` or its attributes — nothing downstream can leak it by
printing, pickling or re-raising the error.
"""

from __future__ import annotations

from collections.abc import Callable

from xiaowei.entities.masking import mask_value


class InvalidIdentifier(ValueError):
    """A value failed validation as an identifier or code of a named field.

    ``what`` says what the value was meant to be ("resident ID number"), ``reason`` why it is
    not one ("checksum does not match"). It subclasses ``ValueError`` so that pydantic turns it
    into a field error of the model being validated.
    """

    field: str
    masked_value: str
    reason: str
    what: str

    def __init__(self, field: str, masked_value: str, reason: str, what: str = "value") -> None:
        self.field = field
        self.masked_value = masked_value
        self.reason = reason
        self.what = what
        super().__init__(self._message())

    def _message(self) -> str:
        return f"field '{self.field}': invalid {self.what} {self.masked_value} ({self.reason})"

    @classmethod
    def from_raw(
        cls,
        field: str,
        raw: object,
        reason: str,
        what: str = "value",
        mask: Callable[[str], str] = mask_value,
    ) -> InvalidIdentifier:
        """Build the error from the raw value, masking it first with ``mask``."""
        return cls(field, mask(str(raw)), reason, what)

    def __reduce__(self) -> tuple[type[InvalidIdentifier], tuple[str, str, str, str]]:
        # Default exception pickling replays ``args`` (the message) into ``__init__``, which
        # takes four arguments; workers that ship errors between processes need this.
        return (type(self), (self.field, self.masked_value, self.reason, self.what))
