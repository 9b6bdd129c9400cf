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


# --- incident kinds are content --------------------------------------------------------

NEW_KIND_EXAMPLES = [
    "社内の量子計算機が勝手に暴走している",
    "量子計算機の制御盤が乗っ取られたみたい",
    "量子計算機から変な信号が出続けている",
    "うちの量子計算機がおかしい、止まらない",
    "量子計算機の冷却装置を誰かが遠隔で操作している",
]


def add_kind(content_dir: Path, kind: str = "quantum_incident", *, malicious: bool = True) -> None:
    """A 14th playbook, written as a content editor would: its file, its line in the policy, its examples."""
    def playbook(d):
        d.update(id=kind, name="量子計算機の暴走", malicious=malicious, severity="medium",
                 contacts=["ipa_cs_support", "ppc_leak_report"])
    shutil.copy(content_dir / "incidents" / "dos.yaml", content_dir / "incidents" / f"{kind}.yaml")
    edit_yaml(content_dir / "incidents" / f"{kind}.yaml", playbook)
    edit_yaml(content_dir / "incidents" / "policy.yaml", lambda d: d["kinds"].append(kind))
    edit_yaml(content_dir / "intents.yaml", lambda d: d["examples"].update({kind: NEW_KIND_EXAMPLES}))


def test_a_new_playbook_needs_no_code(broken):
    from datetime import datetime

    from bot.core.classifier import IntentClassifier
    from bot.core.engine import JST
    from bot.flows.incidents.escalation import (
        leak_deadlines,
        roles_to_notify,
        route_contacts,
        severity,
    )

    add_kind(broken)
    assert problems_text(broken) == []
    content = load_content(broken)
    incidents = content.incidents
    assert incidents.kinds[-1] == "quantum_incident" and list(incidents.playbooks)[-1] == "quantum_incident"
    assert incidents.kinds[:2] == ("ransomware", "malware")  # the order of the policy
    assert "quantum_incident" in content.intents.incident_kinds
    prediction = IntentClassifier(content.intents).classify("量子計算機が暴走しています")
    assert prediction.intent == "quantum_incident"
    playbook = incidents.playbooks["quantum_incident"]
    answers = {"personal_data": "yes", "still_spreading": "yes"}
    assert severity(playbook, answers, incidents.escalation) == "high"
    assert "privacy_officer" in roles_to_notify("high", answers, incidents.escalation)
    routed = route_contacts(playbook, answers, incidents.contacts, incidents.escalation)
    assert [c.id for c in routed] == ["ipa_cs_support", "ppc_leak_report"]
    assert leak_deadlines(playbook, datetime(2026, 11, 20, 10, 0, tzinfo=JST)).final_days == 60


def test_a_kind_marked_malicious_gets_60_days(broken):
    from datetime import datetime

    from bot.flows.incidents.escalation import leak_deadlines

    edit_yaml(broken / "incidents" / "dos.yaml", lambda d: d.update(malicious=True))
    edit_yaml(broken / "incidents" / "ransomware.yaml", lambda d: d.update(malicious=False))
    playbooks = load_content(broken).incidents.playbooks
    found = datetime(2026, 11, 20, 10, 0)
    assert leak_deadlines(playbooks["dos"], found).final_days == 60
    assert leak_deadlines(playbooks["ransomware"], found).final_days == 30


def test_severity_rules_and_roles_come_from_the_content(broken):
    from bot.flows.incidents.escalation import roles_to_notify, severity

    def triage(d):
        d["still_spreading"]["on_yes"] = {"severity": {"raise": 2}, "roles": ["it_vendor"]}
        d["money_transferred"]["on_yes"] = {"severity": {"at_least": "high"}}
    edit_yaml(broken / "incidents" / "triage.yaml", triage)
    edit_yaml(broken / "incidents" / "policy.yaml", lambda d: d["roles"].update(medium=["executive"]))
    incidents = load_content(broken).incidents
    rules, extortion = incidents.escalation, incidents.playbooks["extortion_email"]
    assert severity(extortion, {"still_spreading": "yes"}, rules) == "high"
    assert severity(extortion, {"money_transferred": "yes"}, rules) == "high"
    assert roles_to_notify("medium", {"still_spreading": "yes"}, rules) == ("executive", "it_vendor")


