"""The `bot` command and its subcommands."""
