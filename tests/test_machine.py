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


def test_every_state_has_a_way_out():
    diagram = mermaid_diagram(DEFAULT_FLOWS)
    for state in ("menu", "diagnosis_asking"):
        assert f"{state} --> menu:" in diagram
        out = next(line for line in diagram.splitlines() if line.strip().startswith(f"{state} --> menu:"))
        assert "show_menu" in out and "cancel" in out
