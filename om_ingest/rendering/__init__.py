"""Rich and markdown renderings of plans, dry-run diffs and run summaries."""
