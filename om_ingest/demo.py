"""`make demo`: the OM API sandbox, then validate, plan, dry-run, ingest, evolve, re-ingest.

Starts everything it needs on 127.0.0.1 and stops it at the end (by PID), whatever happens.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from om_ingest.sandbox import SandboxServer

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "configs" / "examples" / "simple_database.yaml"


def om_ingest(*args: str, env: dict[str, str]) -> int:
    print(f"\n$ om-ingest {' '.join(args)}", flush=True)
    return subprocess.call([sys.executable, "-m", "om_ingest.cli", *args], env=env)


def main() -> int:
    token = secrets.token_urlsafe(24)
    workdir = Path(tempfile.mkdtemp(prefix="om-ingest-demo-"))
    env = {**os.environ, "OM_JWT": token, "PREFECT_HOME": str(workdir / "prefect")}
    with SandboxServer(token, data_dir=workdir / "om") as sandbox:
        env["OM_HOST"] = sandbox.host_port
        print(f"OM API sandbox (a stand-in, not OpenMetadata): {sandbox.url}")
        audit = str(workdir / "audit")
        steps = [
            ("validate", str(EXAMPLE)),
            ("plan", str(EXAMPLE)),
            ("ingest", str(EXAMPLE), "--dry-run", "--audit-dir", audit),
            ("ingest", str(EXAMPLE), "--audit-dir", audit),
        ]
        for step in steps:
            if om_ingest(*step, env=env) != 0:
                return 1
        evolved = yaml.safe_load(EXAMPLE.read_text())
        orders = next(e for e in evolved["entities"] if e.get("name") == "orders")
        orders["properties"]["columns"].append({"name": "channel", "data_type": "STRING"})
        evolved_path = workdir / "simple_database_evolved.yaml"
        evolved_path.write_text(yaml.safe_dump(evolved, sort_keys=False))
        print("\n# evolve `orders` (add column `channel`) and re-run: exactly one UPDATE")
        if om_ingest("ingest", str(evolved_path), "--audit-dir", audit, env=env) != 0:
            return 1
        print(
            f"\naudit logs: {audit}\nsandbox state: {workdir / 'om'}\nPrefect home: {workdir / 'prefect'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
