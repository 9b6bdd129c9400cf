"""組織設定: the organisation behind a workspace and who is told about what."""
