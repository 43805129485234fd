"""HTML pages: the shipped templates (top-level `web/`) filled with escaped values.

Templates are plain HTML with `$name` placeholders (`string.Template`); every value put into
one is escaped here, and the page's start-up data travels as a JSON data block, never as
inline script, so the pages work under a strict Content-Security-Policy. The order forms are
generated from the dialect's message tables (`forms.form_specs`).
"""

from __future__ import annotations

import html
import json
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from string import Template
from typing import Any

from ouchsim.web.forms import FieldSpec, FormSpec

DIALECT_TITLES = {"jnx": "JNX OUCH 1.12", "nasdaq42": "NASDAQ OUCH 4.2"}
TEMPLATES = ("login.html", "trade.html")
STATIC_TYPES = {
    ".css": b"text/css; charset=utf-8",
    ".js": b"text/javascript; charset=utf-8",
    ".svg": b"image/svg+xml",
    ".png": b"image/png",
    ".ico": b"image/x-icon",
}
_STATIC_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*")


class MissingWebFiles(RuntimeError):
    """The templates and static files of the web UI cannot be found."""


def web_root() -> Path:
    """Where the web UI's files are: $OUCHSIM_WEB, the source checkout's `web/`, or the installed copy.

    The installed copy is `<prefix>/share/ouchsim/web` (setup.cfg `data_files`), beside config.ini.
    """
    candidates = [
        os.environ.get("OUCHSIM_WEB", ""),
        str(Path(__file__).resolve().parents[2] / "web"),
        str(Path(sys.prefix) / "share" / "ouchsim" / "web"),
    ]
    for candidate in candidates:
        if candidate and (Path(candidate) / "templates" / "trade.html").is_file():
            return Path(candidate)
    raise MissingWebFiles("web UI files not found (looked in: " + ", ".join(c for c in candidates if c) + ")")


def escape(value: object) -> str:
    return html.escape(str(value), quote=True)


def json_block(data: Any) -> str:
    """JSON safe inside `<script type="application/json">` (no `</script>` can close it)."""
    text = json.dumps(data, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class Pages:
    """The templates, read once, and the functions that fill them."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or web_root()
        self.static = self.root / "static"
        self._templates = {
            name: Template((self.root / "templates" / name).read_text(encoding="utf-8")) for name in TEMPLATES
        }

    def static_file(self, name: str) -> tuple[bytes, bytes] | None:
        """(content type, bytes) of a file directly in `static/` with a known type, else None."""
        suffix = Path(name).suffix
        if not _STATIC_NAME.fullmatch(name) or suffix not in STATIC_TYPES:
            return None
        path = self.static / name
        try:
            return STATIC_TYPES[suffix], path.read_bytes()
        except OSError:
            return None

    def render(self, name: str, values: Mapping[str, object], raw: Mapping[str, str] | None = None) -> bytes:
        """Fill template `name`: `values` are escaped, `raw` is trusted HTML built here."""
        filled = {key: escape(value) for key, value in values.items()}
        filled.update(raw or {})
        return self._templates[name].substitute(filled).encode("utf-8")

    def login(self, *, csrf: str, dialect: str, username: str = "", error: str = "") -> bytes:
        return self.render(
            "login.html",
            {
                "csrf": csrf,
                "dialect": DIALECT_TITLES.get(dialect, dialect),
                "username": username,
            },
            {"error": f'<p class="error" role="alert">{escape(error)}</p>' if error else ""},
        )

    def trade(
        self,
        *,
        csrf: str,
        account: str,
        role: str,
        dialect: str,
        session: str,
        market: str,
        forms: tuple[FormSpec, ...],
        values: Mapping[str, Any],
        config: Any,
        operator: bool,
    ) -> bytes:
        return self.render(
            "trade.html",
            {
                "csrf": csrf,
                "account": account,
                "role": role,
                "dialect": DIALECT_TITLES.get(dialect, dialect),
                "session": session,
                "market": market,
            },
            {
                "config": json_block(config),
                "tabs": form_tabs(forms),
                "forms": "\n".join(form_html(form, values if form.purpose == "enter" else {}) for form in forms),
                "operator": OPERATOR_PANEL if operator else "",
                "body_class": "operator" if operator else "trader",
            },
        )


def form_tabs(forms: tuple[FormSpec, ...]) -> str:
    buttons = []
    for index, form in enumerate(forms):
        selected = "true" if index == 0 else "false"
        buttons.append(
            f'<button type="button" role="tab" class="tab" id="tab-{escape(form.purpose)}" '
            f'data-form="form-{escape(form.purpose)}" aria-selected="{selected}">{escape(form.name)}</button>'
        )
    return "".join(buttons)


def field_html(form: FormSpec, spec: FieldSpec, value: Any) -> str:
    name = escape(spec.name)
    ident = f"{escape(form.purpose)}-{name}"
    shown = "" if value is None else escape(value)
    classes = f"f kind-{spec.kind}" + (f" role-{spec.role}" if spec.role else "")
    if spec.choices:
        options = "".join(
            f'<option value="{escape(c.value)}"{" selected" if value is not None and c.value == value else ""}>'
            f"{escape(c.label)}</option>"
            for c in spec.choices
        )
        control = f'<select id="{ident}" name="{name}">{options}</select>'
    else:
        datalist = ""
        extra = ""
        if spec.suggestions:
            datalist = (
                f'<datalist id="dl-{ident}">'
                + "".join(f'<option value="{escape(c.value)}">{escape(c.label)}</option>' for c in spec.suggestions)
                + "</datalist>"
            )
            extra = f' list="dl-{ident}"'
        mode = {"price": "decimal", "int": "numeric"}.get(spec.kind, "text")
        hint = f"{spec.width} characters" if spec.kind == "text" else spec.kind
        control = (
            f'<input id="{ident}" name="{name}" value="{shown}" inputmode="{mode}" autocomplete="off" '
            f'spellcheck="false" title="{escape(spec.name)} ({escape(hint)})"{extra}>{datalist}'
        )
    return (
        f'<label class="{classes}" for="{ident}"><span>{escape(spec.label)}</span>{control}'
        f'<em class="err" data-for="{name}"></em></label>'
    )


def form_html(form: FormSpec, values: Mapping[str, Any]) -> str:
    fields = "".join(field_html(form, spec, values.get(spec.name)) for spec in form.fields)
    hidden = "" if form.purpose == "enter" else " hidden"
    return (
        f'<form class="order-form" id="form-{escape(form.purpose)}" data-type="{escape(form.message_type)}" '
        f'data-purpose="{escape(form.purpose)}" role="tabpanel" novalidate{hidden}>'
        f'<div class="fields">{fields}</div>'
        f'<div class="actions"><p class="form-error" role="alert"></p>'
        f'<button type="submit" class="submit">{escape(form.name)}</button></div></form>'
    )


OPERATOR_PANEL = """
<section class="panel control" id="control">
  <h2>Market control</h2>
  <div class="buttons">
    <button type="button" class="op" data-command="open">Open</button>
    <button type="button" class="op" data-command="close">Close</button>
    <button type="button" class="op warn" data-command="roll" data-confirm="Confirm roll">Roll day</button>
  </div>
  <div class="buttons">
    <button type="button" class="op" data-command="halt" data-book="1">Halt <span class="book-name"></span></button>
    <button type="button" class="op" data-command="resume" data-book="1">Resume <span class="book-name"></span></button>
  </div>
  <p class="op-status" id="op-status"></p>
</section>
"""
