"""Data quality: a contract's rules as a Great Expectations suite, run on a table's sample,
and the outcomes as OpenMetadata test cases and test case results."""
