"""Register om-ingest's block types and save example blocks from environment variables."""

from __future__ import annotations

import os

from pydantic import SecretStr

from blocks.openmetadata import OpenMetadataConnection


def register_block_types() -> list[str]:
    """Make our block types (and prefect-aws's credentials) known to the Prefect API."""
    from prefect_aws import AwsCredentials, S3Bucket

    registered = []
    for block_type in (OpenMetadataConnection, AwsCredentials, S3Bucket):
        block_type.register_type_and_schema()
        registered.append(block_type.get_block_type_slug())
    return registered


def save_example_blocks(env: dict[str, str] | None = None) -> list[str]:
    """`om-ingest-openmetadata` from OM_HOST/OM_JWT, `om-ingest-aws` from AWS_* variables."""
    env = dict(os.environ if env is None else env)
    saved = []
    if env.get("OM_HOST") and env.get("OM_JWT"):
        OpenMetadataConnection(host_port=env["OM_HOST"], jwt_token=SecretStr(env["OM_JWT"])).save(
            "om-ingest-openmetadata", overwrite=True
        )
        saved.append("openmetadata-connection/om-ingest-openmetadata")
    if env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY"):
        from prefect_aws import AwsCredentials

        AwsCredentials(
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=SecretStr(env["AWS_SECRET_ACCESS_KEY"]),
            region_name=env.get("AWS_REGION", "us-east-1"),
        ).save("om-ingest-aws", overwrite=True)
        saved.append("aws-credentials/om-ingest-aws")
    return saved
