"""`make demo`: a lake of Hudi tables on a local S3 (moto) ingested into the OM API sandbox.

Steps: validate → plan → dry run → ingest → evolve one table → re-ingest (exactly one UPDATE,
with its schema diff) → schema history of the evolved table → ingest `complete_stack.yaml`
(every kind, lineage edges included) → the lineage of one of its tables, read back from OM
through the SDK. Every ingest of the lake also profiles its tables with Great Expectations
(the dry run computes and shows profiles without pushing them). Everything runs on 127.0.0.1
and is stopped by PID at the end.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa
from rich.console import Console
from rich.table import Table

from om_ingest.rendering.lineage import lineage_table
from om_ingest.sandbox import SandboxServer
from om_ingest.testing.lake_writer import LakeTarget, write_table
from om_ingest.testing.moto_s3 import MotoS3Server

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "examples" / "s3_hudi_profiling.yaml"
COMPLETE_STACK = ROOT / "configs" / "examples" / "complete_stack.yaml"
LINEAGE_OF = "warehouse.analytics.marts.daily_revenue"
"""The complete stack's table with edges up- and downstream: the one the demo shows."""
ADDRESS = pa.struct([("city", pa.string()), ("zip", pa.int32())])


def demo_tables() -> dict[str, pa.Table]:
    from decimal import Decimal

    return {
        "sales/orders": pa.table(
            {
                "order_id": pa.array([1, 2, 3], pa.int64()),
                "amount": pa.array([Decimal("10.50"), Decimal("3.20"), None], pa.decimal128(12, 2)),
                "shipping": pa.array(
                    [{"city": "Oslo", "zip": 150}, None, {"city": "Lyon", "zip": 69001}], ADDRESS
                ),
                "region": pa.array(["eu", "us", "eu"]),
            }
        ),
        "sales/customers": pa.table(
            {
                "customer_id": pa.array([1, 2], pa.int64()),
                "email": pa.array(["a@example.com", "b@example.com"]),
                "tags": pa.array([["vip"], []], pa.list_(pa.string())),
            }
        ),
        "finance/payments": pa.table(
            {
                "payment_id": pa.array([7, 8], pa.int64()),
                "paid_at": pa.array([1_700_000_000_000_000, None], pa.timestamp("us", "UTC")),
                "attributes": pa.array(
                    [[("method", "card")], []], pa.map_(pa.string(), pa.string())
                ),
            }
        ),
    }


KEYS = {
    "sales/orders": ("order_id", "region"),
    "sales/customers": ("customer_id", None),
    "finance/payments": ("payment_id", None),
}


def lineage_of(sdk: Any, fqn: str = LINEAGE_OF) -> Table:
    """The table's lineage one hop up- and downstream, as OM answers it through the SDK."""
    from metadata.generated.schema.entity.data.table import Table as OmTable

    return lineage_table(sdk.get_lineage_by_name(OmTable, fqn, up_depth=1, down_depth=1))


def complete_stack(
    sandbox: SandboxServer, token: str, target: LakeTarget, audit: str, env: dict[str, str]
) -> int:
    """Ingest complete_stack.yaml (its `external: true` service created first, as it exists
    in a real OM) and print the lineage of one of its tables."""
    from metadata.generated.schema.api.services.createDatabaseService import (
        CreateDatabaseServiceRequest,
    )
    from pydantic import SecretStr

    from om_ingest.config.models import api_url
    from om_ingest.openmetadata.client import connect_openmetadata

    print("\n# complete_stack.yaml: one entity of every kind, lineage edges included")
    sdk = connect_openmetadata(api_url(sandbox.host_port), SecretStr(token))
    sdk.create_or_update(
        CreateDatabaseServiceRequest.model_validate(
            {"name": "warehouse", "serviceType": "CustomDatabase"}
        )
    )
    clicks = pa.table({"click_id": pa.array([1, 2], pa.int64()), "page": pa.array(["/", "/a"])})
    write_table(target, "raw/clicks", clicks, record_key="click_id")
    if om_ingest("ingest", str(COMPLETE_STACK), "--audit-dir", audit, env=env) != 0:
        return 1
    print(f"\n# lineage of {LINEAGE_OF}, read back from OpenMetadata")
    Console(width=int(env.get("COLUMNS", "160")), soft_wrap=True).print(lineage_of(sdk))
    return 0


