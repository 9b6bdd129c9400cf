"""Loading and validating the data under content/ (questions, lessons, playbooks, texts)."""