def test_incident_kinds_and_rules_are_cross_checked(broken):
    edit_yaml(broken / "incidents" / "policy.yaml", lambda d: d["kinds"].extend(["no_such_kind", "help"]))
    edit_yaml(broken / "incidents" / "triage.yaml",
              lambda d: d["personal_data"].update(on_yes={"severity": {"at_least": "urgent"}}))
    edit_yaml(broken / "incidents" / "bec.yaml", lambda d: d.pop("malicious"))
    edit_yaml(broken / "contacts.yaml", lambda d: d["contacts"][0].update(for_kinds=["ransomwear"]))
    found = problems_text(broken)
    assert "incidents/no_such_kind.yaml: file is missing" in found
    assert any(p.startswith("incidents/policy.yaml: kinds[14]: 'help' is already an intent") for p in found)
    assert any(p.startswith("incidents/triage.yaml: personal_data.on_yes.severity.at_least: 'urgent' is not one of")
               for p in found)
    assert "incidents/bec.yaml: 'malicious' is a required property" in found
    assert any(p.startswith("contacts.yaml: contacts[0].for_kinds[0]: 'ransomwear' is not one of") for p in found)
    assert any(p.startswith("intents.yaml: examples: 'no_such_kind' is a required property") for p in found)


def test_severities_need_roles_and_a_label(broken):
    def policy(d):
        d["severities"].append("urgent")
        d["roles"]["extreme"] = ["executive"]
    edit_yaml(broken / "incidents" / "policy.yaml", policy)
    found = problems_text(broken)
    assert ("incidents/policy.yaml: severities[4]: the code has no label incident.severity_urgent for 'urgent'"
            in found)
    assert "incidents/policy.yaml: roles: no roles for severity 'urgent'" in found
    assert "incidents/policy.yaml: roles.extreme: 'extreme' is not one of the severities" in found


def test_load_content_parses_each_file_once(project_root, monkeypatch):
    from collections import Counter

    from bot.content import reader

    read = Counter()
    real = reader.read_yaml

    def counting(path, name, problems):
        read[name] += 1
        return real(path, name, problems)

    monkeypatch.setattr(reader, "read_yaml", counting)
    load_content(project_root / "content")
    assert read and max(read.values()) == 1
    assert {"checklist.yaml", "incidents/policy.yaml", "incidents/ransomware.yaml", "lessons/item01.yaml"} <= set(read)


# --- opening hours, the reporting rule and the score bands are content -------------------------

def test_opening_hours_are_checked(broken):
    def contacts(d):
        anshin = d["contacts"][1]
        anshin["hours"]["weekdays"] = [["13:00", "12:00"]]
        anshin["hours"]["closed"] = ["golden_week"]
        d["contacts"][4]["hours"] = {"always": True, "weekdays": [["09:00", "17:00"]]}
        d["contacts"][5]["hours"] = {"closed": ["year_end"]}
        d["closures"]["leap"] = {"from": "02-30", "to": "03-01", "label": "休み"}
    edit_yaml(broken / "contacts.yaml", contacts)
    found = problems_text(broken)
    assert "contacts.yaml: contacts[1].hours.weekdays[0]: starts after it ends" in found
    assert "contacts.yaml: contacts[1].hours.closed[0]: no closure 'golden_week' under closures" in found
    assert "contacts.yaml: contacts[4].hours: always: true leaves no room for ['weekdays']" in found
    assert any(p.startswith("contacts.yaml: contacts[5].hours: needs always, or ranges for one of") for p in found)
    assert "contacts.yaml: closures.leap.from: is not a day" in found


def test_a_time_past_24_00_is_a_schema_problem(broken):
    edit_yaml(broken / "contacts.yaml", lambda d: d["contacts"][6]["hours"].update(saturdays=[["09:00", "25:00"]]))
    assert any(p.startswith("contacts.yaml: contacts[6].hours.saturdays[0][1]: '25:00' does not match")
               for p in problems_text(broken))


def test_a_changed_closure_changes_the_hours(broken):
    from datetime import datetime

    from bot.core.engine import JST
    from bot.flows.incidents.escalation import is_open

    edit_yaml(broken / "contacts.yaml", lambda d: d["closures"]["bank_year_end"].update({"from": "12-30"}))
    bank = load_content(broken).incidents.contacts["bank_fraud_desk"]
    assert is_open(bank, datetime(2026, 12, 29, 10, 0, tzinfo=JST))
    assert not is_open(bank, datetime(2026, 12, 30, 10, 0, tzinfo=JST))


