"""The Solidity ABI for the registry's views: 32-byte words, encoded and decoded with int.to_bytes.

The views take bytes32, bytes4, address and bytes32[] and answer static words only (uintN,
address in lower case, bool, bytesN and tuples of them), so this small codec replaces eth_abi on the
verifier's path (eth_abi and its grammar take a fifth of a second to import). It is as strict
as eth_abi: padding must be zero, a bool is 0 or 1, a uintN fits N bits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from contracts.errors import RegistryError
from contracts.keccak import to_checksum_address

WORD = 32


class AbiDecodingError(RegistryError, ValueError):
    """An answer that is not the ABI encoding of the expected types."""


def encode_arguments(types: Sequence[str], values: Sequence[Any]) -> bytes:
    """The ABI encoding of `values` (a call's arguments after its selector); ValueError for a
    value that does not fit its type."""
    if len(types) != len(values):
        raise ValueError(f"{len(types)} types for {len(values)} values")
    head, tail = [], []
    offset = WORD * len(types)
    for kind, value in zip(types, values, strict=True):
        if kind.endswith("[]"):
            items = [_encode_word(kind[:-2], item) for item in value]
            head.append(offset.to_bytes(WORD, "big"))
            tail.append(len(items).to_bytes(WORD, "big") + b"".join(items))
            offset += WORD * (1 + len(items))
        else:
            head.append(_encode_word(kind, value))
    return b"".join(head + tail)


def decode_words(types: Sequence[str], data: bytes) -> tuple[Any, ...]:
    """The values of static `types` (tuples written `(a,b,…)`) at the start of `data`."""
    values, _end = _decode_sequence(list(types), bytes(data), 0)
    return values


def _decode_sequence(types: list[str], data: bytes, at: int) -> tuple[tuple[Any, ...], int]:
    values: list[Any] = []
    for kind in types:
        if kind.startswith("("):
            inner, at = _decode_sequence(_components(kind), data, at)
            values.append(inner)
            continue
        if kind.endswith("]") or kind in ("bytes", "string"):
            raise AbiDecodingError(f"{kind} is not a static type this codec decodes")
        if at + WORD > len(data):
            raise AbiDecodingError(f"the answer is too short for {kind}")
        values.append(_decode_word(kind, data[at : at + WORD]))
        at += WORD
    return tuple(values), at


def _components(kind: str) -> list[str]:
    """The component types of a tuple type `(a,(b,c),d)`: ["a", "(b,c)", "d"]."""
    if not kind.endswith(")"):
        raise AbiDecodingError(f"{kind} is not a static type this codec decodes")
    parts, depth, start = [], 0, 1
    for i, char in enumerate(kind[1:-1], start=1):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(kind[start:i])
            start = i + 1
    parts.append(kind[start:-1])
    return [part for part in parts if part]


def _encode_word(kind: str, value: Any) -> bytes:
    if kind == "address":
        raw = bytes.fromhex(to_checksum_address(value)[2:]) if isinstance(value, str) else value
        if not isinstance(raw, bytes) or len(raw) != 20:
            raise ValueError(f"not an address: {value!r}")
        return raw.rjust(WORD, b"\0")
    if kind == "bool":
        return int(bool(value)).to_bytes(WORD, "big")
    if kind.startswith("uint"):
        bits = int(kind[4:] or 256)
        if not isinstance(value, int) or not 0 <= value < 1 << bits:
            raise ValueError(f"{value!r} does not fit {kind}")
        return value.to_bytes(WORD, "big")
    if kind.startswith("bytes"):
        size = int(kind[5:])
        if not isinstance(value, bytes | bytearray) or len(value) > size:
            raise ValueError(f"{kind} takes at most {size} bytes")
        return bytes(value).ljust(WORD, b"\0")
    raise ValueError(f"{kind} is not a type this codec encodes")


def _decode_word(kind: str, word: bytes) -> Any:
    number = int.from_bytes(word, "big")
    if kind == "address":
        _fits(number, 160, kind)
        return "0x" + word[12:].hex()  # lower case, as eth_abi answers
    if kind == "bool":
        _fits(number, 1, kind)
        return bool(number)
    if kind.startswith("uint"):
        _fits(number, int(kind[4:] or 256), kind)
        return number
    if kind.startswith("bytes") and kind[5:].isdigit() and 1 <= int(kind[5:]) <= WORD:
        size = int(kind[5:])
        if any(word[size:]):
            raise AbiDecodingError(f"{kind} with non-zero padding")
        return word[:size]
    raise AbiDecodingError(f"{kind} is not a type this codec decodes")


def _fits(number: int, bits: int, kind: str) -> None:
    if number >> bits:
        raise AbiDecodingError(f"the answer's {kind} word does not fit {bits} bits")
