"""`bot cert verify ID_OR_PNG` / `bot cert revoke ID`."""
from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.flows.learning.certificates import Certificates, Status
from bot.runtime.startup import certificate_secret, open_store
from bot.settings import Settings

EXIT_CODES = {Status.VALID: 0, Status.UNKNOWN: 1, Status.ALTERED: 3, Status.REVOKED: 4}
MESSAGES = {
    Status.UNKNOWN: "unknown certificate: no certificate with this id was issued",
    Status.ALTERED: "ALTERED: the id, the record or the file does not match what was issued",
    Status.REVOKED: "revoked: this certificate was withdrawn after it was issued",
}


def add_parser(commands: argparse._SubParsersAction) -> None:
    cert = commands.add_parser(
        "cert", help="verify or revoke lesson certificates (exit 0 genuine, 1 unknown, 3 altered, 4 revoked)")
    sub = cert.add_subparsers(dest="cert_command", required=True)
    verify = sub.add_parser("verify", help="check a certificate id or PNG file (exit 0 when genuine)")
    verify.add_argument("what", help="a certificate id, or the path of a certificate PNG")
    revoke = sub.add_parser("revoke", help="withdraw a certificate")
    revoke.add_argument("id")
    cert.set_defaults(func=run)


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    async with open_store(settings) as store:
        certificates = Certificates(store.client, store.keys, secret=certificate_secret(settings, server=False),
                                    public_url=settings.public_url)
        if args.cert_command == "revoke":
            if await certificates.revoke(args.id):
                print(f"revoked {args.id}")
                return 0
            print(f"bot: cannot revoke {args.id}: unknown or altered", file=sys.stderr)
            return 1
        path = Path(args.what)
        if path.suffix.lower() == ".png" or path.exists():
            try:
                verdict = await certificates.verify_png(path.read_bytes())
            except OSError as exc:
                print(f"bot: cannot read {path}: {exc.strerror}", file=sys.stderr)
                return 2
        else:
            verdict = await certificates.verify_id(args.what)
    if verdict.status is Status.VALID:
        record = verdict.record
        print(f"valid certificate {record.id}")
        print(f"holder:  {record.holder}")
        print(f"theme:   {record.theme}")
        print(f"date:    {record.issued_on}")
        if record.organisation:
            print(f"organisation: {record.organisation}")
    else:
        print(f"bot: {MESSAGES[verdict.status]}", file=sys.stderr)
    return EXIT_CODES[verdict.status]


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args, Settings.from_env()))
