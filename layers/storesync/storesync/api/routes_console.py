"""The merchant console's static files (storesync/console/): GET / (index.html) and GET /console/{path}."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from storesync.api.auth import PUBLIC
from storesync.api.errors import NotFound

router = Router()  # static files: nothing to validate, and bytes answers must pass through as they are
CONSOLE_DIR = Path(__file__).resolve().parent.parent / "console"
TEXT_TYPES = ("text/", "application/javascript", "application/json", "image/svg+xml")
EXTRA_TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml",
               ".json": "application/json", ".webmanifest": "application/manifest+json", ".woff2": "font/woff2",
               ".ico": "image/x-icon", ".map": "application/json"}  # fmt: skip


def console_file(relative: str, root: Path = CONSOLE_DIR) -> Path | None:
    """The file under the console folder, or None (missing, a folder, or outside it)."""
    if not relative or "\x00" in relative:
        return None
    root = root.resolve()
    candidate = (root / relative).resolve()
    if root not in candidate.parents or not candidate.is_file():
        return None
    return candidate


def content_type(path: Path) -> str:
    kind = (
        EXTRA_TYPES.get(path.suffix.lower())
        or mimetypes.guess_type(path.name)[0]
        or "application/octet-stream"
    )
    return f"{kind}; charset=utf-8" if kind.startswith(TEXT_TYPES) else kind


def serve(relative: str) -> Response[str | bytes]:
    path = console_file(relative, CONSOLE_DIR)
    if path is None:
        raise NotFound(f"path: no console file {relative!r}", "path")
    kind = content_type(path)
    cache = "no-cache" if path.name == "index.html" else "public, max-age=300"
    body: str | bytes = path.read_text("utf-8") if kind.startswith(TEXT_TYPES) else path.read_bytes()
    return Response(status_code=200, content_type=kind, body=body, headers={"Cache-Control": cache})


@router.get("/", summary="The merchant console (HTML)", security=PUBLIC, enable_validation=False)
def index() -> Response[str | bytes]:
    return serve("index.html")


# a regex rule: assets may live in sub-folders (console/assets/app.js)
@router.get("/console/.+", include_in_schema=False, enable_validation=False)
def asset() -> Response[str | bytes]:
    return serve(unquote(router.current_event.path.removeprefix("/console/")))
