"""Strict JSON request bodies: one RFC 8259 object in UTF-8, or a fixed 400 before any parsing.

Python's json module accepts what a careful reader refuses: NaN and Infinity, numbers that
overflow to infinity, lone surrogates that later fail to encode, duplicate keys (the last
one silently wins) and nesting deep enough to exhaust the stack. The JSON API routes use
`StrictJsonRoute`, which checks the raw body first; FastAPI then parses it as usual.
"""

from __future__ import annotations

import email.message
import json
import math
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, params
from fastapi.responses import Response
from fastapi.routing import APIRoute

from sceau.web.errors import MalformedJson, NotJsonContent

MAX_DEPTH = 32
MAX_INTEGER_DIGITS = 40  # far above any field of the API, far below int()'s own limit

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class StrictJsonRoute(APIRoute):
    """A route whose JSON body, if it takes one, is checked strictly before FastAPI reads it."""

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()
        field = self.body_field
        if field is None or isinstance(field.field_info, params.Form):  # File is a Form
            return handler

        async def strict(request: Request) -> Response:
            check_json_body(await request.body(), request.headers.get("content-type"))
            return await handler(request)

        return strict


def check_json_body(body: bytes, content_type: str | None) -> None:
    """Raise NotJsonContent or MalformedJson unless `body` is strict JSON sent as JSON."""
    _check_content_type(content_type)
    if not body:
        return  # FastAPI answers a missing body with its own (input-free) validation error
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedJson() from None
    _check_depth(text)
    try:
        value = json.loads(
            text,
            parse_constant=_refuse_constant,
            parse_float=_finite_float,
            parse_int=_bounded_int,
            object_pairs_hook=_unique_keys,
        )
    except (ValueError, RecursionError):
        raise MalformedJson() from None
    _check_strings(value)


def _check_content_type(content_type: str | None) -> None:
    if not content_type:
        raise NotJsonContent()
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    charset = message.get_param("charset")
    if message.get_content_maintype() != "application" or not (
        subtype == "json" or subtype.endswith("+json")
    ):
        raise NotJsonContent()
    if charset is not None and str(charset).lower() not in ("utf-8", "utf8"):
        raise NotJsonContent()


def _check_depth(text: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH before the recursive parser sees it."""
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise MalformedJson()
        elif char in "]}":
            depth -= 1


def _refuse_constant(_name: str) -> Any:
    raise ValueError("non-standard constant")


def _finite_float(literal: str) -> float:
    number = float(literal)
    if not math.isfinite(number):
        raise ValueError("number out of range")
    return number


def _bounded_int(literal: str) -> int:
    if len(literal.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise ValueError("number out of range")
    return int(literal)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        raise ValueError("duplicate key")
    return found


def _check_strings(value: Any) -> None:
    """Every string and key must be encodable UTF-8 (no lone surrogate) without NUL."""
    if isinstance(value, str):
        if "\x00" in value:
            raise MalformedJson()
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise MalformedJson() from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_strings(key)
            _check_strings(item)
    elif isinstance(value, list):
        for item in value:
            _check_strings(item)
