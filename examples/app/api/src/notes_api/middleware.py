"""One JSON log line per request, and a JSON 500 instead of a crash for unhandled errors."""

from __future__ import annotations

import logging
import time

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from notes_api.jsonlog import LOGGER


class RequestLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.log = logging.getLogger(LOGGER)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        started = False

        async def send_status(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status, started = message["status"], True
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        except Exception:
            self.log.exception("unhandled error", extra={"path": scope["path"]})
            if not started:
                await JSONResponse({"detail": "internal server error"}, 500)(
                    scope, receive, send_status
                )
        finally:
            settings = getattr(scope["app"].state, "settings", None)
            self.log.log(
                logging.ERROR if status >= 500 else logging.INFO,
                "request",
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round((time.perf_counter() - start) * 1000, 2),
                    "release_id": settings.release_id if settings else None,
                },
            )
