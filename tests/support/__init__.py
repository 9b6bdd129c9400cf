"""What tests share: the local fakes of Slack and LINE, requests as those platforms send them,
and small helpers. Fixtures stay in tests/conftest.py."""
