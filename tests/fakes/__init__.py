"""Local fakes of the outside services the bot talks to (no network needed)."""
