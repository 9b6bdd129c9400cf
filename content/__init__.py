"""The default content, shipped in the package as bot.content.data (this file only makes it importable)."""
