"""Simulated employees answering the self-check over Slack by typing digits, against running servers.

Each person has their own DM channel on the fake Slack and their own answers. They send
「自社診断」, then answer each question as it appears in their channel (a question shown
again is answered again, with the same answer, as a person would), and wait for the result.
Every message goes to one of the servers' URLs in turn; a refused or failed delivery is sent
again with the same event id to the next URL (Slack retries; a load balancer moves on), and a
share of deliveries is sent twice (Slack's duplicate deliveries).

`report()` compares what each person meant with what the bot stored, and counts what they saw.
"""
from __future__ import annotations

import asyncio
import json
import random
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Awaitable, Callable

import aiohttp

from tests.support.slack_api import FakeSlack
from tests.support.slack_events import TEAM, signed_headers

QUESTIONS = 25
_QUESTION = re.compile(r"(?m)^(\d+)/25\nNo\.\1 ")  # "7/25\nNo.7 ...": a question (a result cites No.7 too)
RESULT_MARK = "/ 100点"


@dataclass
class Person:
    index: int
    answers: list[int]  # the choice typed for each question, 1-based
    user: str = ""
    channel: str = ""
    seen: int = 0  # how many of the channel's messages were read
    started_over: bool = False
    finished: bool = False
    stalled: str = ""

    def __post_init__(self) -> None:
        self.user = f"U{self.index:06d}"
        self.channel = f"D{self.index:06d}"


@dataclass
class Report:
    people: int
    finished: int
    stalled: list[str]
    wrong_scores: int
    changed_answers: int
    questions_twice: int
    out_of_order: int
    messages: int
    duplicate_messages: int
    ack_ms: list[float] = field(default_factory=list)
    reply_ms: list[float] = field(default_factory=list)
    refused: int = 0  # deliveries a server answered non-2xx (or did not answer): sent again
    elapsed: float = 0.0

    def percentile(self, share: float, of: str = "ack_ms") -> float:
        ordered = sorted(getattr(self, of))
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0

    def summary(self) -> str:
        return (f"{self.people} people, {self.finished} finished, {len(self.stalled)} stalled; wrong scores "
                f"{self.wrong_scores}, changed answers {self.changed_answers}; questions shown twice "
                f"{self.questions_twice}; out of order {self.out_of_order}; messages {self.messages} "
                f"(duplicates {self.duplicate_messages}); deliveries sent again {self.refused}; ack p50 "
                f"{self.percentile(0.5):.0f} ms p99 {self.percentile(0.99):.0f} ms; reply p50 "
                f"{self.percentile(0.5, 'reply_ms'):.0f} ms; {self.elapsed:.1f} s")


