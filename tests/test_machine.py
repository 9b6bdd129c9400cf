"""The conversation machine: built once, shared by every conversation, documented."""
from __future__ import annotations

from bot.core.machine import flows_document, mermaid_diagram
from bot.flows import DEFAULT_FLOWS


async def test_one_machine_serves_every_event_and_keeps_no_model(engine, chat):
    machine = engine.machine
    await chat.send("自社診断")
    for _ in range(5):
        await chat.send("1")
    assert engine.machine is machine
    assert machine.models == []  # conversations are attached only while an event is handled


def test_flow_diagram_in_docs_is_current(project_root):
    documented = (project_root / "docs/flows.md").read_text(encoding="utf-8")
    assert documented == flows_document(DEFAULT_FLOWS), "run: bot diagram > docs/flows.md"


def test_every_state_has_a_way_out(engine):
    machine = engine.machine
    for state in machine.states:
        triggers = set(machine.get_triggers(state))
        assert {"show_menu", "cancel"} <= triggers, state
        for trigger in ("show_menu", "cancel"):
            destinations = {t.dest for t in machine.events[trigger].transitions[state]}
            assert destinations == {"menu"}, (state, trigger, destinations)


def test_wildcard_transitions_are_drawn_once():
    diagram = mermaid_diagram(DEFAULT_FLOWS)
    edges = [line.strip() for line in diagram.splitlines() if "-->" in line]
    assert any(e.startswith("any_state --> menu:") and "show_menu" in e and "cancel" in e for e in edges)
    # show_menu is declared once, from anywhere: it is drawn on one edge only.
    assert sum("show_menu" in e for e in edges) == 1
    # Drawn per state instead, the wildcards would make hundreds of edges; the longest edge is the
    # list of what works from anywhere (about ten triggers).
    assert len(edges) < 40 and max(len(e) for e in edges) < 250
