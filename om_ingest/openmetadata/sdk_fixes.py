"""Runtime corrections to the OpenMetadata SDK (2.0.6), each one behaviour-preserving.

- Every SDK model's validation calls `custom_basemodel_validation.get_entity_config`, which
  re-runs `_initialize_transformable_entities` each time: eight imports and a dict update
  that always writes the same ten entries. A 30-column `CreateTableRequest` validates ~40
  models, so this alone cost ~1 ms per table. Once the map is filled, the call is skipped.
"""

from __future__ import annotations

_applied = False


def apply() -> None:
    """Apply the corrections (idempotent)."""
    global _applied
    if _applied:
        return
    from metadata.ingestion.models import custom_basemodel_validation as validation

    validation._initialize_transformable_entities()  # type: ignore[no-untyped-call]
    if validation.TRANSFORMABLE_ENTITIES:  # filled: later calls would only refill it
        validation._initialize_transformable_entities = _already_initialized
    _applied = True


def _already_initialized() -> None:
    """`_initialize_transformable_entities` once the transform map is filled."""
