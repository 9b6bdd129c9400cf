"""Slack installations, bots and OAuth states against a real Redis."""
from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone

import pytest
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation

from bot.adapters.slack.oauth_store import RedisInstallationStore, RedisOAuthStateStore

INSTALLED_AT = 1_790_000_000.25
EXPIRES_AT = 1_790_043_200


def make_installation(
    user_id: str = "U1",
    *,
    team_id: str | None = "T1",
    enterprise_id: str | None = None,
    bot_token: str | None = "xoxb-1",
    user_token: str | None = "xoxp-1",
    is_enterprise_install: bool = False,
    installed_at: float = INSTALLED_AT,
    custom_values: dict | None = None,
) -> Installation:
    return Installation(
        app_id="A1",
        enterprise_id=enterprise_id,
        team_id=team_id,
        team_name="Acme",
        bot_token=bot_token,
        bot_id="B1" if bot_token else None,
        bot_user_id="UB1" if bot_token else None,
        bot_scopes="chat:write,im:history" if bot_token else "",
        bot_refresh_token="xoxe-1" if bot_token else None,
        bot_token_expires_at=EXPIRES_AT if bot_token else None,
        user_id=user_id,
        user_token=user_token,
        user_scopes="search:read",
        is_enterprise_install=is_enterprise_install,
        installed_at=installed_at,
        custom_values=custom_values,
    )


@pytest.fixture
def installations(store):
    return RedisInstallationStore(store.client, store.keys)


@pytest.fixture
def states(store):
    return RedisOAuthStateStore(store.client, store.keys, expiration_seconds=120)


async def test_saved_installation_and_bot_are_found_with_all_fields(installations):
    await installations.async_save(make_installation(custom_values={"plan": "pro"}))

    bot = await installations.async_find_bot(enterprise_id=None, team_id="T1")
    assert isinstance(bot, Bot)
    assert (bot.bot_token, bot.bot_id, bot.bot_user_id) == ("xoxb-1", "B1", "UB1")
    assert bot.bot_scopes == ["chat:write", "im:history"]
    assert bot.bot_refresh_token == "xoxe-1" and bot.bot_token_expires_at == EXPIRES_AT
    assert bot.installed_at == INSTALLED_AT and bot.team_id == "T1" and bot.app_id == "A1"

    found = await installations.async_find_installation(enterprise_id=None, team_id="T1")
    assert isinstance(found, Installation)
    assert found.user_id == "U1" and found.user_token == "xoxp-1" and found.bot_token == "xoxb-1"
    assert found.user_scopes == ["search:read"] and found.bot_scopes == ["chat:write", "im:history"]
    assert found.installed_at == INSTALLED_AT and found.bot_token_expires_at == EXPIRES_AT
    assert found.custom_values == {"plan": "pro"} and found.get_custom_value("plan") == "pro"
    assert found.team_name == "Acme" and found.is_enterprise_install is False


async def test_nothing_is_found_for_another_workspace(installations):
    await installations.async_save(make_installation())
    assert await installations.async_find_bot(enterprise_id=None, team_id="T2") is None
    assert await installations.async_find_installation(enterprise_id=None, team_id="T2") is None
    assert await installations.async_find_installation(enterprise_id="E1", team_id="T1") is None


async def test_per_user_installation_versus_latest(installations):
    await installations.async_save(make_installation("U1", user_token="xoxp-u1"))
    await installations.async_save(make_installation("U2", user_token="xoxp-u2"))

    latest = await installations.async_find_installation(enterprise_id=None, team_id="T1")
    first = await installations.async_find_installation(enterprise_id=None, team_id="T1", user_id="U1")
    second = await installations.async_find_installation(enterprise_id=None, team_id="T1", user_id="U2")
    assert (latest.user_id, latest.user_token) == ("U2", "xoxp-u2")
    assert (first.user_id, first.user_token) == ("U1", "xoxp-u1")
    assert (second.user_id, second.user_token) == ("U2", "xoxp-u2")
    assert await installations.async_find_installation(enterprise_id=None, team_id="T1", user_id="U3") is None


async def test_a_second_save_replaces_the_latest_installation_and_bot(installations):
    await installations.async_save(make_installation("U1", bot_token="xoxb-old", installed_at=INSTALLED_AT))
    await installations.async_save(make_installation("U1", bot_token="xoxb-new", installed_at=INSTALLED_AT + 60))

    latest = await installations.async_find_installation(enterprise_id=None, team_id="T1")
    mine = await installations.async_find_installation(enterprise_id=None, team_id="T1", user_id="U1")
    bot = await installations.async_find_bot(enterprise_id=None, team_id="T1")
    assert latest.bot_token == "xoxb-new" and latest.installed_at == INSTALLED_AT + 60
    assert mine.bot_token == "xoxb-new"
    assert bot.bot_token == "xoxb-new" and bot.installed_at == INSTALLED_AT + 60


