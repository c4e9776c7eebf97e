"""moto's S3 server as a child process on 127.0.0.1, stopped by PID."""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

import requests


class MotoS3Server:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = _free_port(host)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, timeout: float = 60.0) -> MotoS3Server:
        # moto logs every request: a pipe nobody drains would fill and stall it.
        self._log = tempfile.NamedTemporaryFile(prefix="moto-", suffix=".log", delete=False)  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", self.host, "-p", str(self.port)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"moto server exited: {Path(self._log.name).read_text()[-2000:]}"
                )
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.endpoint_url}/moto-api/", timeout=1).status_code < 500:
                    return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("moto server did not become healthy")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self._log.close()
        Path(self._log.name).unlink(missing_ok=True)
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)

    def s3_client(self) -> Any:
        return local_s3_client(self.endpoint_url)

    def __enter__(self) -> MotoS3Server:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


def local_s3_client(endpoint_url: str) -> Any:
    """A boto3 S3 client for a local moto server (its dummy credentials)."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def upload_fixture_zip(client: Any, bucket: str, zip_path: Path, prefix: str) -> None:
    """Upload a zipped Hudi table under `prefix` (macOS resource forks skipped)."""
    with zipfile.ZipFile(zip_path) as archive:
        for info in archive.infolist():
            if info.is_dir() or "__MACOSX" in info.filename or info.filename.endswith(".DS_Store"):
                continue
            key = f"{prefix.rstrip('/')}/{info.filename}" if prefix else info.filename
            client.put_object(Bucket=bucket, Key=key, Body=archive.read(info))


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port
