"""On the Redis Cluster (tests/test_cluster.py): the conversations whose commit writes outside
the tenant's slot. A lesson passed writes its certificate ({cert:SERIAL}), an incident report its
record and timeline ({incident:ID}), a new organisation its fields ({org:ID}); on a cluster those
writes are applied, slot by slot, just before the tenant's commit (bot/store/conversations.py).
"""
from __future__ import annotations

import pytest

from bot.flows.incidents.records import IncidentStore
from bot.flows.learning.certificates import Status
from tests.support.replies import render_replies
from tests.test_incidents import (
    incident_id,
    test_admin_conversation_sets_up_the_organisation,  # noqa: F401  (run here too)
)
from tests.test_lessons import answer_lesson


@pytest.fixture
def store(cluster_store):
    return cluster_store


async def test_a_lesson_to_its_certificate_on_the_cluster(chat, content, certificates, engine):
    await chat.send("学習 1")
    text = render_replies(await answer_lesson(chat, content, 1))
    assert "全問正解です" in text
    certificate_id = text.split("修了証番号：")[1].split("\n")[0]
    assert (await certificates.verify_id(certificate_id)).status is Status.VALID
    assert (await engine.store.lesson_progress(chat.who))[1]["certificate"] == certificate_id


async def test_an_incident_report_on_the_cluster(chat, engine):
    replies = await chat.send("会社のスマホを電車に置き忘れました")
    number = incident_id(replies)
    # what was lost, stolen, personal data, one of the four cases, regulated business
    for answer in ("スマホ・携帯電話", "いいえ", "はい", "いいえ", "いいえ"):
        replies = await chat.send(answer)
    assert "重要度：高" in render_replies(replies)
    incidents = IncidentStore(engine.store.client, engine.store.keys)
    record = await incidents.load(number)
    assert record.kind == "lost_device" and record.severity == "high"
    assert [e["what"] for e in record.timeline] == ["received", "triaged"]
    assert [i.id for i in await incidents.by_reporter(chat.who)] == [number]
    assert [i.id for i in await incidents.of_workspace("local", "local")] == [number]
