"""All flows combined into one conversation state machine, built once."""
from __future__ import annotations

from transitions.extensions.asyncio import AsyncMachine

from .conversation import INITIAL_STATE
from .flows import Flow
from .flows import diagnosis, menu

# Menu order; the menu flow comes last so that its catch-all transitions
# (source "*") are tried after every flow's own.
DEFAULT_FLOWS: tuple[Flow, ...] = (diagnosis.FLOW, menu.FLOW)


def build_machine(flows: tuple[Flow, ...] = DEFAULT_FLOWS) -> AsyncMachine:
    return AsyncMachine(
        model=None,
        states=[state for flow in flows for state in flow.states],
        transitions=[transition for flow in flows for transition in flow.transitions],
        initial=INITIAL_STATE,
        auto_transitions=False,
        send_event=True,
        ignore_invalid_triggers=False,
    )


def mermaid_diagram(flows: tuple[Flow, ...] = DEFAULT_FLOWS) -> str:
    """The conversation machine as a Mermaid state diagram (docs/flows.md)."""
    lines = ["stateDiagram-v2", f"    [*] --> {INITIAL_STATE}"]
    states = [state for flow in flows for state in flow.states]
    seen: set[str] = set()
    for flow in flows:
        for t in flow.transitions:
            sources = states if t["source"] == "*" else [t["source"]]
            for source in sources:
                dest = t["dest"] or source
                edge = f"    {source} --> {dest}: {t['trigger']}"
                if edge not in seen:
                    seen.add(edge)
                    lines.append(edge)
    return "\n".join(lines) + "\n"
