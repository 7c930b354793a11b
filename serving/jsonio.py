"""JSON in and out through pydantic-core's Rust parser and serializer, for the scoring routes.

A 10,000-account request is about 35 MB of JSON: the standard library's ``json.loads`` takes
three times as long as ``pydantic_core.from_json``, and re-validating the built response
against its schema before serializing costs more than all the scoring. Both accept and refuse
the same documents (``NaN`` and ``Infinity`` literals parse, and are then refused by the encoder).

A valid body is parsed and validated against the route's body model in one pass
(``model_validate_json``); FastAPI then receives the finished model and does not validate it
again. An invalid one is handed to FastAPI as plain JSON, so its errors keep FastAPI's shape.
A body past the app's byte limit is refused before it is parsed, or even read whole.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Coroutine
from typing import Any

import pydantic_core
from fastapi import Request, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException


class _FastJSONRequest(Request):
    body_model: type[BaseModel] | None = None

    async def body(self) -> bytes:
        """The body, refused with 413 once it is known to pass the app's ``max_body_bytes``: at once from a
        declared length, else as the bytes arrive, so an oversized request is never held in memory."""
        if not hasattr(self, "_body"):
            limit = getattr(self.app.state, "max_body_bytes", math.inf)
            declared = self.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise _too_large(limit)
            chunks, size = [], 0
            async for chunk in self.stream():
                size += len(chunk)
                if size > limit:
                    raise _too_large(limit)
                chunks.append(chunk)
            self._body = b"".join(chunks)
        return self._body

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            if self.body_model is not None:
                try:
                    self._json = self.body_model.model_validate_json(body)
                    return self._json
                except ValidationError:
                    pass  # FastAPI validates the plain JSON below and reports every field
            try:
                self._json = pydantic_core.from_json(body)
            except ValueError as exc:
                # FastAPI turns JSONDecodeError (only) into a 422 naming the body.
                raise json.JSONDecodeError(str(exc), body.decode("utf-8", "replace"), _position(str(exc))) from None
        return self._json


def _too_large(limit: int) -> HTTPException:
    # An HTTPException, as FastAPI passes those on from a body read (any other error becomes a 400).
    return HTTPException(413, f"body: larger than this server's limit of {limit / 1_000_000:g} MB per request")


class FastJSONRoute(APIRoute):
    """Route class whose request bodies are parsed (and, for a model body, validated) by pydantic-core."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        annotation = self.body_field.field_info.annotation if self.body_field is not None else None
        request_class = type(
            "_ModelJSONRequest",
            (_FastJSONRequest,),
            {"body_model": annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None},
        )

        async def parse_fast(request: Request) -> Response:
            return await handler(request_class(request.scope, request.receive))

        return parse_fast


def json_response(content: Any, status_code: int = 200) -> Response:
    """Serialize plain dicts and lists already in the declared response shape, without re-validating them."""
    return Response(pydantic_core.to_json(content), status_code=status_code, media_type="application/json")


def _position(message: str) -> int:
    """pydantic-core reports 'line L column C'; a request body is one line in practice."""
    try:
        return int(message.rsplit("column", 1)[1].strip().split()[0]) - 1
    except (IndexError, ValueError):
        return 0
