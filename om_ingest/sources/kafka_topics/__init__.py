"""`type: kafka`: the topics of a Kafka cluster, with their schemas from a schema registry, as
OpenMetadata topics."""
