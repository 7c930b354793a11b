"""One router per concern; ``serving.app`` includes them all."""

from __future__ import annotations

from typing import Any

from serving.schemas import ErrorResponse


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the refusals an endpoint can give, all in the ``ErrorResponse`` shape."""
    meaning = {
        401: "No key, or a key that is not valid.",
        403: "A valid key without the right for this endpoint.",
        404: "Not found.",
        409: "The reload failed; the previous model keeps serving.",
        413: "More accounts than the server's max_batch, or a body larger than its max_body_mb.",
        422: "Invalid input; every field at fault is named.",
        503: "No model is loaded yet.",
    }
    return {code: {"model": ErrorResponse, "description": meaning[code]} for code in codes}