class SlackCrowd:
    def __init__(self, fake: FakeSlack, urls: list[str], *, people: int = 200, duplicate_share: float = 0.1,
                 seed: int = 1, patience: float = 90.0):
        self.fake = fake
        self.urls = list(urls)
        self.rng = random.Random(seed)
        self.duplicate_share = duplicate_share
        self.patience = patience  # seconds without progress before a person gives up
        self.people = [Person(i, [self.rng.randint(1, 4) for _ in range(QUESTIONS)]) for i in range(people)]
        self.answered = 0  # answers sent so far, over everyone
        self.ack_ms: list[float] = []
        self.reply_ms: list[float] = []  # from sending an answer to the next message arriving
        self.refused = 0
        self._turn = 0
        self._session: aiohttp.ClientSession | None = None

    async def run(self) -> float:
        started = time.monotonic()
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as self._session:
            await asyncio.gather(*(self._take_the_check(p) for p in self.people))
        return time.monotonic() - started

    # --- one person -----------------------------------------------------------------

    async def _take_the_check(self, person: Person) -> None:
        await asyncio.sleep(self.rng.uniform(0, 1.0))  # people do not all start in the same millisecond
        await self._say(person, "自社診断")
        answered_last = 0
        said_at = time.monotonic()
        while not person.finished and not person.stalled:
            message = await self._next_message(person)
            self.reply_ms.append((time.monotonic() - said_at) * 1000)
            if message is None:
                person.stalled = f"{person.user}: nothing new after question {answered_last}"
                return
            text = message.get("text") or ""
            asked = _QUESTION.search(text)
            if asked:
                number = int(asked.group(1))
                if number == 1 and answered_last >= 1:
                    person.started_over = True
                await asyncio.sleep(self.rng.uniform(0.0, 0.05))  # reading time
                await self._say(person, str(person.answers[number - 1]))
                said_at = time.monotonic()
                answered_last = max(answered_last, number)
                self.answered += 1
            elif RESULT_MARK in text:
                person.finished = True

    async def _next_message(self, person: Person) -> dict | None:
        """The next message in the person's channel, as soon as it is posted (the fake says when)."""
        posted = self.fake.posted.setdefault(person.channel, asyncio.Event())
        deadline = time.monotonic() + self.patience
        while True:
            messages = self.fake.messages.get(person.channel, [])
            if len(messages) > person.seen:
                person.seen += 1
                return messages[person.seen - 1]
            posted.clear()
            try:
                await asyncio.wait_for(posted.wait(), max(0.0, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                return None

    async def _say(self, person: Person, text: str) -> None:
        ts = f"{time.time():.6f}"
        event = {"type": "message", "channel_type": "im", "channel": person.channel, "user": person.user,
                 "text": text, "ts": ts, "event_ts": ts}
        body = json.dumps({"token": "unused", "team_id": TEAM, "api_app_id": "A0001", "type": "event_callback",
                           "event_id": f"Ev{uuid.uuid4().hex[:16]}", "event_time": int(time.time()), "event": event,
                           "authorizations": [{"team_id": TEAM, "user_id": "UBOT", "is_bot": True}]})
        await self._deliver(body)
        if self.rng.random() < self.duplicate_share:
            await self._deliver(body)  # Slack delivers the same event twice now and then

    async def _deliver(self, body: str) -> None:
        """Until a server answers 2xx: the same event, to the next URL each time."""
        assert self._session is not None
        for attempt in range(200):
            url = self.urls[self._turn % len(self.urls)]
            self._turn += 1
            headers = signed_headers(body)
            if attempt:
                headers["X-Slack-Retry-Num"] = str(min(attempt, 3))
                headers["X-Slack-Retry-Reason"] = "http_error"
            started = time.monotonic()
            try:
                async with self._session.post(url + "/slack/events", data=body, headers=headers) as response:
                    await response.read()
                    if response.status < 300:
                        self.ack_ms.append((time.monotonic() - started) * 1000)
                        return
            except (aiohttp.ClientError, asyncio.TimeoutError):
                pass
            self.refused += 1
            await asyncio.sleep(min(2.0, 0.2 * (attempt + 1)))
        raise AssertionError("no server took the event after 200 tries")

    # --- what came of it ------------------------------------------------------------

    async def report(self, results_of: Callable[[str], Awaitable[list[dict]]], elapsed: float) -> Report:
        wrong = changed = twice = disorder = total = duplicates = 0
        for person in self.people:
            results = await results_of(person.user)
            if not results or results[-1]["answers"] != [a - 1 for a in person.answers]:
                if results:
                    changed += sum(a != b - 1 for a, b in zip(results[-1]["answers"], person.answers))
                wrong += 1
            messages = self.fake.messages.get(person.channel, [])
            texts = [m.get("text") or "" for m in messages]
            total += len(texts)
            marks = [((m.get("metadata") or {}).get("event_payload") or {}).get("id") for m in messages]
            duplicates += len([m for m in marks if m]) - len({m for m in marks if m})  # one reply posted twice
            numbers = [int(m.group(1)) for m in map(_QUESTION.search, texts) if m]
            twice += len(numbers) - len(set(numbers))
            distinct = list(dict.fromkeys(numbers))
            disorder += distinct != sorted(distinct)
        return Report(
            people=len(self.people), finished=sum(p.finished for p in self.people),
            stalled=[p.stalled for p in self.people if p.stalled] + [
                f"{p.user}: started over" for p in self.people if p.started_over],
            wrong_scores=wrong, changed_answers=changed, questions_twice=twice, out_of_order=disorder,
            messages=total, duplicate_messages=duplicates, ack_ms=self.ack_ms, reply_ms=self.reply_ms,
            refused=self.refused,
            elapsed=elapsed)

