"""Plausible answers for the optional tool properties Triage Gate may ask for beside the tasks: `sentiment`,
`urgent` and a reviewer `gist` (see triage_gate.triage.prompt). The fake model reads the ticket's fenced subject
and text in the user turn and answers by simple keyword rules (English, German, French, Spanish, Portuguese,
Italian), so the local stack and the demo show signals that follow the ticket. Values stay inside the tool's schema
(an enum value the schema lists, a boolean, a string within `maxLength`).
"""

from __future__ import annotations

import html
import re
from typing import Any

from triage_local.sandboxes import tool_inputs

NEGATIVE = re.compile(
    r"\b(angry|frustrat\w*|unacceptable|terrible|awful|disappointed|worst|ridiculous|furious|still broken|"
    r"verärgert|enttäuscht|inakzeptabel|unverschämt|furieux|inacceptable|déçu\w*|inaceptable|decepcionad\w*|"
    r"pésimo|péssimo|inaceitável|inaccettabile|delus\w*)\b",
    re.IGNORECASE,
)
POSITIVE = re.compile(
    r"\b(thanks?|thank you|great|love|awesome|excellent|danke|vielen dank|merci|gracias|obrigad[oa]|grazie)\b",
    re.IGNORECASE,
)
URGENT = re.compile(
    r"\b(urgent\w*|asap|outage|down|emergency|immediately|dringend|sofort|ausfall|ausgefallen|urgence|panne|"
    r"urgente|caído|inmediato|imediatamente|subito)\b",
    re.IGNORECASE,
)
_FENCE = re.compile(r"<(subject|ticket)>\s*(.*?)\s*</\1>", re.DOTALL)
_GIST_LANGUAGES = re.compile(r"in (?P<into>.+?) for a reviewer who does not read (?P<source>.+?)\.?$")
SUBJECT_IN_GIST = 80


def ticket_text(body: dict[str, Any]) -> str:
    """The subject and ticket text of the request's user turn (unescaped), or the whole user turn when unfenced."""
    turns = [m for m in body.get("messages") or [] if isinstance(m, dict) and m.get("role") == "user"]
    content = turns[-1].get("content") if turns else ""
    if isinstance(content, list):
        content = " ".join(str(b.get("text", "")) for b in content if isinstance(b, dict))
    text = str(content or "")
    fenced = [html.unescape(value) for _, value in _FENCE.findall(text)]
    return "\n".join(fenced) if fenced else text


def sentiment_of(text: str) -> str:
    if NEGATIVE.search(text):
        return "negative"
    return "positive" if POSITIVE.search(text) else "neutral"


def is_urgent(text: str) -> bool:
    return URGENT.search(text) is not None


def gist_of(text: str, description: str, max_chars: int) -> str:
    """A gist that says which language it summarises (the sandbox does not translate): it quotes the opening."""
    languages = _GIST_LANGUAGES.search(description.strip())
    into, source = (languages["into"], languages["source"]) if languages else ("the agents' language", "its language")
    opening = " ".join(text.split())[:SUBJECT_IN_GIST]
    gist = f"Sandbox gist in {into} of a ticket written in {source}: the customer writes about “{opening}”."
    return gist[:max_chars]


def answers(tool: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """Answers for whichever of `sentiment`, `urgent` and `gist` the tool's schema has (nothing else)."""
    schema = tool.get("input_schema") or {}
    properties = tool_inputs.resolve(schema, schema).get("properties") or {}
    text = ticket_text(body)
    given: dict[str, Any] = {}
    if "sentiment" in properties:
        allowed = tool_inputs.resolve(properties["sentiment"], schema).get("enum") or []
        guess = sentiment_of(text)
        given["sentiment"] = guess if guess in allowed or not allowed else allowed[0]
    if "urgent" in properties:
        given["urgent"] = is_urgent(text)
    if "gist" in properties:
        spec = tool_inputs.resolve(properties["gist"], schema)
        given["gist"] = gist_of(text, str(spec.get("description", "")), int(spec.get("maxLength", 600)))
    return given


def with_side_answers(
    tool: dict[str, Any], body: dict[str, Any], valid: dict[str, Any], *, keep: bool
) -> dict[str, Any]:
    """`valid` with the plausible side answers: replacing the schema's example values, or (``keep``: a responder's
    input) only where the responder gave none."""
    plausible = answers(tool, body)
    if keep:
        return {**valid, **{key: value for key, value in plausible.items() if key not in valid}}
    return {key: plausible.get(key, value) for key, value in valid.items()}
