"""Reading a Bot API request as Telegram reads it: query string, ``application/x-www-form-urlencoded``,
``multipart/form-data`` (aiogram's way: nested values as JSON strings, files as parts referenced by
``attach://<name>``) or ``application/json``.

Form values are strings, so each is typed by the spec's field types (``"123"`` -> 123 for an Integer, ``"true"`` ->
True for a Boolean, JSON text -> objects for object and array fields) before :class:`sandbox.world.World`
validates and answers it.
"""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any

from aiohttp import BodyPartReader, MultipartReader, web
from aiohttp.multipart import MultipartResponseWrapper

from sandbox.methods import resolve_method
from sandbox.model import Upload
from sandbox.spec import BotApiSpec

_INTEGER = re.compile(r"^-?\d+$")
_FLOAT = re.compile(r"^-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$")


class BadBody(Exception):
    """The request body cannot be read (bad JSON, broken multipart)."""


async def read_parts(reader: MultipartReader | MultipartResponseWrapper) -> tuple[dict[str, Any], dict[str, Upload]]:
    """The fields (as text) and the files of a multipart body."""
    fields: dict[str, Any] = {}
    files: dict[str, Upload] = {}
    while True:
        part = await reader.next()
        if part is None:
            break
        if not isinstance(part, BodyPartReader) or part.name is None:
            continue
        if part.filename is not None:
            files[part.name] = Upload(part.filename, bytes(await part.read()))
        else:
            fields[part.name] = await part.text()
    return fields, files


async def read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, Upload]]:
    """The raw parameters of a Bot API request (strings from forms, typed values from JSON) and the files."""
    params: dict[str, Any] = dict(request.query)
    files: dict[str, Upload] = {}
    if request.can_read_body:
        ctype = request.content_type
        try:
            if ctype.startswith("multipart/"):
                fields, files = await read_parts(await request.multipart())
                params.update(fields)
            elif ctype == "application/x-www-form-urlencoded":
                params.update(await request.post())
            else:  # application/json (or no content type): an empty body is no parameters
                raw = await request.read()
                if raw.strip():
                    body = json.loads(raw)
                    if not isinstance(body, dict):
                        raise BadBody("the JSON body must be an object")
                    params.update(body)
        except (ValueError, UnicodeDecodeError) as error:
            raise BadBody(str(error)) from None
    return params, files


def coerce_value(value: Any, types: tuple[str, ...]) -> Any:
    """A form string typed by the spec: Integer, Float, Boolean, or JSON for objects and arrays."""
    if not isinstance(value, str):
        return value
    bare = value.strip()
    if "Integer" in types and _INTEGER.match(bare):
        return int(bare)
    if "Float" in types and _FLOAT.match(bare):
        return float(bare)
    if ("Boolean" in types or "True" in types) and bare.lower() in ("true", "false"):
        return bare.lower() == "true"
    if "String" in types:
        return value
    if bare[:1] in ("{", "["):
        with contextlib.suppress(ValueError):
            return json.loads(bare)
    return value


def coerce_params(spec: BotApiSpec, method: str, params: dict[str, Any]) -> dict[str, Any]:
    """Every known field typed by the spec (unknown fields and unknown methods are left as they are)."""
    name = resolve_method(method) or method
    if name not in spec.methods:
        return dict(params)
    fields = spec.fields("method", name)
    return {key: coerce_value(value, fields[key].types) if key in fields else value for key, value in params.items()}


def attach_files(params: dict[str, Any], files: dict[str, Upload]) -> dict[str, Any]:
    """``attach://<name>`` (also inside decoded JSON) -> the uploaded file; an unreferenced file part is the field
    of its name (``curl -F photo=@pic.jpg``)."""
    referenced: set[str] = set()

    def resolve(value: Any) -> Any:
        if isinstance(value, str) and value.startswith("attach://") and value[9:] in files:
            referenced.add(value[9:])
            return files[value[9:]]
        if isinstance(value, dict):
            return {k: resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [resolve(v) for v in value]
        return value

    out = {key: resolve(value) for key, value in params.items()}
    for name, file in files.items():
        if name not in referenced and name not in out:
            out[name] = file
    return out


def decode_request(spec: BotApiSpec, method: str, params: dict[str, Any], files: dict[str, Upload]) -> dict[str, Any]:
    """Raw wire parameters -> what Telegram works with: typed by the spec, files in place."""
    return attach_files(coerce_params(spec, method, params), files)
