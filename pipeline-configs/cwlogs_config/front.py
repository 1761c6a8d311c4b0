"""DIR/front/nginx.conf and DIR/front/firehose.js: the HTTPS endpoint
Amazon Data Firehose delivers to (nginx + njs), in front of Fluent Bit.

Both are static files in templates/ (the .js is real JavaScript: the tests
run `node --check` on the template and on its output) with `@@name@@`
placeholders:

- a line holding only a placeholder, possibly behind a comment marker
  (`# @@header@@`, `    // @@commons@@`), is replaced by the value's lines,
  or removed when the value is empty; so the template stays valid in its
  own language;
- elsewhere `@@name@@` is replaced by the value, inline.

Every placeholder must get a value and every value must be used, so a
renamed placeholder fails generation instead of reaching nginx.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from .model import FLUENT_BIT_ANSWER_SECS, Deployment
from .yaml_text import header, yaml_comment

TEMPLATES = Path(__file__).resolve().parent / "templates"
# One pass, so a value is never scanned for placeholders itself.
_PLACEHOLDER = re.compile(r"^[ \t]*(?:#|//)?[ \t]*@@([a-z_]+)@@[ \t]*\n|@@([a-z_]+)@@", re.M)


class TemplateError(Exception):
    """A template and its values do not fit (a generator bug, not a list error)."""


def render_template(name: str, values: dict[str, str]) -> str:
    text = (TEMPLATES / name).read_text(encoding="utf-8")
    used: set[str] = set()

    def substitute(m: re.Match) -> str:
        key = m.group(1) or m.group(2)
        if key not in values:
            raise TemplateError(f"templates/{name}: no value for @@{key}@@")
        used.add(key)
        if m.group(1) is None:
            return values[key]
        return values[key] + "\n" if values[key] else ""

    text = _PLACEHOLDER.sub(substitute, text)
    unused = set(values) - used
    if unused:
        raise TemplateError(f"templates/{name}: values never used: {sorted(unused)}")
    return text


def render_nginx(dep: Deployment, source: str, overrides: list[str]) -> str:
    f = dep.front
    return render_template("nginx.conf", {
        "header": "\n".join(yaml_comment(header(source, overrides), "")),
        "user_line": f"user {f['user']};" if f["user"] else "",
        "env_lines": "\n".join(f"env {c.access_key_env};" for c in dep.commons),
        "log_dir": f["log_dir"],
        "js_dir": f["js_dir"],
        "listen": f["listen"],
        "server_name": f["server_name"],
        "tls_certificate": f["tls_certificate"],
        "tls_certificate_key": f["tls_certificate_key"],
        "fluent_bit_url": f["fluent_bit_url"],
        "answer_timeout": str(FLUENT_BIT_ANSWER_SECS),
    })


def render_njs(dep: Deployment, source: str, overrides: list[str]) -> str:
    # json.dumps writes JavaScript string literals (names and variables are
    # plain ASCII, validated by load.py).
    table = ",\n".join(
        "    {name: %s, tag: %s, keyEnv: %s}" % (json.dumps(c.name), json.dumps(c.tag), json.dumps(c.access_key_env))
        for c in dep.commons
    )
    return render_template("firehose.js", {
        "header": "\n".join("// " + line for line in header(source, overrides).split("\n")),
        "commons": table,
        "part_bytes": f"var PART_BYTES = {dep.front['part_bytes']};",
    })
