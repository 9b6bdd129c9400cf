"""Adapters translate between a platform and the engine; nothing else."""
