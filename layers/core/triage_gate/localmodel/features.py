"""Text → features, shared by training and inference so the two can never drift apart.

Standard library only: this module runs inside Lambda from the layer.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

# Letters and digits (any script); an apostrophe inside a word is kept together ("don't").
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})
NUMBER_TOKEN = "<num>"
"""Stands in for any run of 3+ digits: order and invoice numbers say "there is a number", not which."""
_MIN_NUMBER_DIGITS = 3


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens; apostrophes dropped (``can't`` → ``cant``), long numbers → ``<num>``."""
    tokens = []
    for word in _WORD.findall(text.lower().translate(_APOSTROPHES)):
        token = word.replace("'", "")
        if token.isdigit() and len(token) >= _MIN_NUMBER_DIGITS:
            token = NUMBER_TOKEN
        tokens.append(token)
    return tokens


def ngrams(tokens: list[str]) -> list[str]:
    """Unigrams then bigrams (joined by one space, which no token contains)."""
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)]


def term_counts(text: str) -> dict[str, int]:
    """How often each unigram and bigram of ``text`` occurs."""
    counts: dict[str, int] = {}
    for term in ngrams(tokenize(text)):
        counts[term] = counts.get(term, 0) + 1
    return counts


def sublinear_tf(count: int) -> float:
    """1 + ln(count): a word said five times is stronger evidence than once, not five times stronger."""
    return 1.0 + math.log(count)


def smooth_idf(n_documents: int, document_frequency: int) -> float:
    """ln((1 + n) / (1 + df)) + 1, as scikit-learn's ``smooth_idf``: never zero, rare terms weigh more."""
    return math.log((1 + n_documents) / (1 + document_frequency)) + 1.0


def document_frequencies(texts: Iterable[str]) -> dict[str, int]:
    """In how many of ``texts`` each term occurs."""
    df: dict[str, int] = {}
    for text in texts:
        for term in term_counts(text):
            df[term] = df.get(term, 0) + 1
    return df
