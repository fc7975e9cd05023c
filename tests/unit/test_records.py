"""Validation errors a person reads: msgspec's place for a dict entry (``[...]``) is resolved to its key, a
missing or unknown field is named as the place to fix, and malformed JSON is a ValidationError too."""

from __future__ import annotations

from typing import Annotated

import pytest
from msgspec import Meta, field

from triage_gate.records import FrozenRecord, Record, ValidationError, error_location

Name = Annotated[str, Meta(pattern=r"^[a-z]+\Z")]


class Route(FrozenRecord, frozen=True, kw_only=True):
    kind: str
    max_tokens: Annotated[int, Meta(ge=16)] = 400


class Doc(Record, kw_only=True):
    routes: dict[Name, Route] = field(default_factory=dict)
    steps: list[Route] = field(default_factory=list)


def _where(data: object) -> tuple[str, str]:
    with pytest.raises(ValidationError) as caught:
        Doc.from_data(data)
    return error_location(caught.value, data, Doc)


def test_a_dict_entry_is_named_by_its_key() -> None:
    data = {"routes": {"local": {"kind": "local"}, "sonnet": {"kind": "claude", "max_tokens": 3}}}

    assert _where(data) == ("routes.sonnet.max_tokens", "Expected `int` >= 16")


def test_a_bad_key_is_named() -> None:
    where, message = _where({"routes": {"local": {"kind": "local"}, "Bad": {"kind": "local"}}})

    assert where == "routes.Bad"
    assert "regex" in message


def test_list_items_missing_and_unknown_fields_name_the_field() -> None:
    assert _where({"steps": [{"kind": "a"}, {}]}) == ("steps.1.kind", "Object missing required field `kind`")
    assert _where({"routes": {"a": {"kind": "a", "typo": 1}}})[0] == "routes.a.typo"
    assert _where({"nope": 1}) == ("nope", "Object contains unknown field `nope`")


def test_malformed_json_is_a_validation_error_and_replace_does_not_validate() -> None:
    with pytest.raises(ValidationError, match="not JSON"):
        Doc.from_json("{")
    route = Route.from_data({"kind": "local"})

    assert route.replace(max_tokens=1).max_tokens == 1  # a derived variant, as pydantic's model_copy
    with pytest.raises(AttributeError, match="no field 'nope'"):
        route.replace(nope=1)


def _struct_classes(root: type) -> set[type]:
    found = {root}
    for sub in root.__subclasses__():
        found |= _struct_classes(sub)
    return found


def test_decoded_structs_carry_annotations_as_objects_not_strings() -> None:
    """msgspec resolves a Struct's types at its first decode: string annotations (``from __future__ import
    annotations``) are compiled and evaluated then, on the cold start's clock (~5 ms for the policy)."""
    import triage_gate.config as config
    import triage_gate.intake.hubspot
    import triage_gate.intake.zendesk
    import triage_gate.messages
    import triage_gate.policy
    import triage_gate.triage.decision  # noqa: F401 - imported for the Records it defines

    layer_classes = {
        cls
        for cls in _struct_classes(Record) | _struct_classes(FrozenRecord) | _struct_classes(config.EnvSettings)
        if cls.__module__.startswith("triage_gate.")
    } | {config.VendorSecrets}
    stringly = {
        f"{cls.__module__}.{cls.__qualname__}.{name}"
        for cls in layer_classes
        for name, annotation in vars(cls).get("__annotations__", {}).items()
        if isinstance(annotation, str)
    }

    assert len(layer_classes) > 30  # the policy, the messages, the decision record, the payloads, the settings
    assert stringly == set()
