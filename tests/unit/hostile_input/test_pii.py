"""PII never survives masking: e-mails, card numbers and IBANs, alone, together, next to other words."""

from __future__ import annotations

import string

from hypothesis import example, given
from hypothesis import strategies as st

from tests.builders import grouped, iban, luhn_complete
from tests.unit.hostile_input.strategies import PROPERTY, SMALL
from triage_gate.triage.pii import mask_pii

# ------------------------------------------------------------------------------------------- PII
emails = st.builds(
    lambda local, domain, tld: f"{local}@{domain}.{tld}",
    st.text(alphabet=string.ascii_letters + string.digits + "._+-", min_size=1, max_size=15).filter(
        lambda s: s[0].isalnum()
    ),
    st.text(alphabet=string.ascii_lowercase + string.digits + "-", min_size=1, max_size=12).filter(
        lambda s: s[0].isalnum()
    ),
    st.text(alphabet=string.ascii_lowercase, min_size=2, max_size=6),
)
cards = st.builds(
    lambda digits, sep: grouped(luhn_complete(digits), sep),
    st.text(alphabet=string.digits, min_size=12, max_size=18).filter(lambda d: d[0] != "0"),
    st.sampled_from(["", " ", "-"]),
)
ibans = st.builds(
    lambda country, bban, spaced: grouped(iban(country, bban), " " if spaced else ""),
    st.text(alphabet=string.ascii_uppercase, min_size=2, max_size=2),
    st.text(alphabet=string.digits + string.ascii_uppercase, min_size=11, max_size=30),
    st.booleans(),
)
# Lower-case filler keeps the generated words apart from the values; upper-case neighbours are tested too.
filler = st.lists(st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=10), max_size=8).map(" ".join)


@PROPERTY
@given(before=filler, after=filler, value=emails | cards | ibans, sep=st.sampled_from([" ", ": ", " (", "\n"]))
def test_mask_pii_leaves_no_raw_value(before: str, after: str, value: str, sep: str) -> None:
    text = f"{before}{sep}{value} {after}"
    masked = mask_pii(text).text
    assert value not in masked
    if " " in value or "-" in value:
        assert value.replace(" ", "").replace("-", "") not in masked.replace(" ", "").replace("-", "")


@SMALL
@given(values=st.lists(emails | cards | ibans, min_size=2, max_size=5), glue=filler)
def test_mask_pii_masks_several_values_in_one_text(values: list[str], glue: str) -> None:
    text = f" {glue} ".join(values)
    masked = mask_pii(text).text
    for value in values:
        assert value not in masked


@SMALL
@example(value="DE89 3704 0044 0532 0130 00", after="ASAP")
@given(value=ibans, after=st.text(alphabet=string.ascii_uppercase + string.digits, min_size=1, max_size=6))
def test_mask_pii_masks_an_iban_followed_by_an_uppercase_word(value: str, after: str) -> None:
    assert value not in mask_pii(f"my IBAN is {value} {after} thanks").text
