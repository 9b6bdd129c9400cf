"""The `bot` command."""
from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
from pathlib import Path

from bot import __version__
from bot.settings import ConfigError, Settings

log = logging.getLogger("bot")


def _quiet_libraries() -> None:
    # transitions logs every state entry at INFO.
    logging.getLogger("transitions").setLevel(logging.WARNING)


def _settings() -> Settings:
    return Settings.from_env()


def cmd_chat(args: argparse.Namespace) -> int:
    from bot.cli.chat import run_chat

    settings = _settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    # The conversation owns the terminal: logs go to a file in the data directory.
    logging.basicConfig(
        filename=settings.data_dir / "bot.log", level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    _quiet_libraries()
    return asyncio.run(run_chat(settings, user=args.user, interactive=sys.stdin.isatty()))


def cmd_content_check(args: argparse.Namespace) -> int:
    from bot.content.loader import check_content

    content_dir = Path(args.dir) if args.dir else _settings().content_dir
    problems = check_content(content_dir)
    for problem in problems:
        print(f"{content_dir / problem.file}: {problem.field or '(file)'}: {problem.message}")
    if problems:
        print(f"{len(problems)} problem(s) in {content_dir}", file=sys.stderr)
        return 1
    print(f"content OK: {content_dir}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from bot.runtime.server import run_server

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    _quiet_libraries()
    return run_server(_settings(), port=args.port)


def cmd_classify(args: argparse.Namespace) -> int:
    from bot.content.intents import load_intents
    from bot.content.loader import check_content
    from bot.content.problems import ContentError
    from bot.core.classifier import IntentClassifier

    problems = check_content(_settings().content_dir)
    if problems:
        raise ContentError(problems)
    classifier = IntentClassifier(load_intents(_settings().content_dir))
    for line in sys.stdin:
        text = line.rstrip("\r\n")
        prediction = classifier.classify(text)
        print(f"{prediction.intent}\t{prediction.confidence:.2f}", flush=True)
    return 0


def cmd_diagram(args: argparse.Namespace) -> int:
    from bot.core.machine import flows_document
    from bot.flows import DEFAULT_FLOWS

    print(flows_document(DEFAULT_FLOWS), end="")
    return 0


def build_parser() -> argparse.ArgumentParser:
    # The subcommands' modules are imported here, not when this module is: `bot serve`'s drawing
    # processes import the main module again, and need none of them.
    from bot.cli import cert as cert_cli
    from bot.cli import line as line_cli
    from bot.cli import org as org_cli
    from bot.cli import remind as remind_cli
    from bot.cli import triage as triage_cli

    parser = argparse.ArgumentParser(
        prog="bot", description="A security desk for small Japanese companies, in Slack and LINE: "
                                "IPA's self-check, five-minute lessons with certificates, incident first response.",
        epilog="Settings come from the environment: REDIS_URL (else an embedded Redis in BOT_DATA_DIR), "
               "BOT_CONTENT_DIR, BOT_SECRET, PUBLIC_URL, SLACK_*, LINE_*. See README.md.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    chat = commands.add_parser("chat", help="talk to the bot in this terminal (one line per message)")
    chat.add_argument("--user", default=getpass.getuser(), help="who you are in the chat (default: your login)")
    chat.set_defaults(func=cmd_chat)

    content = commands.add_parser("content", help="content tools")
    content_commands = content.add_subparsers(dest="content_command", required=True)
    check = content_commands.add_parser("check", help="validate every file under content/")
    check.add_argument(
        "--dir", help="content directory (default: BOT_CONTENT_DIR, else the content shipped with the package)")
    check.set_defaults(func=cmd_content_check)

    serve = commands.add_parser(
        "serve", help="run the web server: /healthz, Slack (/slack/events) and LINE (/line/callback) when "
                      "their settings are present, certificate pages and images")
    serve.add_argument("--port", type=int, default=None, help="port (default: $PORT, else 3000)")
    serve.set_defaults(func=cmd_serve)

    org_cli.add_parser(commands)
    line_cli.add_parser(commands)
    cert_cli.add_parser(commands)
    triage_cli.add_parser(commands)
    remind_cli.add_parser(commands)

    classify = commands.add_parser("classify", help="read one utterance per line, print intent<TAB>confidence")
    classify.set_defaults(func=cmd_classify)

    diagram = commands.add_parser("diagram", help="print docs/flows.md: the conversation state machine as Mermaid")
    diagram.set_defaults(func=cmd_diagram)
    return parser


def main(argv: list[str] | None = None) -> int:
    from bot.content.problems import ContentError
    from bot.store.embedded import EmbeddedRedisError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ConfigError, EmbeddedRedisError) as exc:
        print(f"bot: {exc}", file=sys.stderr)
        return 2
    except ContentError as exc:
        print("bot: the content has problems (run `bot content check`):", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
