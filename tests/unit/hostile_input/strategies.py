"""Hypothesis settings and the strategies every hostile-input surface draws from."""

from __future__ import annotations

import string

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Function-scoped fixtures set env and wiring once per test; every example shares them on purpose.
PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
SMALL = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# ---------------------------------------------------------------------------------------- strategies
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=25,
)
header_names = st.text(alphabet=string.ascii_letters + "-", min_size=1, max_size=20)
extra_headers = st.dictionaries(header_names, st.text(max_size=40), max_size=5)
