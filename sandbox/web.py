"""The sandbox's web page: one person plays every role side by side (see docs/sandbox.md).

``/`` is the page, ``/static/<file>`` its script and style (from ``sandbox/web/``: plain HTML, CSS and
JavaScript, no build step, nothing loaded from elsewhere), and ``/sandbox/web/cast`` says who sits in which pane.
Everything else the page does goes through the emulator's HTTP test API under ``/sandbox/api``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from aiohttp import web

WEB_DIR = Path(__file__).with_name("web")
STATIC_FILES = frozenset({"index.html", "app.js", "style.css"})

# The page may use only itself: no CDN, no inline script, no framing by other sites.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_NO_CACHE = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}


@dataclass(frozen=True, slots=True)
class Pane:
    """One chat on the page, seen by the person (or, in a group, the people) who type in it."""

    key: str  # stable name for tests and styles: tourist1, tourist2, organiser, operators
    role: str  # tourist | organiser | operators
    title: str  # "Tourist 1", "Organiser", "Operator group"
    chat_id: int  # a private chat's id is its user's id; groups are negative
    speakers: tuple[int, ...]  # who can type here; the first speaks by default
    name: str = ""  # the group's title (a person's name comes from the emulator's users)
    note: str = ""  # a short line under the name, e.g. the organiser's company
    hint: str = ""  # shown while the chat is empty
    suggest: tuple[str, ...] = ()  # messages offered as one-click buttons while the chat is empty


@dataclass(slots=True)
class Cast:
    """Who sits in which pane. Filled after the people exist in the world; the page reads it when it loads."""

    panes: list[Pane] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {"panes": [asdict(pane) for pane in self.panes]}


CAST_KEY = web.AppKey("sandbox_web_cast", Cast)


def add_web_routes(app: web.Application, cast: Cast | None = None) -> Cast:
    """Serve the page on ``app``; returns the (mutable) :class:`Cast` the page will show.

    Without panes in the cast, the page guesses them from the world: the first two people in private chats are
    tourists, the third the organiser, and the first group is the operators' group.
    """
    cast = cast if cast is not None else Cast()
    app[CAST_KEY] = cast
    app.router.add_get("/", _index, name="sandbox-page")
    app.router.add_get("/static/{name}", _static, name="sandbox-static")
    app.router.add_get("/sandbox/web/cast", _cast, name="sandbox-cast")
    return cast


async def _index(request: web.Request) -> web.StreamResponse:
    return _file("index.html")


async def _static(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    if name not in STATIC_FILES:
        raise web.HTTPNotFound(text="no such file")
    return _file(name)


async def _cast(request: web.Request) -> web.Response:
    return web.json_response(request.app[CAST_KEY].as_json(), headers=_NO_CACHE)


def _file(name: str) -> web.FileResponse:
    headers = dict(_NO_CACHE)
    if name.endswith(".html"):
        headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        headers["Referrer-Policy"] = "no-referrer"
    return web.FileResponse(WEB_DIR / name, headers=headers)
