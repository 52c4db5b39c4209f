"""Checks on OpenAI-style error responses, as the SDK surfaces them and as they are on the wire."""

from __future__ import annotations

from typing import Any

import openai

ENVELOPE_KEYS = frozenset({"message", "type", "param", "code"})


def assert_envelope(body: Any, status: int) -> dict:
    """`{"error": {"message", "type", "param", "code"}}` with every key present."""
    assert isinstance(body, dict) and isinstance(body.get("error"), dict), (
        f"HTTP {status}: not an error envelope: {body!r}"
    )
    error = body["error"]
    missing = ENVELOPE_KEYS - error.keys()
    assert not missing, f"HTTP {status}: error object lacks {sorted(missing)}: {error}"
    assert isinstance(error["message"], str) and error["message"], f"HTTP {status}: empty message: {error}"
    assert isinstance(error["type"], str) and error["type"], f"HTTP {status}: empty type: {error}"
    return error


def assert_sdk_error(err: openai.APIStatusError, cls: type[openai.APIStatusError], param: str | None = None) -> None:
    """The SDK raised `cls` (by status code) and the envelope named `param`."""
    detail = (
        f"HTTP {err.status_code} {type(err).__name__}: param={err.param!r} code={err.code!r} message={err.message!r}"
    )
    assert isinstance(err, cls), f"want {cls.__name__}, got {detail}"
    assert isinstance(err.body, dict) and err.body.keys() >= ENVELOPE_KEYS, f"incomplete error object: {err.body!r}"
    if param is not None:
        assert err.param == param, f"want param={param!r}, got {detail}"


def assert_client_error_with_code(err: openai.APIStatusError) -> None:
    """A 4xx refusal that a program can branch on (`code` set)."""
    detail = f"HTTP {err.status_code} {type(err).__name__}: code={err.code!r} message={err.message!r}"
    assert isinstance(err, openai.APIStatusError)
    assert 400 <= err.status_code < 500, f"want a 4xx, got {detail}"
    assert err.code, f"error code not set: {detail}"