async def test_found_installations_carry_the_latest_bot_token(installations):
    await installations.async_save(make_installation("U1", bot_token="xoxb-1"))
    await installations.async_save(make_installation("U2", bot_token="xoxb-2"))
    # A user-scope-only re-install: no bot token in it, the stored bot is kept.
    await installations.async_save(make_installation("U3", bot_token=None))

    assert (await installations.async_find_bot(enterprise_id=None, team_id="T1")).bot_token == "xoxb-2"
    first = await installations.async_find_installation(enterprise_id=None, team_id="T1", user_id="U1")
    assert first.user_id == "U1" and first.bot_token == "xoxb-2" and first.bot_id == "B1"
    latest = await installations.async_find_installation(enterprise_id=None, team_id="T1")
    assert latest.user_id == "U3" and latest.bot_token == "xoxb-2"
    assert latest.bot_scopes == ["chat:write", "im:history"]


async def test_enterprise_install_is_found_with_any_team_id(installations, store):
    await installations.async_save(
        make_installation(enterprise_id="E1", team_id=None, is_enterprise_install=True, bot_token="xoxb-org")
    )

    for team_id in (None, "T-somewhere"):
        found = await installations.async_find_installation(
            enterprise_id="E1", team_id=team_id, is_enterprise_install=True
        )
        bot = await installations.async_find_bot(enterprise_id="E1", team_id=team_id, is_enterprise_install=True)
        assert found is not None and found.is_enterprise_install and found.bot_token == "xoxb-org"
        assert bot is not None and bot.is_enterprise_install and bot.bot_token == "xoxb-org"
    # Not a workspace installation of that team.
    assert await installations.async_find_installation(enterprise_id="E1", team_id="T-somewhere") is None
    assert await store.client.exists(store.keys.slack_installation("E1", None)) == 1


async def test_enterprise_install_with_a_team_id_is_stored_for_the_org(installations, store):
    await installations.async_save(
        make_installation(enterprise_id="E1", team_id="T1", is_enterprise_install=True, bot_token="xoxb-org")
    )
    found = await installations.async_find_installation(enterprise_id="E1", team_id="T1", is_enterprise_install=True)
    assert found is not None and found.bot_token == "xoxb-org"
    assert await store.client.exists(store.keys.slack_installation("E1", "T1")) == 0
    assert await store.client.exists(store.keys.slack_bot("E1", None)) == 1


async def test_delete_installation_for_one_user_keeps_the_rest(installations):
    await installations.async_save(make_installation("U1"))
    await installations.async_save(make_installation("U2"))

    await installations.async_delete_installation(enterprise_id=None, team_id="T1", user_id="U1")

    assert await installations.async_find_installation(enterprise_id=None, team_id="T1", user_id="U1") is None
    assert await installations.async_find_installation(enterprise_id=None, team_id="T1", user_id="U2") is not None
    assert (await installations.async_find_installation(enterprise_id=None, team_id="T1")).user_id == "U2"
    assert await installations.async_find_bot(enterprise_id=None, team_id="T1") is not None


async def test_delete_installation_without_user_removes_every_installation_but_not_the_bot(installations, store):
    await installations.async_save(make_installation("U1"))
    await installations.async_save(make_installation("U2"))
    await installations.async_save(make_installation("U1", team_id="T2"))

    await installations.async_delete_installation(enterprise_id=None, team_id="T1")

    assert await installations.async_find_installation(enterprise_id=None, team_id="T1") is None
    for user_id in ("U1", "U2"):
        assert await installations.async_find_installation(enterprise_id=None, team_id="T1", user_id=user_id) is None
        assert await store.client.exists(store.keys.slack_installation(None, "T1", user_id)) == 0
    assert await installations.async_find_bot(enterprise_id=None, team_id="T1") is not None
    # Another workspace is untouched.
    assert await installations.async_find_installation(enterprise_id=None, team_id="T2", user_id="U1") is not None
    assert await installations.async_find_installation(enterprise_id=None, team_id="T2") is not None


async def test_delete_bot_removes_only_the_bot(installations):
    await installations.async_save(make_installation("U1"))
    await installations.async_save(make_installation("U1", team_id="T2"))

    await installations.async_delete_bot(enterprise_id=None, team_id="T1")

    assert await installations.async_find_bot(enterprise_id=None, team_id="T1") is None
    assert await installations.async_find_installation(enterprise_id=None, team_id="T1") is not None
    assert await installations.async_find_bot(enterprise_id=None, team_id="T2") is not None


