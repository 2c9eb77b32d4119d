"""The exceptions a user can cause; the CLI turns each into one line on stderr."""

from __future__ import annotations


class PolicylexError(Exception):
    """Base class: a problem the user can fix, reported without a traceback."""

    exit_code = 2


class UsageError(PolicylexError):
    """An option or argument that makes no sense for this corpus.

    ``option`` names the library's parameter the message opens with (``where``,
    ``by``): the CLI shows it as its flag (``--where``).
    """

    def __init__(self, message: str, *, option: str | None = None):
        super().__init__(message)
        self.option = option


class CorpusError(PolicylexError):
    """The corpus file is missing, from another schema version, or not a corpus."""


class InputError(PolicylexError):
    """One input file (or one row of it) cannot be read; the batch goes on without it."""

    def __init__(self, path: str, reason: str, line: int | None = None):
        self.path, self.reason, self.line = path, reason, line
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {reason}")

    def __reduce__(self):  # pickled as its fields: sent to a worker process with a file's bytes (policylex.cluster)
        return type(self), (self.path, self.reason, self.line)


class PolicylexWarning(UserWarning):
    """Something the user should know about a result that is still given; the CLI prints each once on stderr."""


class UnknownGroupWarning(PolicylexWarning):
    """Many of the documents grouped by year or region have none: their ``unknown`` group dominates."""

    def __init__(self, field: str, unknown: int, total: int):
        self.field, self.unknown, self.total = field, unknown, total
        super().__init__(f"{field} unknown for {unknown / total:.0%} of the documents grouped by it "
                         f"({unknown} of {total}): they form the unknown group")