def om_ingest(*args: str, env: dict[str, str]) -> int:
    print(f"\n$ om-ingest {' '.join(args)}", flush=True)
    return subprocess.call([sys.executable, "-m", "om_ingest.cli", *args], env=env)


def main() -> int:
    token = secrets.token_urlsafe(24)
    workdir = Path(tempfile.mkdtemp(prefix="om-ingest-demo-"))
    audit = str(workdir / "audit")
    profiles = str(workdir / "profiles")
    with SandboxServer(token, data_dir=workdir / "om") as sandbox, MotoS3Server() as moto:
        client = moto.s3_client()
        client.create_bucket(Bucket="demo-lake")
        target = LakeTarget.s3(client, "demo-lake")
        for path, table in demo_tables().items():
            key, partition = KEYS[path]
            write_table(
                target, f"warehouse/{path}", table, record_key=key, partition_field=partition
            )
        print(f"OM API sandbox (a stand-in, not OpenMetadata): {sandbox.url}")
        print(f"S3 (moto): {moto.endpoint_url}, bucket demo-lake, 3 Hudi tables under warehouse/")
        env = {
            **os.environ,
            "OM_HOST": sandbox.host_port,
            "OM_JWT": token,
            "LAKE_BUCKET": "demo-lake",
            "S3_ENDPOINT_URL": moto.endpoint_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "PREFECT_HOME": str(workdir / "prefect"),
            "PROFILES_DIR": profiles,
            # Piped output (CI logs, `| tee`) gets wide tables instead of rich's 80 columns.
            **({} if sys.stdout.isatty() else {"COLUMNS": os.environ.get("COLUMNS", "160")}),
        }
        for step in (
            ("validate",),
            ("plan",),
            ("ingest", "--dry-run", "--audit-dir", audit),
            ("ingest", "--audit-dir", audit),
        ):
            if om_ingest(step[0], str(CONFIG), *step[1:], env=env) != 0:
                return 1
        print(
            "\n# evolve warehouse/sales/orders: add `channel`, drop `amount`, retype shipping.zip → string"
        )
        write_table(
            target,
            "warehouse/sales/orders",
            pa.table(
                {
                    "order_id": pa.array([1, 2, 3], pa.int64()),
                    "channel": pa.array(["web", "app", "web"]),
                    "shipping": pa.array(
                        [{"city": "Oslo", "zip": "0150"}, None, {"city": "Lyon", "zip": "69001"}],
                        pa.struct([("city", pa.string()), ("zip", pa.string())]),
                    ),
                    "region": pa.array(["eu", "us", "eu"]),
                }
            ),
            record_key="order_id",
            partition_field="region",
        )
        if om_ingest("ingest", str(CONFIG), "--audit-dir", audit, env=env) != 0:
            return 1
        evolved = "lake_svc.warehouse.hudi.orders"
        if om_ingest("history", evolved, "--profiles-dir", profiles, env=env) != 0:
            return 1
        # its own audit dir: the state of its source `lake` (raw/) is not the lake's above
        if complete_stack(sandbox, token, target, f"{audit}-complete-stack", env) != 0:
            return 1
        print(
            f"\naudit logs:     {audit}\nprofiles:       {profiles} (data/ and schema/ JSON)\n"
            f"sandbox state:  {workdir / 'om'} (SQLite)\n"
            f"Prefect home:   {workdir / 'prefect'} (artifacts: dry-run-, ingest-summary-, "
            "audit-, profiles-s3-hudi-profiling)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
