"""The architecture drawn in the README, checked: import contracts, a feature-free engine, and
no user-facing Japanese in Python (it lives in content/)."""
from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

from bot.flows import DEFAULT_FLOWS

BOT = Path(__file__).resolve().parent.parent / "bot"

# Japanese script, its punctuation and full-width forms.
_JAPANESE = re.compile(r"[\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff01-\uff9f]")
# Punctuation a regular expression may fold away (「、」 in a pattern is not a list separator)...
REGEX_ALLOWED = set("　、。，．・「」『』（）【】！？〜…：；ー")
# ...and the full-width space, which aligns columns in the terminal.
ALLOWED = set("　")


def _python_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _regex_patterns(tree: ast.AST) -> set[int]:
    """String constants passed to a function of the `re` module."""
    found = set()
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "re"):
            found.update(id(arg) for arg in node.args if isinstance(arg, ast.Constant))
    return found


def _string_literals(path: Path) -> list[tuple[int, str, bool]]:
    """Every string constant except docstrings (f-string parts included), and whether it is a pattern."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs, patterns = _docstrings(tree), _regex_patterns(tree)
    return [(node.lineno, node.value, id(node) in patterns) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs]


def _japanese_in(value: str, *, pattern: bool) -> set[str]:
    allowed = REGEX_ALLOWED if pattern else ALLOWED
    return {ch for ch in _JAPANESE.findall(value) if ch not in allowed}


def test_import_contracts_hold():
    lint = Path(sys.executable).parent / "lint-imports"
    done = subprocess.run([str(lint), "--no-cache"], cwd=BOT.parent, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_no_japanese_string_literals_in_python():
    offenders = []
    for path in _python_files(BOT):
        for line, value, pattern in _string_literals(path):
            if _japanese_in(value, pattern=pattern):
                offenders.append(f"{path.relative_to(BOT.parent)}:{line}: {value[:40]!r}")
    assert not offenders, "user-facing Japanese belongs in content/:\n" + "\n".join(offenders)


def test_the_check_finds_japanese_when_there_is_some(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text('"""ドキュメントは可。"""\nimport re\nPATTERN = re.compile("[、。]")\n'
                      'GREETING = f"こんにちは{1}"\nSEPARATOR = "、"\nPAD = "　"\n', encoding="utf-8")
    flagged = [value for _, value, pattern in _string_literals(sample) if _japanese_in(value, pattern=pattern)]
    assert sorted(flagged) == sorted(["こんにちは", "、"])


def _feature_words() -> set[str]:
    """Names only features use: flow names, their states and their own triggers."""
    core = {"start", "show_menu", "not_understood", "stale_choice", "show_progress", "cancel", "back", "show_help"}
    words = set()
    for flow in DEFAULT_FLOWS:
        if flow.name == "menu":
            continue
        words.add(flow.name)
        words.update(flow.states)
        words.update(t["trigger"] for t in flow.transitions if t["trigger"] not in core)
    return words


def test_the_engine_and_router_name_no_feature():
    words = _feature_words()
    assert {"report_incident", "start_diagnosis", "open_lesson", "start_admin"} <= words
    for name in ("engine.py", "router.py", "machine.py", "flow.py", "delivery.py", "understanding.py"):
        path = BOT / "core" / name
        tree = ast.parse(path.read_text(encoding="utf-8"))
        identifiers = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
        identifiers |= {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
        literals = {value for _, value, _ in _string_literals(path)}
        named = {w for w in words if w in literals or any(w in i.lower() for i in identifiers)}
        assert not named, f"bot/core/{name} names features: {sorted(named)}"
