"""Shard planning: every unit of a discovery in exactly one shard, and a sharded discovery
(parent: units; shard: only its units, tables named as in a whole run) against a moto lake."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from om_ingest.config import load_config
from om_ingest.engine.discovery import expand_entities
from om_ingest.engine.results import EntityResult
from om_ingest.engine.shards import ShardUnit, plan_shards
from om_ingest.planning import unpacked
from om_ingest.testing.lake_writer import LakeTarget, write_table
from om_ingest.testing.moto_s3 import MotoS3Server
from tests.lake_configs import lake_config, write_config

units_strategy = st.lists(
    st.builds(
        ShardUnit,
        entity=st.integers(0, 5),
        source=st.sampled_from(["lake", "pg", "ice"]),
        target=st.sampled_from(["svc.db.a", "svc.db.b", "svc.db.c"]),
        scope=st.none() | st.from_regex(r"warehouse/[a-z]{1,6}/", fullmatch=True),
    ),
    max_size=60,
)


@given(
    units=units_strategy, max_shards=st.integers(1, 12), by=st.sampled_from(["prefix", "source"])
)
def test_every_unit_in_exactly_one_shard(units: list[ShardUnit], max_shards: int, by: str) -> None:
    shards = plan_shards(units, max_shards, by)  # type: ignore[arg-type]
    placed = Counter(unit for shard in shards for unit in shard)
    assert placed == Counter(set(units))
    assert len(shards) <= max_shards and all(shards)
    if by == "source":  # a discovery entity's units never split
        owner = {u.entity: i for i, shard in enumerate(shards) for u in shard}
        assert all(owner[u.entity] == i for i, shard in enumerate(shards) for u in shard)
    else:  # as many shards as there are units, up to the cap; sizes differ by one at most
        assert len(shards) == min(max_shards, len(set(units)))
        sizes = [len(s) for s in shards]
        assert not sizes or max(sizes) - min(sizes) <= 1


def test_plan_is_stable_and_rejects_no_shards() -> None:
    units = [ShardUnit(0, "lake", "s.d.h", f"warehouse/p{i}/") for i in range(5)]
    assert plan_shards(units, 2, "prefix") == plan_shards(list(reversed(units)), 2, "prefix")
    with pytest.raises(ValueError):
        plan_shards(units, 0, "prefix")


PREFIXES = {"north": ["orders", "items"], "south": ["refunds"], "east": ["stock"], "west": []}


@pytest.fixture()
def lake(tmp_path: Path) -> object:
    with MotoS3Server() as moto:
        client = moto.s3_client()
        client.create_bucket(Bucket="lake")
        table = pa.table({"id": pa.array([1, 2], pa.int64())})
        for prefix, names in PREFIXES.items():
            for name in names:
                write_table(
                    LakeTarget.s3(client, "lake"), f"warehouse/{prefix}/{name}", table, "id"
                )
        client.put_object(Bucket="lake", Key="warehouse/west/readme.txt", Body=b"x")
        yield moto


def test_parent_lists_units_and_shards_discover_only_theirs(
    lake: MotoS3Server, tmp_path: Path
) -> None:
    loaded = load_config(
        write_config(
            tmp_path, lake_config(tmp_path, lake, om=False, openmetadata={"host": "http://x"})
        )
    )
    parent = expand_entities(loaded, str(tmp_path / "audit"), split=True)
    assert sorted(u.scope or "" for u in parent.units) == [
        "warehouse/east/",
        "warehouse/north/",
        "warehouse/south/",
        "warehouse/west/",
    ]
    assert {u.target for u in parent.units} == {"lake.lake.warehouse"}
    # the parent writes the implied service, database and schema, and discovers nothing
    assert [unpacked(e).type.value for e in parent.entities] == [
        "database_service",
        "database",
        "database_schema",
    ]
    assert not parent.streams

    found: list[str] = []
    for shard in plan_shards(parent.units, 2, "prefix"):
        expansion = expand_entities(loaded, str(tmp_path / "audit"), shard=shard)
        assert all(unpacked(e).discovery is not None for e in expansion.entities)  # no parents
        for index in list(expansion.streams):
            for item in expansion.discover(index):
                assert not isinstance(item, EntityResult), item
                found.append(unpacked(item).name or "")
        assert expansion.stale() == []  # a shard sees part of a source: nothing is stale
    assert sorted(found) == sorted(n for names in PREFIXES.values() for n in names)


def test_by_source_keeps_a_source_whole(lake: MotoS3Server, tmp_path: Path) -> None:
    config = lake_config(
        tmp_path,
        lake,
        om=False,
        openmetadata={"host": "http://x"},
        execution={"shards": {"by": "source"}},
    )
    loaded = load_config(write_config(tmp_path, config))
    parent = expand_entities(loaded, str(tmp_path / "audit"), split=True)
    assert parent.units == [ShardUnit(0, "lake", "lake.lake.warehouse")]
