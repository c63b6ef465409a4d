"""The exception tree of m365move.

    M365MoveError                     root: catch this to catch everything of ours
    ├── InputError(ValueError)        a file or parameter the user gave is wrong (exit status 2)
    ├── PlatformError(RuntimeError)   a platform (Commerce, Connect, Partner Center, Graph) failed
    │   └── AuthenticationError       credentials were refused
    └── JournalError(RuntimeError)    the journal or a results file cannot be used as asked

Every error says what was wrong, where (file, row, field, id) and, where it can, what to do.
"""

from __future__ import annotations


class M365MoveError(Exception):
    """Root of every error m365move raises on purpose."""


class InputError(M365MoveError, ValueError):
    """Bad user input; ``where`` names the file and the place inside it."""

    def __init__(self, message: str, *, where: str | None = None, hint: str | None = None) -> None:
        self.message = message
        self.where = where
        self.hint = hint
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """The error as one line: ``where: message (hint)``."""
        text = f"{self.where}: {self.message}" if self.where else self.message
        return f"{text} ({self.hint})" if self.hint else text


class PlatformError(M365MoveError, RuntimeError):
    """A remote platform answered with an error or could not be reached."""


class AuthenticationError(PlatformError):
    """The platform refused the credentials."""


class JournalError(M365MoveError, RuntimeError):
    """The journal or a results file cannot serve the request."""
