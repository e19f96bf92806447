"""Serving helpers: request logs without credentials.

WeChat's protocol puts the app secret and access tokens in query strings; the
development secrets are still secrets, so the request log hides them.
"""

from __future__ import annotations

import re
from typing import Any

from werkzeug.serving import WSGIRequestHandler

_CREDENTIAL_PARAMS = re.compile(r"((?:secret|access_token|js_code)=)[^&\s]+")


def redact(text: str) -> str:
    return _CREDENTIAL_PARAMS.sub(r"\1***", text)


class RedactingRequestHandler(WSGIRequestHandler):
    def log(self, type: str, message: str, *args: Any) -> None:
        super().log(type, message, *(redact(a) if isinstance(a, str) else a for a in args))
