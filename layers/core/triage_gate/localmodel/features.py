"""Text → features, shared by training and inference so the two can never drift apart.

Standard library only: this module runs inside Lambda from the layer.
"""

from __future__ import annotations

import itertools
import math
import re

FEATURIZER = "words+bigrams+prefix5/1"
"""Names this module's behaviour; artifacts record it, and a model trained on other features is refused.
Change it whenever ``term_counts`` would give a different answer for some text."""

# Letters and digits (any script); an apostrophe inside a word is kept together ("don't").
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})
NUMBER_PLACEHOLDER = "<num>"
"""Stands in for any run of 3+ digits: order and invoice numbers say "there is a number", not which."""
_MIN_NUMBER_DIGITS = 3
PREFIX_MARK = "~"
PREFIX_LENGTH = 5
"""Words longer than this also count as their first 5 letters (``~refun`` for refund, refunds, refunded):
a poor man's stemmer that helps most when labelled examples are few."""


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens; apostrophes dropped (``can't`` → ``cant``), numbers of 3+ digits → ``<num>``."""
    tokens = []
    for word in _WORD.findall(text.lower().translate(_APOSTROPHES)):
        token = word.replace("'", "")
        if token.isdigit() and len(token) >= _MIN_NUMBER_DIGITS:
            token = NUMBER_PLACEHOLDER
        tokens.append(token)
    return tokens


def ngrams(tokens: list[str]) -> list[str]:
    """The terms of a text: unigrams, bigrams (joined by a space, which no token contains), word prefixes."""
    terms = tokens + [f"{a} {b}" for a, b in itertools.pairwise(tokens)]
    terms += [PREFIX_MARK + t[:PREFIX_LENGTH] for t in tokens if len(t) > PREFIX_LENGTH]
    return terms


def term_counts(text: str) -> dict[str, int]:
    """How often each term (unigram, bigram, word prefix) of ``text`` occurs."""
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