def test_what_an_answer_says_about_reporting_is_checked(broken):
    edit_yaml(broken / "incidents" / "triage.yaml",
              lambda d: d["leak_report_trigger"]["on_yes"].update(leak_report="maybe"))
    assert any(p.startswith("incidents/triage.yaml: leak_report_trigger.on_yes.leak_report: 'maybe' is not one of")
               for p in problems_text(broken))


def test_score_bands_are_checked(broken):
    def bands(d):
        d["score_bands"][1]["min"] = 100
        d["score_bands"][3]["min"] = -20
    edit_yaml(broken / "checklist.yaml", bands)
    found = problems_text(broken)
    assert any(p.startswith("checklist.yaml: score_bands: bands go from the highest min to the lowest") for p in found)
    assert "checklist.yaml: score_bands[3].min: the last band must reach the lowest total, -25" in found


# --- one spelling per word ---------------------------------------------------------------------

def test_the_spelling_list_is_the_long_vowel_style(project_root):
    spelling = yaml.safe_load((project_root / "content" / "spelling.yaml").read_text(encoding="utf-8"))["use"]
    for right, wrong in (("ブラウザー", "ブラウザ"), ("フォルダー", "フォルダ"), ("メモリー", "メモリ"),
                         ("サーバー", "サーバ"), ("コンピューター", "コンピュータ")):
        assert wrong in spelling[right], right


def test_a_spelling_not_to_use_is_reported_where_a_user_reads_it(broken):
    edit_yaml(broken / "lessons" / "item10.yaml", lambda d: d["points"].__setitem__(0, d["points"][0] + "ブラウザを使う。"))
    edit_yaml(broken / "incidents" / "lost_device.yaml", lambda d: d["do"].__setitem__(0, "USBメモリをなくしたら報告する。"))
    edit_yaml(broken / "texts.yaml", lambda d: d.update({"menu.help": "サーバの使い方"}))
    edit_yaml(broken / "contacts.yaml", lambda d: d["contacts"][0].update(handles="コンピュータの相談を受け付けます。"))
    edit_yaml(broken / "checklist.yaml", lambda d: d["items"][10].update(
        countermeasure=d["items"][10]["countermeasure"] + "共有フォルダに置きます。"))
    found = problems_text(broken)
    assert "lessons/item10.yaml: points[0]: writes 'ブラウザ': write 'ブラウザー' (spelling.yaml)" in found
    assert "incidents/lost_device.yaml: do[0]: writes 'メモリ': write 'メモリー' (spelling.yaml)" in found
    assert "texts.yaml: menu.help: writes 'サーバ': write 'サーバー' (spelling.yaml)" in found
    assert "contacts.yaml: contacts[0].handles: writes 'コンピュータ': write 'コンピューター' (spelling.yaml)" in found
    assert "checklist.yaml: items[10].countermeasure: writes 'フォルダ': write 'フォルダー' (spelling.yaml)" in found
    assert len([p for p in found if "spelling.yaml" in p]) == 5


def test_ipa_wording_and_kept_names_are_left_alone(broken):
    # The checklist's footnote ※1 is IPA's: 「コンピュータウイルス」 stays as IPA writes it.
    edit_yaml(broken / "checklist.yaml", lambda d: d["items"][0].update(question=d["items"][0]["question"] + "（サーバ）"))
    edit_yaml(broken / "spelling.yaml", lambda d: d.update(keep=["プロバイダ責任制限法"]))
    edit_yaml(broken / "incidents" / "dos.yaml", lambda d: d["follow_up"].__setitem__(
        0, "プロバイダ責任制限法に沿って、プロバイダに削除を頼みます。"))
    found = [p for p in problems_text(broken) if "spelling.yaml" in p]
    assert found == ["incidents/dos.yaml: follow_up[0]: writes 'プロバイダ': write 'プロバイダー' (spelling.yaml)"]


def test_the_spelling_list_is_checked(broken):
    edit_yaml(broken / "spelling.yaml", lambda d: d.update(
        use={**d["use"], "ブラウザ": ["ブラウザ"]}, keep=["ブラウザー"]))
    found = problems_text(broken)
    assert "spelling.yaml: use.ブラウザ[0]: 'ブラウザ' is also a spelling to use" in found
