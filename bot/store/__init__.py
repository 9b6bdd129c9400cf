"""Everything kept in Redis: keys, conversation records, display names, the embedded server."""
