"""OpenMetadata's enum values, read from the installed SDK so the config never drifts from it."""

from __future__ import annotations

from metadata.generated.schema.entity.data.table import DataType, FileFormat, TableType
from metadata.generated.schema.entity.services.databaseService import DatabaseServiceType

DATA_TYPES: frozenset[str] = frozenset(t.value for t in DataType)
TABLE_TYPES: frozenset[str] = frozenset(t.value for t in TableType)
FILE_FORMATS: frozenset[str] = frozenset(f.value for f in FileFormat)
DATABASE_SERVICE_TYPES: frozenset[str] = frozenset(t.value for t in DatabaseServiceType)
