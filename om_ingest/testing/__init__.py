"""Real local stand-ins for tests, the demo and benchmarks (moto S3, demo Hudi lakes)."""
