"""Content validation: the real content passes; every kind of problem names its file and field."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bot.content.loader import ContentError, check_content, load_content


def test_project_content_is_valid(project_root):
    assert check_content(project_root / "content") == []


def test_checklist_keeps_ipa_wording(content, project_root):
    expected = {}
    for line in (project_root / "tests/data/ipa_checklist_questions.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            no, question = line.split("\t")
            expected[int(no)] = question.replace(" ", "")
    assert {item.no: item.question for item in content.checklist.items} == expected


def test_checklist_has_ipa_scoring_and_categories(content):
    checklist = content.checklist
    assert [(a.label, a.score) for a in checklist.answers] == [
        ("実施している", 4), ("一部実施している", 2), ("実施していない", 0), ("わからない", -1)]
    assert [(c.name, c.first, c.last) for c in checklist.categories] == [
        ("基本的対策", 1, 5), ("従業員としての対策", 6, 18), ("組織としての対策", 19, 25)]
    assert checklist.item(2).footnotes[0][0] == "※1"
    assert checklist.max_score == 100


@pytest.fixture
def broken(tmp_path, project_root) -> Path:
    """A writable copy of the content directory."""
    target = tmp_path / "content"
    shutil.copytree(project_root / "content", target)
    return target


def edit_yaml(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def problems_text(content_dir: Path) -> list[str]:
    return [str(p) for p in check_content(content_dir)]


def test_schema_problem_names_file_and_field(broken):
    edit_yaml(broken / "checklist.yaml", lambda d: d["items"][6].update(question=123))
    assert "checklist.yaml: items[6].question: 123 is not of type 'string'" in problems_text(broken)


def test_missing_field_is_reported(broken):
    edit_yaml(broken / "checklist.yaml", lambda d: d["items"][0].pop("countermeasure"))
    assert any(p.startswith("checklist.yaml: items[0]: 'countermeasure' is a required property")
               for p in problems_text(broken))


def test_numbering_and_footnotes_are_cross_checked(broken):
    def change(d):
        d["items"][4]["no"] = 7
        d["items"][1]["footnotes"] = []
    edit_yaml(broken / "checklist.yaml", change)
    found = problems_text(broken)
    assert any(p.startswith("checklist.yaml: items: items must be numbered 1..25") for p in found)
    assert "checklist.yaml: items[1].footnotes: the question uses ※1 but does not list it" in found


def test_texts_are_checked_against_the_code(broken):
    def change(d):
        del d["menu.prompt"]
        d["diagnosis.question"] = "No.{number} {question}"
        d["menu.promt"] = "typo"
    edit_yaml(broken / "texts.yaml", change)
    found = problems_text(broken)
    assert "texts.yaml: menu.prompt: missing (the code uses this text)" in found
    assert any(p.startswith("texts.yaml: diagnosis.question: unknown placeholder(s) ['number']") for p in found)
    assert "texts.yaml: menu.promt: unknown key (not used by the code; a typo?)" in found


def test_broken_yaml_and_missing_file(broken):
    (broken / "phrases.yaml").write_text("commands: [unclosed", encoding="utf-8")
    (broken / "security_action.yaml").unlink()
    found = problems_text(broken)
    assert any(p.startswith("phrases.yaml: not valid YAML") for p in found)
    assert "security_action.yaml: file is missing" in found


def test_load_refuses_broken_content(broken):
    edit_yaml(broken / "checklist.yaml", lambda d: d["answers"].reverse())
    with pytest.raises(ContentError) as error:
        load_content(broken)
    assert "answers must be ['done', 'partial', 'not_done', 'unknown'] in this order" in str(error.value)


def test_unknown_files_are_reported(broken):
    (broken / "incidents" / "ransomwear.yaml").write_text("id: x\n", encoding="utf-8")
    (broken / "lessons" / "lesson1.yaml").write_text("item: 1\n", encoding="utf-8")
    found = problems_text(broken)
    assert "incidents/ransomwear.yaml: unknown file: the bot does not read it" in found
    assert any(p.startswith("lessons/lesson1.yaml: lesson files are named itemNN.yaml") for p in found)


def test_lessons_incidents_and_contacts_are_cross_checked(broken):
    edit_yaml(broken / "lessons" / "item04.yaml", lambda d: d["quiz"][0].update(answer=3, choices=["a", "b", "c"]))
    edit_yaml(broken / "incidents" / "bec.yaml", lambda d: d.update(contacts=["no_such_desk"]))
    edit_yaml(broken / "contacts.yaml", lambda d: d["contacts"][1].pop("when_closed"))
    found = problems_text(broken)
    assert "lessons/item04.yaml: quiz[0].answer: 3 is not the index of one of the choices" in found
    assert "incidents/bec.yaml: contacts[0]: no contact 'no_such_desk' in contacts.yaml" in found
    assert ("contacts.yaml: contacts[1].when_closed: a contact that closes must say what to do while it is closed"
            in found)
