"""The API's documentation pages, served whole by the app: Swagger UI at /api/docs, ReDoc at
/api/redoc, their scripts and styles from the fastapi-offline package, nothing from a CDN, so
they work on a government network without the internet.

Decisions:
1. fastapi-offline's own pages start Swagger UI with an inline script, which our
   Content-Security-Policy forbids (web/headers.py: no inline script anywhere). So the
   assets are the package's, the pages are ours: the start-up code is a script file served
   here, and the docs' paths get a policy that allows this origin's scripts (and the
   ``data:`` images and ``blob:`` worker the two viewers use), still nothing from elsewhere.
2. Swagger UI's own buttons ("Try it out", "Execute") come in English: it has no Chinese
   translation. Everything the API says of itself (titles, descriptions, fields) is Chinese.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

ASSETS = Path(fastapi_offline.__file__).parent / "static"
DOCS_PATHS = ("/docs", "/redoc")  # under the API's mount point, /api


def install(api: FastAPI) -> None:
    """Add the two documentation pages and their assets to ``api`` (mounted at /api)."""
    api.mount("/docs/assets", StaticFiles(directory=ASSETS), name="docs-assets")
    document = api.openapi

    def in_chinese() -> dict[str, Any]:
        """FastAPI's document, its one English default (the 200 answer's) said in Chinese."""
        schema = document()
        for operation in (op for path in schema.get("paths", {}).values()
                          for op in path.values()):
            for answer in operation.get("responses", {}).values():
                if answer.get("description") == "Successful Response":
                    answer["description"] = "成功"
        return schema

    api.openapi = in_chinese  # type: ignore[method-assign]

    @api.get("/docs", include_in_schema=False)
    def swagger(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return HTMLResponse(_page(f"{api.title} · 接口文档", root, f"""\
<link rel="stylesheet" href="{root}/docs/assets/swagger-ui.css">
</head>
<body>
<p class="alt">另见 <a href="{root}/redoc">ReDoc 版文档</a> ·
  <a href="{root}/openapi.json">OpenAPI 文档（JSON）</a></p>
<div id="swagger-ui"></div>
<script src="{root}/docs/assets/swagger-ui-bundle.js"></script>
<script src="{root}/docs/start.js"></script>"""))

    @api.get("/docs/start.js", include_in_schema=False)
    def start(request: Request) -> Response:
        url = json.dumps(f"{request.scope.get('root_path', '')}/openapi.json")
        # validatorUrl null: Swagger UI would otherwise send the document to swagger.io.
        script = (f"window.ui = SwaggerUIBundle({{url: {url}, dom_id: '#swagger-ui', "
                  "deepLinking: true, validatorUrl: null, "
                  "presets: [SwaggerUIBundle.presets.apis], layout: 'BaseLayout'});\n")
        return Response(script, media_type="text/javascript")

    @api.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return HTMLResponse(_page(f"{api.title} · 接口文档（ReDoc）", root, f"""\
</head>
<body>
<redoc spec-url="{root}/openapi.json"></redoc>
<script src="{root}/docs/assets/redoc.standalone.js"></script>"""))


def _page(title: str, root: str, rest: str) -> str:
    return f"""<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="{root}/docs/assets/favicon.png">
<style>body {{ margin: 0; }} .alt {{ margin: .5em 1em; font-family: sans-serif; }}</style>
{rest}
</body>
</html>
"""
