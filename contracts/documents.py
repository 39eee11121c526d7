"""The public JSON documents (receipt, issuer profile): parsed strictly, written canonically."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

Document = TypeVar("Document", bound=BaseModel)


def parse_document(
    kind: type[Document], raw: bytes | str, *, error: type[ValueError], what: str
) -> Document:
    """Parse and check a document; `error` names the first problem in plain words."""
    try:
        doc: Any = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise error(f"{what} is not JSON: {exc}") from None
    try:
        return kind.model_validate(doc)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or what
        raise error(f"invalid {what}: {where}: {first['msg']}") from None


def canonical_json(document: BaseModel) -> bytes:
    """Sorted keys, two-space indent, UTF-8, trailing newline."""
    doc = document.model_dump(mode="json")
    return (json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()
