"""The model a flow machine works on while one event is handled."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from bot.content.loader import Content
from bot.core.offload import Offload
from bot.core.replies import Outbox
from bot.core.understanding import Understanding
from bot.store.conversations import Precondition, Snapshot, Store, StoreOp
from bot.store.keys import ConversationKey

INITIAL_STATE = "menu"


@dataclass(frozen=True)
class Services:
    """What flows may use besides the conversation itself."""

    content: Content
    store: Store
    clock: Callable[[], datetime]
    flows: tuple[Any, ...] = ()  # bot.core.flow.Flow, in menu order
    # What the combined flows need that is built at start-up (e.g. the certificate signer),
    # by name; each flow package reads its own.
    resources: dict[str, Any] = field(default_factory=dict)
    offload: Offload = field(default_factory=Offload)  # where images and PDFs are drawn


class Conversation:
    """One user's conversation, rebuilt from its record for each event.

    `state` is managed by the transitions machine the conversation is attached
    to; `data` holds each flow's small JSON-able state under the flow's name.
    Replies go to `out`; extra writes (committed atomically with the record) to
    `ops`; values of other records the step relied on to `checks`.
    """

    def __init__(self, snapshot: Snapshot, services: Services, *, display_name: str | None = None,
                 channel: str | None = None, mentioned_channels: tuple[str, ...] = (),
                 capabilities: frozenset[str] = frozenset()):
        record = snapshot.record or {}
        self.display_name = display_name
        self.channel = channel
        self.mentioned_channels = mentioned_channels
        self.capabilities = capabilities
        self.who: ConversationKey = snapshot.who
        self.saved_state: str = record.get("state") or INITIAL_STATE
        self.data: dict[str, Any] = record.get("data") or {}
        # The choices shown last, as [label, value] or [label, value, means], so that a typed "2",
        # a typed label or a word for what a choice means can be understood as picking one of them.
        self.offered: list[list[str]] = record.get("offered") or []
        # The step (its outbox seed) that offered them, and which step's choices reached the screen.
        self.offered_in: str = record.get("offered_in") or ""
        self.shown: str = snapshot.shown
        self.step_seed = ""  # this step's outbox seed, when its replies go through the outbox
        # How the router read this step's typed message (bot.core.understanding), for a flow that
        # takes free text and still cares whether it was a number or a stray token; None otherwise.
        self.heard: Understanding | None = None
        self.services = services
        self.out = Outbox()
        self.ops: list[StoreOp] = []
        self.checks: list[Precondition] = []  # what else the step relied on (re-run if it changed)
        self.state: str = self.saved_state

    @property
    def content(self) -> Content:
        return self.services.content

    def typed_before_shown(self, sent_at: float) -> bool:
        """Whether a message sent at `sent_at` cannot have answered the choices offered now: they
        reached the person's screen after it was sent."""
        if not self.offered_in or sent_at <= 0:
            return False  # not delivered through the outbox (the local chat), or no time to compare
        seed, _, at = self.shown.rpartition("|")
        if seed != self.offered_in:
            # Not known to be on screen (a process stopped between sending and recording it): the
            # answer is taken; it can only have been sent after the choices it picks from were.
            return False
        try:
            return sent_at < float(at)
        except ValueError:
            return False

    def text(self, key: str, **params: Any) -> str:
        return self.services.content.texts.render(key, **params)

    def flow_data(self, flow: str) -> dict[str, Any]:
        return self.data.setdefault(flow, {})

    def to_record(self, *, now: datetime) -> dict[str, Any]:
        shown = self.out.last_choices()
        if shown is not None:
            self.offered = [[o.label, o.value, o.means] if o.means else [o.label, o.value] for o in shown.options]
            self.offered_in = self.step_seed
        elif self.state != self.saved_state:
            self.offered = []
            self.offered_in = ""
        return {
            "state": self.state,
            "data": self.data,
            "offered": self.offered,
            "offered_in": self.offered_in,
            "updated_at": now.isoformat(timespec="seconds"),
        }
