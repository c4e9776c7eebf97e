"""What a fresh OpenMetadata 2.0 has before anyone writes: its built-in users, bot, team and
system classifications (OM seeds them from its bootstrap data). Created once per store, by
`admin`, at version 0.1."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from om_ingest.sandbox.auth import ADMIN
from om_ingest.sandbox.kinds import BY_TYPE

if TYPE_CHECKING:
    from om_ingest.sandbox.app import EntityApi

CLASSIFICATIONS: tuple[tuple[str, str, bool, tuple[tuple[str, str], ...]], ...] = (
    (
        "Tier",
        "Tags related to tiering of the data.",
        True,
        tuple((f"Tier{n}", f"Tier {n} data.") for n in range(1, 6)),
    ),
    (
        "PII",
        "Personally Identifiable Information.",
        True,
        (
            ("Sensitive", "PII which is sensitive."),
            ("NonSensitive", "PII which is not sensitive."),
            ("None", "Non PII."),
        ),
    ),
    (
        "PersonalData",
        "Tags related classifying Personal data as defined by GDPR.",
        False,
        (
            ("Personal", "Data that can be used to identify a person."),
            ("SpecialCategory", "GDPR special category data."),
        ),
    ),
    (
        "Certification",
        "Certifying Data Asset will provide the users with a clear idea of its quality.",
        True,
        (
            ("Bronze", "Bronze certified."),
            ("Silver", "Silver certified."),
            ("Gold", "Gold certified."),
        ),
    ),
)


def seed_builtins(api: EntityApi) -> None:
    if api.store.get_by_fqn("user", "admin") is not None:
        return
    rows: list[tuple[str, dict[str, Any]]] = [
        ("user", {"name": "admin", "email": "admin@open-metadata.org", "isAdmin": True}),
        (
            "user",
            {
                "name": "ingestion-bot",
                "email": "ingestion-bot@open-metadata.org",
                "isBot": True,
                "botName": "ingestion-bot",
            },
        ),
        ("bot", {"name": "ingestion-bot", "botUser": "ingestion-bot", "provider": "system"}),
        ("team", {"name": "Organization", "teamType": "Organization"}),
    ]
    for name, description, exclusive, tags in CLASSIFICATIONS:
        rows.append(
            (
                "classification",
                {
                    "name": name,
                    "description": description,
                    "mutuallyExclusive": exclusive,
                    "provider": "system",
                },
            )
        )
        rows += [
            (
                "tag",
                {
                    "name": tag,
                    "description": text,
                    "classification": name,
                    "provider": "system",
                },
            )
            for tag, text in tags
        ]
    for type_name, body in rows:
        api.write(BY_TYPE[type_name], body, ADMIN)
