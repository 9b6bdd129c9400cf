"""`bot line rich-menu`: create the rich menu, upload its image, make it everyone's default."""
from __future__ import annotations

import argparse
import asyncio
import os

from bot.content.loader import load_content
from bot.settings import ConfigError, Settings


def add_parser(commands: argparse._SubParsersAction) -> None:
    line = commands.add_parser("line", help="LINE official account set-up")
    sub = line.add_subparsers(dest="line_command", required=True)
    rich = sub.add_parser(
        "rich-menu", help="create the rich menu (self-check, lessons, incident desk, progress) and make it the default")
    rich.add_argument("--keep-old", action="store_true", help="do not delete the rich menus made before")
    line.set_defaults(func=run)


async def set_up_rich_menu(*, texts, access_token: str, api_url: str | None, keep_old: bool = False) -> str:
    """Create the menu, upload the image and set it as the default; returns the new rich menu id."""
    from linebot.v3.messaging import (
        AsyncApiClient,
        AsyncMessagingApi,
        AsyncMessagingApiBlob,
        Configuration,
        RichMenuRequest,
    )

    from bot.adapters.line.adapter import API_HOST, DATA_API_HOST
    from bot.adapters.line.rich_menu import render_rich_menu, rich_menu_request

    image = await asyncio.to_thread(render_rich_menu, texts)
    api_config = Configuration(host=api_url or API_HOST, access_token=access_token)
    blob_config = Configuration(host=api_url or DATA_API_HOST, access_token=access_token)
    async with AsyncApiClient(api_config) as api_client, AsyncApiClient(blob_config) as blob_client:
        api, blob = AsyncMessagingApi(api_client), AsyncMessagingApiBlob(blob_client)
        old = [] if keep_old else [m.rich_menu_id for m in (await api.get_rich_menu_list()).richmenus]
        created = await api.create_rich_menu(RichMenuRequest.from_dict(rich_menu_request(texts)))
        menu_id = created.rich_menu_id
        await blob.set_rich_menu_image(menu_id, body=image, _headers={"Content-Type": "image/png"})
        await api.set_default_rich_menu(menu_id)
        for stale in old:
            await api.delete_rich_menu(stale)
    return menu_id


def run(args: argparse.Namespace) -> int:
    from linebot.v3.messaging.exceptions import ApiException

    token = os.environ.get("LINE_CHANNEL_ACCESS_TOKEN")
    if not token:
        raise ConfigError("LINE_CHANNEL_ACCESS_TOKEN is not set")
    api_url = os.environ.get("LINE_API_URL")
    try:
        texts = load_content(Settings.from_env().content_dir).texts
        menu_id = asyncio.run(set_up_rich_menu(texts=texts, access_token=token, api_url=api_url,
                                               keep_old=args.keep_old))
    except ApiException as exc:
        raise ConfigError(f"LINE refused the rich menu ({exc.status}): {exc.body}") from exc
    except (OSError, asyncio.TimeoutError) as exc:
        raise ConfigError(f"cannot reach the LINE API ({api_url or 'api.line.me'}): {exc!r}") from exc
    print(f"rich menu {menu_id} is now the default for every user")
    return 0
