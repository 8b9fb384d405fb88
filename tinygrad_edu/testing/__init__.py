"""Tools for testing code built on tinygrad_edu (hypothesis strategies)."""
