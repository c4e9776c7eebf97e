"""Data profiles (Great Expectations on sampled rows) and their push to OpenMetadata."""
