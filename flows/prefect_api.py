"""Start Prefect's ephemeral API early, so its start-up overlaps the OpenMetadata SDK import.

Without `PREFECT_API_URL`, Prefect starts a temporary API server (a subprocess) when the
flow first needs it: 10-20 s on 2 cores, after the ~15 s SDK import, one after the other.
Started from a thread at the beginning of `om-ingest ingest`, the server boots on one core
while the SDK imports on the other; the flow then finds it running. With a real server
configured, nothing happens.
"""

from __future__ import annotations

import logging
import threading

log = logging.getLogger("om_ingest.prefect")


def start_ephemeral_api() -> threading.Thread | None:
    """Boot the ephemeral API in the background; join the thread before running a flow (a
    server still starting would look running to Prefect's client)."""
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_ENABLED

    if PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
        return None

    def boot() -> None:
        from prefect.server.api.server import SubprocessASGIServer

        try:
            SubprocessASGIServer().start()
        except Exception as exc:  # the flow starts it again and reports the failure itself
            log.debug("early start of the ephemeral Prefect API failed: %s", exc)

    # Not a daemon: a process exiting early (a broken config) waits for the boot to finish,
    # so Prefect's exit handler then stops the server instead of leaving it orphaned.
    thread = threading.Thread(target=boot, name="om-ingest-prefect-api")
    thread.start()
    return thread
