"""Who is calling: OM applies different PUT rules to a bot (ingestion) and to a user.

`--jwt-token` is the ingestion bot's token (`ingestion-bot`, as OM's ingestion runs);
each `--user-token` belongs to the non-bot admin user `admin`. OM reads the name and bot
flag from the JWT's claims; the sandbox maps whole tokens instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Caller:
    name: str
    is_bot: bool


BOT = Caller("ingestion-bot", is_bot=True)
ADMIN = Caller("admin", is_bot=False)


class Principals:
    def __init__(self, bot_token: str, user_tokens: Iterable[str] = ()) -> None:
        self._by_header = {f"Bearer {token}": ADMIN for token in user_tokens}
        self._by_header[f"Bearer {bot_token}"] = BOT

    def resolve(self, authorization: str | None) -> Caller | None:
        """The caller for an `Authorization` header, or None (→ 401)."""
        return self._by_header.get(authorization or "")
