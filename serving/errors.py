"""One error shape for every refusal (``schemas.ErrorResponse``), with the offending field named."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from serving.encoding import MAX_REPORTED_PROBLEMS, FieldProblem, InvalidFeatures


class ApiError(Exception):
    """A refusal with its status, a readable line and the fields at fault."""

    def __init__(self, status_code: int, detail: str, problems: Sequence[FieldProblem] = (), headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.status_code, self.detail, self.problems, self.headers = status_code, detail, list(problems), headers


def field_path(loc: Sequence[Any]) -> str:
    """``("body", "accounts", 3, "account_id")`` → ``accounts[3].account_id``."""
    path = ""
    for part in loc[1:] if loc and loc[0] in ("body", "path", "query", "header") else loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "body"


def _message(error: dict[str, Any]) -> str:
    if error.get("type") == "json_invalid":
        position = error["loc"][-1] if error.get("loc") else "?"
        return f"not valid JSON at character {position} ({error.get('ctx', {}).get('error', 'decode error')})"
    if error.get("type") == "missing":
        return "required"
    return str(error.get("msg", "invalid"))


def _response(status_code: int, detail: str, problems: Sequence[FieldProblem], headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"detail": detail, "errors": [{"field": p.field, "message": p.message} for p in problems]}
    return JSONResponse(body, status_code=status_code, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _response(exc.status_code, exc.detail, exc.problems, exc.headers)

    @app.exception_handler(InvalidFeatures)
    async def invalid_features(request: Request, exc: InvalidFeatures) -> JSONResponse:
        return _response(422, str(exc), exc.problems)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        problems = [
            FieldProblem("body" if e.get("type") == "json_invalid" else field_path(e.get("loc", ())), _message(e))
            for e in errors[:MAX_REPORTED_PROBLEMS]
        ]
        more = f" (and {len(errors) - len(problems)} more)" if len(errors) > len(problems) else ""
        return _response(422, "; ".join(f"{p.field}: {p.message}" for p in problems) + more, problems)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return _response(exc.status_code, str(exc.detail), (), getattr(exc, "headers", None))
