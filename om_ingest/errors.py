"""One error hierarchy for om-ingest; every message is written for the person running it.

Exit codes follow from the class: configuration and usage problems exit 2, run failures 1.
"""

from __future__ import annotations


class OmIngestError(Exception):
    """Base of every error om-ingest raises on purpose."""

    exit_code = 1


class ConfigError(OmIngestError):
    """A config problem, located as `file:line path: message` (one line, no traceback)."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        path: str | None = None,
    ) -> None:
        # One line whatever the message quotes (a name with a newline, say): escaped.
        self.message = message.replace("\r", "\\r").replace("\n", "\\n")
        self.file = file
        self.line = line
        self.path = path
        super().__init__(self.render())

    def render(self) -> str:
        where = self.file or "<config>"
        if self.line is not None:
            where = f"{where}:{self.line}"
        if self.path:
            where = f"{where} {self.path}"
        return f"{where}: {self.message}"


class PlanError(ConfigError):
    """The entities cannot be ordered: a cycle, or a parent nobody declares."""


class SourceError(OmIngestError):
    """A data source could not be reached or read; names the source and the object."""


class OpenMetadataError(OmIngestError):
    """OpenMetadata refused or could not be reached; carries OM's own message."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        self.status = status
        super().__init__(message)


class TransientOpenMetadataError(OpenMetadataError):
    """Connection errors, timeouts, 429 and 5xx: safe to retry (after `retry_after` seconds
    when the server said so)."""

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        self.retry_after = retry_after
        super().__init__(message, status=status)
