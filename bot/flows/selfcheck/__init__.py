"""自社診断: the 25-item self-check, its scoring and its result."""
