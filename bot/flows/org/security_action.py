"""SECURITY ACTION: which star a company is ready to declare, and its 情報セキュリティ基本方針.

IPA's SECURITY ACTION has two levels a company declares itself (content/security_action.yaml,
with the sources): ★ is the commitment to the 情報セキュリティ5か条, which the self-check's items
1-5 ask about; ★★ needs the self-check done (the company knows where it stands) and an
情報セキュリティ基本方針 decided and made public.

`readiness` says which star the company is ready to declare and what is missing, from the
company's own self-check (25 answer indexes, `bot.flows.selfcheck.scoring`: DONE=0 ... UNKNOWN=3)
and its confirmed policy. ★ counts as ready once items 1-5 are all 実施している: IPA lets a
company declare ★ as a first step before that, and the chat says so, but "ready" here means
the company does what it declares.

The policy is kept on the organisation (`{org:ID}:security-policy`, a hash written field by
field): drafted and confirmed in the chat by an administrator, marked published when an
administrator says it is public.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Sequence

import redis.asyncio as aioredis

from bot.flows.selfcheck.scoring import DONE, UNKNOWN
from bot.store.conversations import StoreOp
from bot.store.keys import Keys

ONE_STAR_ITEMS: tuple[int, ...] = (1, 2, 3, 4, 5)  # the 5か条, as content/security_action.yaml lists them

# What ★★ still needs, in the order to do it.
NEEDS_SELF_CHECK, NEEDS_POLICY, NEEDS_PUBLISHING = "self_check", "policy", "publish"


@dataclass(frozen=True)
class SecurityPolicy:
    """A confirmed 情報セキュリティ基本方針: what the PDF shows, who confirmed it and when."""

    company: str
    title: str  # the representative's title (代表取締役)
    name: str  # the representative's name
    date: str  # the date the policy carries (ISO, YYYY-MM-DD)
    commitments: tuple[str, ...]  # ids of policy_template.yaml commitments, in its order
    decided_at: str = ""  # when it was confirmed in the chat (ISO date-time)
    decided_by: str = ""  # the administrator's user id
    published_at: str = ""  # when an administrator said it is public ("" until then)

    @property
    def published(self) -> bool:
        return bool(self.published_at)

    def fields(self) -> dict[str, str]:
        return {"company": self.company, "title": self.title, "name": self.name, "date": self.date,
                "commitments": json.dumps(list(self.commitments)), "decided_at": self.decided_at,
                "decided_by": self.decided_by, "published_at": self.published_at}

    @classmethod
    def from_fields(cls, fields: dict[str, str]) -> "SecurityPolicy":
        return cls(company=fields["company"], title=fields.get("title", ""), name=fields.get("name", ""),
                   date=fields.get("date", ""), commitments=tuple(json.loads(fields.get("commitments") or "[]")),
                   decided_at=fields.get("decided_at", ""), decided_by=fields.get("decided_by", ""),
                   published_at=fields.get("published_at", ""))


@dataclass(frozen=True)
class Readiness:
    star: int  # the highest star the company is ready to declare: 0, 1 or 2
    self_check_done: bool  # the company's own self-check has been answered
    one_star_gaps: tuple[int, ...]  # 5か条 items not (yet known to be) 実施している
    unknown_items: tuple[int, ...]  # of those, the ones answered わからない (find out first)
    policy_decided: bool
    policy_published: bool

    @property
    def one_star_ready(self) -> bool:
        return self.self_check_done and not self.one_star_gaps

    @property
    def two_star_missing(self) -> tuple[str, ...]:
        """What ★★ still needs: NEEDS_SELF_CHECK, NEEDS_POLICY, NEEDS_PUBLISHING (empty: ready)."""
        missing = []
        if not self.self_check_done:
            missing.append(NEEDS_SELF_CHECK)
        if not self.policy_decided:
            missing.append(NEEDS_POLICY)
        if not self.policy_published:
            missing.append(NEEDS_PUBLISHING)
        return tuple(missing)


def readiness(company_answers: Sequence[int] | None, policy: SecurityPolicy | None, *,
              one_star_items: Sequence[int] = ONE_STAR_ITEMS) -> Readiness:
    """Which star the company is ready to declare, and what is missing.

    `company_answers`: the company's own self-check, one answer index per item in item order
    (None: not done). `policy`: its confirmed policy (None: none yet)."""
    if company_answers is not None:
        if any(not DONE <= a <= UNKNOWN for a in company_answers):
            raise ValueError(f"answer indexes are {DONE}..{UNKNOWN}, got {list(company_answers)}")
        if any(not 1 <= no <= len(company_answers) for no in one_star_items):
            raise ValueError(f"{len(company_answers)} answers do not reach items {list(one_star_items)}")
    done = company_answers is not None
    gaps = tuple(no for no in one_star_items if not done or company_answers[no - 1] != DONE)
    unknown = tuple(no for no in gaps if done and company_answers[no - 1] == UNKNOWN)
    decided = policy is not None
    published = decided and policy.published
    result = Readiness(star=0, self_check_done=done, one_star_gaps=gaps, unknown_items=unknown,
                       policy_decided=decided, policy_published=published)
    star = 2 if not result.two_star_missing else 1 if result.one_star_ready else 0
    return Readiness(star=star, self_check_done=done, one_star_gaps=gaps, unknown_items=unknown,
                     policy_decided=decided, policy_published=published)


def policies(conv: Any) -> "PolicyStore":
    return PolicyStore(conv.services.store.client, conv.services.store.keys)


class PolicyStore:
    def __init__(self, client: aioredis.Redis, keys: Keys):
        self.client = client
        self.keys = keys

    async def load(self, org_id: str) -> SecurityPolicy | None:
        fields = await self.client.hgetall(self.keys.security_policy(org_id))
        decoded = {key.decode(): value.decode() for key, value in fields.items()}
        return SecurityPolicy.from_fields(decoded) if decoded.get("company") else None

    # --- writes, as ops for a conversation's commit ----------------------------------------

    def save_op(self, org_id: str, policy: SecurityPolicy) -> StoreOp:
        """The confirmed policy, every field (a new policy is not published until said so)."""
        args: list[str] = []
        for key, value in policy.fields().items():
            args += [key, value]
        return StoreOp("HSET", self.keys.security_policy(org_id), tuple(args))

    def published_op(self, org_id: str, at: str) -> StoreOp:
        return StoreOp("HSET", self.keys.security_policy(org_id), ("published_at", at))
