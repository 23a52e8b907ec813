"""Reports: what the user reads, as rich tables for people and plain dicts for --json."""
