"""JSON schemas of the files under content/ (checked with jsonschema)."""

_TEXT = {"type": "string", "minLength": 1}
_URL = {"type": "string", "pattern": r"^https?://\S+$"}
_PHRASE_LIST = {"type": "array", "items": _TEXT, "minItems": 1}

CHECKLIST = {
    "type": "object",
    "required": ["source", "answers", "categories", "footnotes", "items"],
    "additionalProperties": False,
    "properties": {
        "source": {
            "type": "object",
            "required": ["title", "publisher", "url"],
            "additionalProperties": False,
            "properties": {"title": _TEXT, "publisher": _TEXT, "url": _URL},
        },
        "answers": {
            "type": "array",
            "minItems": 4,
            "maxItems": 4,
            "items": {
                "type": "object",
                "required": ["id", "label", "score"],
                "additionalProperties": False,
                "properties": {
                    "id": {"type": "string", "pattern": "^[a-z_]+$"},
                    "label": {"type": "string", "minLength": 1, "maxLength": 20},
                    "score": {"type": "integer"},
                },
            },
        },
        "categories": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["id", "name", "first", "last"],
                "additionalProperties": False,
                "properties": {
                    "id": {"type": "string", "pattern": "^[a-z_]+$"},
                    "name": _TEXT,
                    "first": {"type": "integer", "minimum": 1},
                    "last": {"type": "integer", "minimum": 1},
                },
            },
        },
        "footnotes": {"type": "object", "additionalProperties": _TEXT},
        "items": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["no", "topic", "question", "footnotes", "countermeasure", "how_to_check"],
                "additionalProperties": False,
                "properties": {
                    "no": {"type": "integer", "minimum": 1},
                    # Shown on buttons and in lists: keep it short.
                    "topic": {"type": "string", "minLength": 1, "maxLength": 20},
                    "question": {"type": "string", "minLength": 10, "maxLength": 200},
                    "footnotes": {"type": "array", "items": _TEXT},
                    "countermeasure": {"type": "string", "minLength": 40, "maxLength": 400},
                    "how_to_check": {"type": "string", "minLength": 15, "maxLength": 250},
                },
            },
        },
    },
}

SECURITY_ACTION = {
    "type": "object",
    "required": ["url", "one_star", "two_star"],
    "additionalProperties": False,
    "properties": {
        "url": _URL,
        "one_star": {
            "type": "object",
            "required": ["name", "requirement", "items"],
            "additionalProperties": False,
            "properties": {
                "name": _TEXT,
                "requirement": _TEXT,
                "items": {"type": "array", "items": {"type": "integer"}, "minItems": 1},
            },
        },
        "two_star": {
            "type": "object",
            "required": ["name", "requirement", "steps"],
            "additionalProperties": False,
            "properties": {
                "name": _TEXT,
                "requirement": _TEXT,
                "steps": {"type": "array", "items": _TEXT, "minItems": 1},
            },
        },
    },
}

TEXTS = {
    "type": "object",
    "additionalProperties": _TEXT,
}

PHRASES = {
    "type": "object",
    "required": ["commands", "topics"],
    "additionalProperties": False,
    "properties": {
        "commands": {
            "type": "object",
            "required": ["menu", "cancel", "help", "back", "restart", "progress"],
            "additionalProperties": _PHRASE_LIST,
        },
        "topics": {
            "type": "object",
            "required": ["diagnosis", "history"],
            "additionalProperties": _PHRASE_LIST,
        },
    },
}
