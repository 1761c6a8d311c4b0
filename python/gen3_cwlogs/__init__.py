"""CloudWatch Logs subscription data decoded by the gen3-cwlogs WebAssembly
component (wit/cwlogs.wit), hosted by wasmtime-py.

    from gen3_cwlogs import Decoder, OptionError
    decoder = Decoder("gen3_cwlogs.component.wasm")   # compile once, reuse
    out = decoder.decode(payload, commons="devplanetv1", slow_threshold_secs=65)
    for entry in out["entries"]:          # documents, alerts, error documents
        print(entry["kind"], entry["id"], entry["json"])
    print(out["counters"])

Options take the core's snake_case names; an unset option is the
component's default (`default_options()`); a refused one raises
`OptionError` (`.name`, `.reason`).
"""

from ._decoder import (
    COMPONENT_ENV,
    INTERFACE,
    PACKAGED_COMPONENT,
    Decoder,
    OptionError,
    decode,
    decode_ndjson,
    default_options,
)

__all__ = [
    "COMPONENT_ENV",
    "INTERFACE",
    "PACKAGED_COMPONENT",
    "Decoder",
    "OptionError",
    "decode",
    "decode_ndjson",
    "default_options",
]
