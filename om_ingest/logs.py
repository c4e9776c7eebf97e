"""Logging set-up with secret redaction.

Secrets are `SecretStr` everywhere, so they should never reach a log record; redaction is
the second line of defence for values that slipped out of that discipline (e.g. a library
logging a request header). Known secrets are registered when a config is loaded and when
credentials are resolved; `install_redaction` masks them in every record the process
creates, whichever handler formats it (the CLI's console, Prefect's API log handler in a
worker), so the flow installs it itself wherever it runs.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import traceback
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, SecretStr

_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")
_secrets: set[str] = set()
_install_lock = threading.Lock()
_installed = False


def register_secrets(values: Iterable[str | None]) -> None:
    """Remember secret values so any log line containing one is masked."""
    _secrets.update(v for v in values if v and len(v) >= 4)


def register_secrets_in(value: Any) -> None:
    """Register every `SecretStr` held anywhere in `value` (a config, a dict, a list)."""
    if isinstance(value, SecretStr):
        register_secrets([value.get_secret_value()])
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            register_secrets_in(getattr(value, name, None))  # constructed models may lack some
    elif isinstance(value, dict):
        for item in value.values():
            register_secrets_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            register_secrets_in(item)


def redact(text: str) -> str:
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, "**********")
    return _BEARER.sub(r"\1**********", text)


class RedactingFormatter(logging.Formatter):
    """Masks secrets in the whole formatted record, tracebacks included."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def install_redaction() -> None:
    """Mask registered secrets (and bearer tokens) in every log record created from now on
    in this process: the message and the traceback, before any handler sees them."""
    global _installed
    with _install_lock:
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            _redact_record(record)
            return record

        logging.setLogRecordFactory(factory)
        _installed = True


def _redact_record(record: logging.LogRecord) -> None:
    """Rewrite the record only when it holds a secret (formatters that read `args`, like
    uvicorn's access log, keep working otherwise)."""
    try:
        message = record.getMessage()
    except Exception:  # a malformed record is the logging module's to report
        return
    masked = redact(message)
    if masked != message:
        record.msg, record.args = masked, None
    if record.exc_info and record.exc_info[1] is not None:
        text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if redact(text) != text:
            record.exc_text = redact(text)


def configure_logging(level: str = "WARNING") -> None:
    """Log to stderr at `level` through the redacting formatter."""
    install_redaction()
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
