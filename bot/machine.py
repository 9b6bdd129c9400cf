"""All flows combined into one conversation state machine, built once."""
from __future__ import annotations

from typing import Any

from transitions.extensions.asyncio import AsyncMachine

from .conversation import INITIAL_STATE
from .flows import Flow
from .flows import diagnosis, menu

# Menu order; the menu flow comes last so that its catch-all transitions
# (source "*") are tried after every flow's own.
DEFAULT_FLOWS: tuple[Flow, ...] = (diagnosis.FLOW, menu.FLOW)


def _definition(flows: tuple[Flow, ...]) -> dict[str, Any]:
    return {
        "states": [state for flow in flows for state in flow.states],
        "transitions": [transition for flow in flows for transition in flow.transitions],
        "initial": INITIAL_STATE,
        "auto_transitions": False,
    }


def build_machine(flows: tuple[Flow, ...] = DEFAULT_FLOWS) -> AsyncMachine:
    return AsyncMachine(model=None, send_event=True, ignore_invalid_triggers=False, **_definition(flows))


def mermaid_diagram(flows: tuple[Flow, ...] = DEFAULT_FLOWS) -> str:
    """The conversation machine as a Mermaid state diagram, drawn by transitions itself."""
    from transitions.extensions.diagrams import GraphMachine

    class Drawing:
        pass

    drawing = Drawing()
    GraphMachine(model=drawing, graph_engine="mermaid", show_conditions=True, title="Conversation",
                 **_definition(flows))
    return drawing.get_graph().draw(None)
