"""Bearer keys: scoring needs one of the API keys, admin needs the separate admin key.

With no API keys configured the service is open (local use); health and metrics are always open.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from serving.errors import ApiError

_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <key>`; the keys come from CHURN_API_KEYS and CHURN_ADMIN_KEY.")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def _matches(key: str, accepted: list[str]) -> bool:
    # Compare against every key, in constant time per key, so timing reveals nothing.
    return any([hmac.compare_digest(key.encode(), candidate.encode()) for candidate in accepted])


async def require_api_key(request: Request, credentials: Credentials) -> None:
    settings = request.app.state.serving.settings
    if not settings.api_keys:
        return
    if credentials is None:
        raise ApiError(401, "an API key is required: send 'Authorization: Bearer <key>'", headers=_CHALLENGE)
    accepted = [*settings.api_keys, *([settings.admin_key] if settings.admin_key else [])]
    if not _matches(credentials.credentials, accepted):
        raise ApiError(401, "the API key is not valid", headers=_CHALLENGE)


async def require_admin_key(request: Request, credentials: Credentials) -> None:
    settings = request.app.state.serving.settings
    if settings.admin_key is None:
        if settings.api_keys:
            raise ApiError(403, "admin is disabled: API keys are set but no admin key (CHURN_ADMIN_KEY)")
        return
    if credentials is None:
        raise ApiError(401, "the admin key is required: send 'Authorization: Bearer <admin key>'", headers=_CHALLENGE)
    if _matches(credentials.credentials, [settings.admin_key]):
        return
    if _matches(credentials.credentials, settings.api_keys):
        raise ApiError(403, "this key may score but not administer; admin needs the admin key")
    raise ApiError(401, "the admin key is not valid", headers=_CHALLENGE)


ApiKey = Depends(require_api_key)
AdminKey = Depends(require_admin_key)
