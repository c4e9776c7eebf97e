"""Deployment definitions live in prefect.yaml; their Python side (the sharded run's shard
launching and result collection: `deployments.sharding`) lives here."""
