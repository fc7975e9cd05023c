"""ScanFreeLoader: the same models as botocore's own loader, without listing every service directory when a
client is made; the full list is still there for whoever reads it, and an unknown service fails as before."""

from __future__ import annotations

from pathlib import Path

import boto3
import botocore.session
import pytest
from botocore.exceptions import UnknownServiceError
from botocore.loaders import JSONFileLoader, Loader

from triage_gate.adapters.aws import AwsClients
from triage_gate.adapters.botocore_data import (
    KnownServices,
    MsgspecFileLoader,
    ScanFreeLoader,
    botocore_session,
    data_loader,
)

SERVICES = ("dynamodb", "sqs", "secretsmanager", "appconfigdata", "cloudwatch", "lambda")


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Making a client must not go looking for credentials (the instance metadata service)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture
def no_scan(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Fails any full listing of botocore's services; records what asked."""
    scans: list[str] = []

    def refuse(self: Loader, type_name: str) -> list[str]:
        scans.append(type_name)
        raise AssertionError(f"botocore scanned every service for {type_name}")

    monkeypatch.setattr(Loader, "list_available_services", refuse)
    return scans


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("type_name", ["service-2", "endpoint-rule-set-1"])
def test_loads_the_same_model_as_botocore(service: str, type_name: str) -> None:
    assert ScanFreeLoader().load_service_model(service, type_name) == Loader().load_service_model(service, type_name)


# botocore's own data files every client reads, beside the services' models above.
SHARED_FILES = ("endpoints", "partitions", "sdk-default-configuration", "_retry")


@pytest.mark.parametrize("name", SHARED_FILES)
def test_msgspec_decodes_botocores_shared_files_as_botocore_does(name: str) -> None:
    path = f"{Loader.BUILTIN_DATA_PATH}/{name}"
    ours, botocores = MsgspecFileLoader().load_file(path), JSONFileLoader().load_file(path)

    assert ours is not None
    assert ours == botocores
    assert list(ours) == list(botocores)  # the same key order (botocore's are OrderedDicts)


def test_the_loader_decodes_with_msgspec_and_finds_gzipped_models(monkeypatch: pytest.MonkeyPatch) -> None:
    decoded: list[str] = []
    original = MsgspecFileLoader._load_file

    def spy(self: MsgspecFileLoader, full_path: str, open_method: object) -> object:
        found = original(self, full_path, open_method)
        if found is not None:
            decoded.append(full_path)
        return found

    monkeypatch.setattr(MsgspecFileLoader, "_load_file", spy)
    loader = ScanFreeLoader()
    assert isinstance(loader.file_loader, MsgspecFileLoader)

    model = loader.load_service_model("dynamodb", "service-2")

    assert model["metadata"]["serviceId"] == "DynamoDB"
    assert any(path.endswith("dynamodb/2012-08-10/service-2.json.gz") for path in decoded)
    assert MsgspecFileLoader().load_file(f"{Loader.BUILTIN_DATA_PATH}/no-such-file") is None


def test_a_botocore_whose_file_loading_takes_more_arguments_gets_its_own_decoding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[tuple[object, ...]] = []

    def botocores_own(self: JSONFileLoader, full_path: str, open_method: object, *more: object) -> object:
        seen.append(more)
        return {"decoded by": "botocore"}

    monkeypatch.setattr(JSONFileLoader, "_load_file", botocores_own)

    assert MsgspecFileLoader()._load_file("/any/path.json", open, "utf-8") == {"decoded by": "botocore"}
    assert seen == [("utf-8",)]


def test_the_functions_clients_are_made_without_a_scan(no_scan: list[str]) -> None:
    aws = AwsClients()
    for service in ("dynamodb", "sqs", "secretsmanager"):
        client = aws.client(service)
        assert client.meta.service_model.service_name == service

    assert no_scan == []
    assert isinstance(aws.client("sqs")._loader, ScanFreeLoader)


def test_without_the_scan_free_loader_botocore_does_scan(no_scan: list[str]) -> None:
    """The guard above is real: plain boto3 lists every service before its first model."""
    with pytest.raises(AssertionError, match="scanned every service"):
        boto3.session.Session(region_name="us-east-1").client("sqs")
    assert no_scan == ["service-2"]


def test_an_unknown_service_fails_as_with_botocore() -> None:
    ours = boto3.session.Session(botocore_session=botocore_session(), region_name="us-east-1")
    plain = boto3.session.Session(region_name="us-east-1")

    with pytest.raises(UnknownServiceError) as ours_error:
        ours.client("dynamodbb")
    with pytest.raises(UnknownServiceError) as plain_error:
        plain.client("dynamodbb")

    assert str(ours_error.value) == str(plain_error.value)
    assert "dynamodbb" in str(ours_error.value)
    assert "secretsmanager" in str(ours_error.value)


def test_the_full_list_is_botocores_when_it_is_read() -> None:
    ours = boto3.session.Session(botocore_session=botocore_session())
    plain = boto3.session.Session()

    assert ours.get_available_services() == plain.get_available_services()
    assert ours.get_available_resources() == plain.get_available_resources()
    assert list(ours.get_available_services()) == sorted(plain.get_available_services())


def test_membership_reads_one_directory_and_odd_names_go_to_the_full_list() -> None:
    known = ScanFreeLoader().list_available_services("service-2")
    assert isinstance(known, KnownServices)

    assert "dynamodb" in known
    assert "sso-oidc" in known
    assert "no-such-service" not in known
    assert repr(known) == "<services with a service-2 model>"  # nothing scanned yet

    assert "../data" not in known  # not a service's name: answered from the full scan
    assert "dynamodb" in repr(known)
    assert known[0] == sorted(known)[0]
    assert len(known) == len(list(known)) > 300


def test_the_loader_is_cached_per_type_and_honours_aws_data_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loader = ScanFreeLoader()
    assert loader.list_available_services("service-2") is loader.list_available_services("service-2")

    monkeypatch.setenv("AWS_DATA_PATH", f"{tmp_path}")
    session = botocore_session()
    search_paths = session.get_component("data_loader").search_paths
    assert str(tmp_path) == search_paths[0]
    assert data_loader(None).search_paths == Loader().search_paths
    plain_paths = botocore.session.get_session().get_component("data_loader").search_paths
    assert plain_paths[0] == search_paths[0]
