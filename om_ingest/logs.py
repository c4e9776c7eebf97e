"""Logging set-up with secret redaction.

Secrets are `SecretStr` everywhere, so they should never reach a log record; the redacting
filter is the second line of defence for values that slipped out of that discipline
(e.g. a library logging a request header). Known secrets are registered at load time.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable

_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")
_secrets: set[str] = set()


def register_secrets(values: Iterable[str | None]) -> None:
    """Remember secret values so any log line containing one is masked."""
    _secrets.update(v for v in values if v and len(v) >= 4)


def redact(text: str) -> str:
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, "**********")
    return _BEARER.sub(r"\1**********", text)


class RedactingFormatter(logging.Formatter):
    """Masks secrets in the whole formatted record, tracebacks included."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def configure_logging(level: str = "WARNING") -> None:
    """Log to stderr at `level` through the redacting formatter."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    # Libraries' transport chatter (retries, pool warnings) only from INFO on; om-ingest
    # reports what matters itself.
    quiet = {"DEBUG": logging.DEBUG, "INFO": logging.WARNING}.get(level, logging.ERROR)
    for noisy in ("urllib3", "botocore", "s3transfer", "httpx", "metadata"):
        logging.getLogger(noisy).setLevel(quiet)
