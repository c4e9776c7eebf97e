"""om-ingest: YAML-driven OpenMetadata ingestion."""

import warnings

# The OM SDK's generated models trip a pydantic warning on import; it says nothing to users.
warnings.filterwarnings("ignore", message='Field name "schema" in', category=UserWarning)
