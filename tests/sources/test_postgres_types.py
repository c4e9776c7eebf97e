"""PostgreSQL's own typmods decode to OM's precision, scale and lengths, for any declared size."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from om_ingest.sources.postgres.catalog import TypeCatalog
from tests.sources.conftest import PgDatabase

_tables = itertools.count()


@st.composite
def declared(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    """A declared type and the OM facts it must give."""
    kind = draw(st.sampled_from(["numeric", "varchar", "char", "numeric[]"]))
    if kind.startswith("numeric"):
        precision = draw(st.integers(1, 1000))
        scale = draw(st.integers(0, precision))
        facts: dict[str, object] = {"precision": precision, "scale": scale}
        if kind == "numeric[]":
            return f"numeric({precision},{scale})[]", {"data_type": "ARRAY",
                                                       "array_data_type": "DECIMAL"}  # fmt: skip
        return f"numeric({precision},{scale})", {"data_type": "DECIMAL", **facts}
    length = draw(st.integers(1, 10_485_760))
    return f"{kind}({length})", {"data_type": kind.upper(), "data_length": length}


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(declared(), min_size=1, max_size=6))
def test_declared_sizes_come_back_exactly(pg_db: PgDatabase, types: list[tuple[str, dict]]) -> None:
    table = f"t{next(_tables)}"
    columns = ", ".join(f"c{i} {sql}" for i, (sql, _) in enumerate(types))
    pg_db.execute(f"CREATE TABLE {table} ({columns})")
    rows = pg_db.query(
        "SELECT attname, atttypid, atttypmod, format_type(atttypid, atttypmod) FROM pg_attribute "
        f"WHERE attrelid = '{table}'::regclass AND attnum > 0 ORDER BY attnum"
    )
    catalog = TypeCatalog()
    import sqlalchemy as sa

    engine = sa.create_engine(
        f"postgresql+psycopg2://{pg_db.server.user}:{pg_db.server.password}@"
        f"{pg_db.server.host}:{pg_db.server.port}/{pg_db.name}"
    )
    try:
        with engine.connect() as conn:
            catalog.load(conn, {int(r[1]) for r in rows})
    finally:
        engine.dispose()
    for (name, typid, typmod, display), (_, facts) in zip(rows, types, strict=True):
        column = catalog.column(name, typid, typmod, display, {})
        assert column.data_type_display == display
        assert column.model_dump(include=set(facts)) == facts
