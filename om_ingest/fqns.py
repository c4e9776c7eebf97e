"""Fully qualified names, built with the OpenMetadata SDK's own quoting rules.

OM joins name parts with `.` and wraps a part that contains a dot in double quotes; the SDK's
`metadata.utils.fqn` implements that (and parses it back), so we never hand-roll it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from metadata.utils import fqn as om_fqn


def normalize(fqn: str) -> str:
    """Canonical spelling of an FQN a user typed (quotes only where a part needs them)."""
    return om_fqn.FQN_SEPARATOR.join(om_fqn.quote_name(part) for part in split(fqn))


def split(fqn: str) -> list[str]:
    """The FQN's parts, quoted parts kept quoted (so they can be joined back). The SDK's
    `fqn.split`, parsed by its own grammar, without the ANTLR listeners that print syntax
    errors to stderr: a bad name here is a config error of one line, not console noise."""
    return list(_parts(fqn))


@lru_cache(maxsize=4096)
def _parts(fqn: str) -> tuple[str, ...]:
    """`split`, remembered: a run splits the same parent FQNs for every table (ANTLR costs
    ~0.3 ms a parse)."""
    from antlr4 import CommonTokenStream, InputStream, ParseTreeWalker
    from antlr4.error.ErrorStrategy import BailErrorStrategy
    from metadata.antlr.split_listener import FqnSplitListener
    from metadata.generated.antlr.FqnLexer import FqnLexer
    from metadata.generated.antlr.FqnParser import FqnParser

    try:
        lexer = FqnLexer(InputStream(fqn))
        lexer.removeErrorListeners()
        parser = FqnParser(CommonTokenStream(lexer))
        parser.removeErrorListeners()
        parser._errHandler = BailErrorStrategy()
        splitter: Any = FqnSplitListener()  # type: ignore[no-untyped-call]
        ParseTreeWalker().walk(splitter, parser.fqn())  # type: ignore[no-untyped-call]
        return tuple(splitter.split())
    except Exception as exc:  # the ANTLR parser raises its own error types
        raise ValueError(f"{fqn!r} is not a valid fully qualified name") from exc


def child(parent_fqn: str | None, name: str) -> str:
    """The FQN of an entity named `name` under `parent_fqn` (a service has no parent)."""
    quoted = om_fqn.quote_name(name)
    return (
        quoted if parent_fqn is None else f"{normalize(parent_fqn)}{om_fqn.FQN_SEPARATOR}{quoted}"
    )


def parent(fqn: str) -> str | None:
    """The FQN one level up (`svc.db.schema.table` → `svc.db.schema`); None for a root."""
    parts = split(fqn)
    return normalize(".".join(parts[:-1])) if len(parts) > 1 else None


def unquoted_parts(fqn: str) -> list[str]:
    """The names the FQN is made of, without OM's quoting."""
    return [om_fqn.unquote_name(part) for part in split(fqn)]


def tag(value: str) -> str:
    """`value` when it is a tag's FQN (`Classification.Tag`, or deeper for nested tags and
    glossary terms); a config error names it otherwise."""
    try:
        parts = split(value)
    except ValueError:
        parts = []
    if len(parts) < 2 or not all(parts):
        raise ValueError(f"{value!r} is not a tag FQN (Classification.Tag)")
    return value
