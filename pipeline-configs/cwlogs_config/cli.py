"""The command line: read the list, render every file, write or compare.

    python3 pipeline-configs/generate.py COMMONS.json --out DIR [--check]

Exit status: 0 done (or, with --check, up to date); 1 --check found files
that differ; 2 the commons list (or the decoder's option schema) is not
usable, and nothing was written.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .aws import render_aws
from .fluent_bit import render_fluent_bit
from .front import render_nginx, render_njs
from .load import load
from .model import ConfigError, Deployment
from .schema import SchemaError, load_schema
from .search import render_search
from .terraform import render_terraform
from .vector import left_out_note, render_vector, vector_commons

USAGE = """Generate the collector pipelines (Fluent Bit + nginx front, Vector) and the
AWS half (CloudFormation, Terraform) from one commons list."""


def render_all(dep: Deployment, source: str, overrides: list[str]) -> dict[str, str]:
    return {
        "fluent-bit/fluent-bit.yaml": render_fluent_bit(dep, source, overrides),
        "front/nginx.conf": render_nginx(dep, source, overrides),
        "front/firehose.js": render_njs(dep, source, overrides),
        "vector/vector.yaml": render_vector(dep, source, overrides),
        **render_search(dep),
        **render_aws(dep),
        **render_terraform(dep, source),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=USAGE)
    parser.add_argument("commons", help="the commons list (JSON)")
    parser.add_argument("--out", required=True,
                        help="directory to write fluent-bit/, front/, vector/, search/ (and aws/) into")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if the files in --out differ from what would be generated")
    group = parser.add_argument_group("front overrides (tests and local runs; recorded in the generated header)")
    group.add_argument("--front-listen", help="listen address, e.g. 127.0.0.1:8443")
    group.add_argument("--front-fluent-bit-url", help="Fluent Bit in_http URL, e.g. http://127.0.0.1:9880")
    group.add_argument("--front-js-dir", help="directory holding firehose.js")
    group.add_argument("--front-tls-dir", help="directory holding the certificate and key (their configured file names)")
    group.add_argument("--front-log-dir", help="directory for nginx's error and access logs")
    args = parser.parse_args(argv)

    path = Path(args.commons)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        print(f"{path}: cannot read the commons list: {e}", file=sys.stderr)
        return 2

    overrides = []
    if args.front_listen:
        overrides.append(f"--front-listen {args.front_listen}")
    if args.front_fluent_bit_url:
        overrides.append(f"--front-fluent-bit-url {args.front_fluent_bit_url}")
    if args.front_js_dir:
        overrides.append(f"--front-js-dir {args.front_js_dir}")
    if args.front_tls_dir:
        overrides.append(f"--front-tls-dir {args.front_tls_dir}")
    if args.front_log_dir:
        overrides.append(f"--front-log-dir {args.front_log_dir}")
    try:
        front = data.get("front") if isinstance(data, dict) else None
        if overrides and isinstance(front, dict):
            front = dict(front)
            if args.front_listen:
                front["listen"] = args.front_listen
            if args.front_fluent_bit_url:
                front["fluent_bit_url"] = args.front_fluent_bit_url
            if args.front_js_dir:
                front["js_dir"] = os.path.abspath(args.front_js_dir)
            if args.front_log_dir:
                front["log_dir"] = os.path.abspath(args.front_log_dir)
            if args.front_tls_dir:
                tls_dir = os.path.abspath(args.front_tls_dir)
                for key in ("tls_certificate", "tls_certificate_key"):
                    if isinstance(front.get(key), str):
                        front[key] = os.path.join(tls_dir, os.path.basename(front[key]))
            data = dict(data, front=front)
        dep = load(data, load_schema())
    except ConfigError as e:
        print(f"{path}: {e}", file=sys.stderr)
        return 2
    except SchemaError as e:
        print(f"the decoder's option schema: {e}", file=sys.stderr)
        return 2

    files = render_all(dep, path.name, overrides)
    left_out = vector_commons(dep)[1]
    if left_out:
        print("note: vector/vector.yaml: " + left_out_note(left_out), file=sys.stderr)
    out = Path(args.out)
    # Files in the generator's own directories that it no longer writes (a
    # commons removed from the list, the aws section dropped): reported,
    # never deleted, since --out may be a directory someone else also uses.
    leftovers = sorted(
        str(p) for top in ("fluent-bit", "front", "vector", "search", "aws") if (out / top).is_dir()
        for p in (out / top).rglob("*") if p.is_file() and p.relative_to(out).as_posix() not in files
    )
    if args.check:
        stale = []
        for rel, text in files.items():
            target = out / rel
            try:
                current = target.read_text(encoding="utf-8")
            except OSError:
                current = None
            if current != text:
                stale.append(str(target))
        if stale:
            print("out of date (regenerate, do not edit): " + ", ".join(stale), file=sys.stderr)
        if leftovers:
            print("not generated from this list (remove them): " + ", ".join(leftovers), file=sys.stderr)
        return 1 if stale or leftovers else 0
    for rel, text in files.items():
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    if leftovers:
        print("warning: not generated from this list, left in place (remove them): " + ", ".join(leftovers),
              file=sys.stderr)
    return 0
