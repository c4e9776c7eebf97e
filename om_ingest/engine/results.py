"""What happened to one entity: the record the audit, the summary and the dry-run show."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

RUN_FIELD = "pipelineStatus."
SAMPLE_FIELD = "sampleData"
SIDE_FIELDS = (RUN_FIELD, SAMPLE_FIELD)
"""Field changes written by their own endpoint after the entity (runs, a topic's sample):
facts beside the entity, not its config."""
"""Prefix of a field change that is a pipeline run written (or to write): runs are facts
added in every idempotency mode, so a skip that added them is still in step."""


class Operation(StrEnum):
    """What the engine does (or, in a dry run, would do) with an entity."""

    CREATE = "CREATE"
    UPDATE = "UPDATE"
    SKIP = "SKIP"
    FAIL = "FAIL"
    BLOCKED = "BLOCKED"
    DELETE = "DELETE"
    """Soft-delete of a stale table (gone from its source), only with `remove_stale: true`."""


class Outcome(StrEnum):
    SUCCESS = "success"
    FAILED = "failed"
    SKIPPED = "skipped"
    DRY_RUN = "dry_run"
    VALIDATION_ERROR = "validation_error"
    BLOCKED = "blocked"

    @property
    def is_failure(self) -> bool:
        return self in {Outcome.FAILED, Outcome.VALIDATION_ERROR, Outcome.BLOCKED}


class FieldChange(BaseModel):
    """One non-schema field that differs: before (in OM) and after (from config)."""

    field: str
    before: Any = None
    after: Any = None


class EntityResult(BaseModel):
    """The outcome of one entity; serialised as an audit event."""

    fqn: str
    entity_type: str
    operation: Operation
    outcome: Outcome
    reason: str = ""
    schema_changes: list[dict[str, Any]] = Field(default_factory=list)
    field_changes: list[FieldChange] = Field(default_factory=list)
    kept_curated: list[FieldChange] = Field(
        default_factory=list,
        description="Differences not applied: the value in OM is curated (override: true applies them)",
    )
    version_before: float | None = None
    version_after: float | None = None
    entity_id: str | None = None
    error: str | None = None
    duration_ms: float = 0.0
    api_calls: int = 0
    attempts: int = 1
    request: dict[str, Any] | None = Field(default=None, description="What CREATE would send")
    contract_violations: list[str] = Field(
        default_factory=list,
        description="Fields of the table's data contract its schema violates (enforcement)",
    )
    warnings: list[str] = Field(
        default_factory=list,
        description="What the run could not do for this entity without failing it (a "
        "difference OM cannot apply, an asset naming no table in OM)",
    )

    @property
    def failed(self) -> bool:
        return self.outcome.is_failure

    @property
    def in_openmetadata(self) -> bool:
        """The entity is in OM after this run (written or skipped), or would be (dry run): what
        its profile and contract validation need."""
        return self.outcome in (Outcome.SUCCESS, Outcome.SKIPPED, Outcome.DRY_RUN)

    @property
    def version_now(self) -> float | None:
        """The version OM held when this result was made: after its write, else before it."""
        return self.version_after if self.version_after is not None else self.version_before

    @property
    def in_step(self) -> bool:
        """OM now holds what the config asks for: written, or skipped with nothing differing.
        A skip that found changes it did not apply (idempotency `skip`) is not in step, so
        incremental runs look at the entity again and report the change again."""
        if self.outcome is Outcome.SUCCESS:
            return self.operation in (Operation.CREATE, Operation.UPDATE, Operation.SKIP)
        unapplied = [c for c in self.field_changes if not c.field.startswith(SIDE_FIELDS)]
        return self.outcome is Outcome.SKIPPED and not self.schema_changes and not unapplied
