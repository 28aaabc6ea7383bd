"""Unknown and repeated query parameters are refused before any route runs."""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi.routing import APIRoute

from event_api.problems import problem


class StrictQueryParameters:
    """Unknown or repeated query parameters are a 400, in the same problem shape as every other
    bad parameter: a typo is an error, and `?name=a&name=b` is not a request for one of them.

    The allowed names of each path are read from the routes' own parameter declarations (the
    ones FastAPI validates and documents). A pure ASGI layer rather than a query model with
    `extra="forbid"` per route: it costs a few microseconds instead of ~25 per request
    (bench/RESULTS.md)."""

    def __init__(self, app, routes: list) -> None:
        self.app = app
        self._routes = routes  # the router's live list: read on first use, once complete
        self._allowed: dict[str, frozenset[str]] | None = None

    async def __call__(self, scope, receive, send) -> None:
        query = scope.get("query_string", b"") if scope["type"] == "http" else b""
        if query:
            if self._allowed is None:
                self._allowed = {route.path: frozenset(p.alias for p in
                                                        route.dependant.query_params)
                                 for route in self._routes if isinstance(route, APIRoute)}
            allowed = self._allowed.get(scope["path"])
            if allowed is not None:
                errors = _query_problems(query, allowed)
                if errors:
                    detail = "; ".join(f"{e['parameter']}: {e['problem']}" for e in errors)
                    await problem(400, detail, errors=errors)(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def _query_problems(query: bytes, allowed: frozenset[str]) -> list[dict]:
    keys = [key for key, _ in parse_qsl(query.decode("latin-1"), keep_blank_values=True)]
    unknown = sorted({key for key in keys if key not in allowed})
    repeated = sorted({key for key in keys if key in allowed and keys.count(key) > 1})
    return ([{"parameter": key, "problem": "unknown parameter"} for key in unknown]
            + [{"parameter": key, "problem": "given more than once"} for key in repeated])
