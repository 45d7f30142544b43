"""Audio corruptions (filled in by the speech work)."""