async def test_delete_all_removes_bot_and_installations_of_that_workspace_only(installations, store):
    await installations.async_save(make_installation("U1"))
    await installations.async_save(make_installation("U2"))
    await installations.async_save(make_installation("U1", team_id="T2"))

    await installations.async_delete_all(enterprise_id=None, team_id="T1")

    assert await installations.async_find_bot(enterprise_id=None, team_id="T1") is None
    assert await installations.async_find_installation(enterprise_id=None, team_id="T1") is None
    assert await installations.async_find_installation(enterprise_id=None, team_id="T1", user_id="U2") is None
    remaining = sorted([key.decode() async for key in store.client.scan_iter(match=f"{store.keys.prefix}:*")])
    assert remaining == sorted(
        [
            store.keys.slack_bot(None, "T2"),
            store.keys.slack_installation(None, "T2"),
            store.keys.slack_installation(None, "T2", "U1"),
        ]
    )


async def test_delete_all_of_an_enterprise_install(installations):
    await installations.async_save(make_installation(enterprise_id="E1", team_id=None, is_enterprise_install=True))
    await installations.async_delete_all(enterprise_id="E1", team_id=None)
    assert await installations.async_find_bot(enterprise_id="E1", team_id=None, is_enterprise_install=True) is None
    assert (
        await installations.async_find_installation(enterprise_id="E1", team_id=None, is_enterprise_install=True)
        is None
    )


async def test_stored_values_are_json_and_never_expire(installations, store):
    await installations.async_save(make_installation("U1"))

    keys = [
        store.keys.slack_installation(None, "T1"),
        store.keys.slack_installation(None, "T1", "U1"),
        store.keys.slack_bot(None, "T1"),
    ]
    for key in keys:
        raw = await store.client.get(key)
        assert raw is not None and raw.startswith(b"{")
        data = json.loads(raw)
        assert data["team_id"] == "T1" and data["bot_token"] == "xoxb-1"
        assert isinstance(data["installed_at"], float) and data["installed_at"] == INSTALLED_AT
        assert data["bot_token_expires_at"] == EXPIRES_AT and isinstance(data["bot_token_expires_at"], int)
        assert await store.client.ttl(key) == -1
    installation = json.loads(await store.client.get(keys[0]))
    assert installation["user_id"] == "U1" and installation["user_scopes"] == ["search:read"]


async def test_datetime_custom_values_are_stored_as_iso_text(installations, store):
    when = datetime(2026, 11, 20, 1, 0, tzinfo=timezone.utc)
    await installations.async_save(make_installation("U1", custom_values={"trial_ends": when}))
    raw = json.loads(await store.client.get(store.keys.slack_installation(None, "T1")))
    assert raw["custom_values"] == {"trial_ends": "2026-11-20T01:00:00+00:00"}


async def test_a_save_that_cannot_be_serialized_writes_nothing(installations, store):
    with pytest.raises(TypeError):
        await installations.async_save(make_installation("U1", custom_values={"bad": object()}))
    assert [key async for key in store.client.scan_iter(match=f"{store.keys.prefix}:*")] == []


async def test_save_bot_alone_and_a_bot_without_token_is_not_saved(installations):
    bot = make_installation(bot_token="xoxb-solo").to_bot()
    await installations.async_save_bot(bot)
    assert (await installations.async_find_bot(enterprise_id=None, team_id="T1")).bot_token == "xoxb-solo"
    assert await installations.async_find_installation(enterprise_id=None, team_id="T1") is None

    tokenless = make_installation(team_id="T9", bot_token=None).to_bot()
    await installations.async_save_bot(tokenless)
    assert await installations.async_find_bot(enterprise_id=None, team_id="T9") is None


async def test_stores_have_a_logger(installations, states):
    assert installations.logger.name == "bot.adapters.slack.oauth_store"
    assert states.logger.name == "bot.adapters.slack.oauth_store"


async def test_a_state_is_consumed_exactly_once(states):
    state = await states.async_issue()
    assert isinstance(state, str) and len(state) >= 32
    assert await states.async_consume(state) is True
    assert await states.async_consume(state) is False


async def test_issued_states_are_distinct(states):
    issued = {await states.async_issue() for _ in range(20)}
    assert len(issued) == 20
    for state in issued:
        assert await states.async_consume(state) is True


async def test_an_unknown_state_is_refused(states):
    assert await states.async_consume("never-issued") is False


async def test_a_state_has_a_ttl_within_expiration(states, store):
    state = await states.async_issue()
    ttl = await store.client.ttl(store.keys.oauth_state(state))
    assert 0 < ttl <= 120


async def test_an_expired_state_is_refused(states, store):
    state = await states.async_issue()
    await store.client.pexpire(store.keys.oauth_state(state), 20)
    await asyncio.sleep(0.1)
    assert await states.async_consume(state) is False


async def test_concurrent_consumes_of_one_state_succeed_once(states):
    state = await states.async_issue()
    results = await asyncio.gather(*(states.async_consume(state) for _ in range(10)))
    assert results.count(True) == 1


def test_expiration_must_be_positive(store):
    with pytest.raises(ValueError):
        RedisOAuthStateStore(store.client, store.keys, expiration_seconds=0)
