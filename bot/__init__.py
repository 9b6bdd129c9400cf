"""情報セキュリティ相談窓口ボット: a security desk for small Japanese companies, in Slack and LINE.

Where things are (each folder is one room):
- `core/`     the engine: one event in, replies out (router, understanding, classifier, flow
              declarations, the shared state machine, delivery, the reply model);
- `flows/`    one package per conversation (menu, selfcheck, learning, incidents, org);
- `adapters/` translation between a platform and the engine (local, slack, line);
- `store/`    Redis: keys, conversation records with atomic commits, locks, the embedded server;
- `content/`  loading and validating the data under the top-level `content/` folder;
- `runtime/`  start-up and the web server that mounts the adapters;
- `cli/`      the `bot` command.
"""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("security-desk-bot")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0+unknown"
