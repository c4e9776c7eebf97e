"""`type: opensearch`: the indexes of an OpenSearch cluster as OpenMetadata search indexes."""
