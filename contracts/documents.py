"""The public JSON documents (receipt, issuer profile): parsed strictly, written canonically.

Strictly means as docs/receipt.md (section 1.2) says: UTF-8 without byte-order mark, one JSON
object, no duplicate member names and no unknown members at any level, no NaN or Infinity, no
lone surrogates, integers as JSON integers, date-times in one RFC 3339 form, addresses whose
mixed case is their EIP-55 checksum.
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ValidationError

from contracts.keccak import to_checksum_address

Document = TypeVar("Document", bound=BaseModel)

_DATE_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})", re.ASCII
)
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}", re.ASCII)


class _Refused(ValueError):
    """A JSON text that is not one of our documents (raised while decoding)."""


def _date_time_form(value: object) -> object:
    """A date-time in a document is a string of the one RFC 3339 form of docs/receipt.md."""
    if isinstance(value, datetime):
        return value  # built in Python, not parsed: pydantic checks it is aware
    if not isinstance(value, str) or not _DATE_TIME.fullmatch(value):
        raise ValueError("not a date-time of the form YYYY-MM-DDTHH:MM:SS[.ffffff](Z|±HH:MM)")
    return datetime.fromisoformat(value)  # the form above is a subset of what this reads


def _address_form(value: str) -> str:
    """0x + 40 hex; mixed case must be the EIP-55 checksum (one-case has no checksum)."""
    if not _ADDRESS.fullmatch(value):
        raise ValueError("not an address (0x + 40 hex digits)")
    digits = value[2:]
    mixed = digits not in (digits.lower(), digits.upper())
    if mixed and to_checksum_address(value) != value:
        raise ValueError("mixed-case address with a wrong EIP-55 checksum")
    return value


DateTime = Annotated[AwareDatetime, BeforeValidator(_date_time_form)]
"""A timezone-aware date-time; when parsed, only the RFC 3339 form docs/receipt.md allows."""

Address = Annotated[str, AfterValidator(_address_form)]
"""An EVM address as written (case kept); compare with `same_address`."""


def same_address(a: str, b: str) -> bool:
    """Two addresses that passed `Address` are the same account (case-insensitive)."""
    return a.lower() == b.lower()


def parse_document(
    kind: type[Document], raw: bytes | str, *, error: type[ValueError], what: str
) -> Document:
    """Parse and check a document; `error` names the first problem in plain words."""
    try:
        text = load_strict_json(raw)
    except _Refused as exc:
        raise error(f"{what} is not JSON: {exc}") from None
    try:
        return kind.model_validate_json(text, strict=True)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or what
        raise error(f"invalid {what}: {where}: {first['msg']}") from None


def load_strict_json(raw: bytes | str) -> str:
    """The text of `raw` once it is known to be one strict JSON object (_Refused otherwise)."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise _Refused("not UTF-8") from None
    if raw.startswith("\ufeff"):
        raise _Refused("starts with a byte-order mark")
    try:
        doc = json.loads(
            raw,
            object_pairs_hook=_object_without_duplicates,
            parse_constant=_no_constant,
            parse_float=_finite_float,
        )
    except json.JSONDecodeError as exc:
        raise _Refused(f"{exc.msg} at line {exc.lineno}") from None
    if not isinstance(doc, dict):
        raise _Refused("not a JSON object")
    return raw


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    names = [name for name, _ in pairs]
    for name in names:
        _valid_unicode(name)
    if len(set(names)) != len(names):
        twice = next(n for n in names if names.count(n) > 1)
        raise _Refused(f"the member {twice!r} appears twice")
    for _, value in pairs:
        if isinstance(value, str):
            _valid_unicode(value)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, str):
                    _valid_unicode(item)
    return dict(pairs)


def _valid_unicode(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise _Refused("a string holds a lone surrogate") from None


def _no_constant(name: str) -> Any:
    raise _Refused(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"the number {text[:20]} is out of range")
    return value


def canonical_json(document: BaseModel) -> bytes:
    """Sorted keys, two-space indent, UTF-8, trailing newline."""
    doc = document.model_dump(mode="json")
    return (json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()
