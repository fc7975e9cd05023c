"""botocore's data loader, made cheaper for a cold start in two ways. Every client loads its service model,
its endpoint rules and botocore's endpoint data from ``botocore/data``; the first client of an interpreter
pays for that in full.

1. No scan of every service. Before it loads a service's model, botocore checks that the service exists by
   listing every service it knows (``Loader.list_available_services``): it lists the ~450 directories under
   ``botocore/data`` and stats the model file in each, once for the service model and once more for the
   endpoint rules, to answer one ``in`` test. :class:`ScanFreeLoader` answers that test for the one service
   asked about, from that service's own directory (``list_api_versions``, which botocore calls next anyway).
   Anything that asks for the whole list still gets it, scanned when it is first read.
2. msgspec decodes the JSON. botocore decodes with ``json.loads(..., object_pairs_hook=OrderedDict)``;
   :class:`MsgspecFileLoader` (botocore's ``file_loader`` extension point) decodes the same bytes with msgspec
   into plain dicts, which keep insertion order as botocore's OrderedDicts do: half the time for the ~2 MB of
   JSON three clients load.

The data loaded is the same (tests/unit/test_botocore_data.py compares it with botocore's own loader).
Together: three clients in a fresh interpreter, median 112 ms with botocore's loader, ~70 ms with this one
(the bench prints the comparison in every run). Only ``_load_file`` is not public API: if botocore renamed
it, or gave it more arguments, its own decoding would simply run again.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any, overload

import botocore.session
import msgspec
from botocore.exceptions import DataNotFoundError
from botocore.loaders import JSONFileLoader, Loader

# A service's directory name (``dynamodb``, ``secretsmanager``, ``sso-oidc``). Anything else, such as a name
# with a path separator, is answered from the full scan, as botocore would answer it.
_SERVICE_NAME = re.compile(r"[a-z0-9][a-z0-9-]*")


class MsgspecFileLoader(JSONFileLoader):  # type: ignore[misc]  # botocore has no type information
    """botocore's JSON file loader (``.json`` and ``.json.gz``), decoding with msgspec into plain dicts."""

    def _load_file(self, full_path: str, open_method: Callable[..., Any], *more: Any, **options: Any) -> Any:
        if more or options:  # a botocore whose _load_file takes more than we know: its own decoding
            return super()._load_file(full_path, open_method, *more, **options)
        if not os.path.isfile(full_path):
            return None
        with open_method(full_path, "rb") as handle:
            return msgspec.json.decode(handle.read())


class KnownServices(Sequence[str]):
    """The services that have a ``type_name`` model, as ``Loader.list_available_services`` lists them; a
    membership test for a plain service name reads only that service's directory."""

    def __init__(self, loader: ScanFreeLoader, type_name: str) -> None:
        self._loader = loader
        self._type_name = type_name
        self._names: list[str] | None = None

    def __contains__(self, name: object) -> bool:
        if self._names is None and isinstance(name, str) and _SERVICE_NAME.fullmatch(name):
            try:
                self._loader.list_api_versions(name, self._type_name)
            except DataNotFoundError:
                return False
            return True
        return name in self.names

    @property
    def names(self) -> list[str]:
        """The full, sorted list: botocore's own scan, done once."""
        if self._names is None:
            self._names = self._loader.scan_services(self._type_name)
        return self._names

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> list[str]: ...
    def __getitem__(self, index: int | slice) -> str | list[str]:
        return self.names[index]

    def __len__(self) -> int:
        return len(self.names)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, KnownServices | list | tuple):
            return self.names == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # a list's equality, so not hashable

    def __repr__(self) -> str:
        return repr(self.names) if self._names is not None else f"<services with a {self._type_name} model>"


class ScanFreeLoader(Loader):  # type: ignore[misc]  # botocore has no type information
    """``botocore.loaders.Loader`` whose ``list_available_services`` defers its scan and whose files are
    decoded by msgspec (see the module doc)."""

    FILE_LOADER_CLASS = MsgspecFileLoader

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._known: dict[str, KnownServices] = {}

    def list_available_services(self, type_name: str) -> KnownServices:
        if type_name not in self._known:
            self._known[type_name] = KnownServices(self, type_name)
        return self._known[type_name]

    def scan_services(self, type_name: str) -> list[str]:
        """botocore's own listing of every service with a ``type_name`` model."""
        names: list[str] = Loader.list_available_services(self, type_name)
        return names


def data_loader(data_path: str | None) -> ScanFreeLoader:
    """As ``botocore.loaders.create_loader``: the extra search paths of AWS_DATA_PATH, then botocore's own."""
    if data_path is None:
        return ScanFreeLoader()
    paths = [os.path.expanduser(os.path.expandvars(path)) for path in data_path.split(os.pathsep)]
    return ScanFreeLoader(extra_search_paths=paths)


def botocore_session() -> botocore.session.Session:
    """A botocore session (for ``boto3.session.Session(botocore_session=...)``) that loads with ScanFreeLoader."""
    session = botocore.session.get_session()
    session.register_component("data_loader", data_loader(session.get_config_variable("data_path")))
    return session
