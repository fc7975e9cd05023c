"""The characters intake refuses in a queue body are exactly those SQS refuses (its documented allowed set:
#x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF), checked over every code point."""

from __future__ import annotations

from triage_gate.intake.queueable import _UNSENDABLE_IN_BODY


def _sqs_accepts(code_point: int) -> bool:
    return (
        code_point in (0x9, 0xA, 0xD)
        or 0x20 <= code_point <= 0xD7FF
        or 0xE000 <= code_point <= 0xFFFD
        or 0x10000 <= code_point <= 0x10FFFF
    )


def test_refused_characters_are_the_complement_of_what_sqs_accepts() -> None:
    every = "".join(chr(code_point) for code_point in range(0x110000))

    refused = [match.start() for match in _UNSENDABLE_IN_BODY.finditer(every)]

    assert refused == [code_point for code_point in range(0x110000) if not _sqs_accepts(code_point)]
