"""Bytes an Iceberg source reads through pyiceberg's FileIO, and its REST catalog's answers.

pyiceberg reads every file — metadata JSON, manifest lists, manifests, data files of a sample
scan — through `FileIO.new_input(...).open()`, and builds the FileIO a catalog's tables use
from the catalog's properties (`py-io-impl`). A measured run's catalog names
`CountingFileIO` there (pyiceberg's PyArrow FileIO, whose opened files count what is read
through them) and a key of the run's meter; a catalog that names its own FileIO keeps it,
unmeasured.
"""

from __future__ import annotations

import uuid
import weakref
from typing import Any

import pyarrow as pa
from pyiceberg.io import PY_IO_IMPL
from pyiceberg.io.pyarrow import PyArrowFile, PyArrowFileIO

from om_ingest.sources.reads import CountingFile, SourceReads

METER = "om-ingest.read-meter"
SOURCE = "om-ingest.read-source"
_meters: weakref.WeakValueDictionary[str, SourceReads] = weakref.WeakValueDictionary()


def measured_properties(
    properties: dict[str, str], reads: SourceReads | None, source: str
) -> dict[str, str]:
    """`properties` (what `load_catalog` takes) with `CountingFileIO` counting into `reads`
    under `source`; unchanged without a meter or when they name their own FileIO."""
    if reads is None or PY_IO_IMPL in properties:
        return properties
    key = uuid.uuid4().hex
    _meters[key] = reads
    counting = f"{CountingFileIO.__module__}.{CountingFileIO.__qualname__}"
    return {**properties, PY_IO_IMPL: counting, METER: key, SOURCE: source}


class CountingFileIO(PyArrowFileIO):
    """pyiceberg's PyArrow FileIO whose input files count the bytes read from them."""

    def new_input(self, location: str) -> PyArrowFile:
        file = super().new_input(location)
        reads = _meters.get(self.properties.get(METER, ""))
        if reads is None:
            return file
        source = self.properties[SOURCE]
        return _CountingInput(file, lambda count: reads.add(source, count))


class _CountingInput(PyArrowFile):
    def __init__(self, file: PyArrowFile, count: Any) -> None:
        self.__dict__.update(file.__dict__)
        self._count = count

    def open(self, seekable: bool = True) -> Any:
        return pa.PythonFile(CountingFile(super().open(seekable), self._count), mode="r")
