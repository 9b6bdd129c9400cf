"""緊急相談: incident reports, playbooks, triage, escalation and records."""
