"""The component (wit/cwlogs.wit, `gen3:cwlogs/decoder@0.2.0`) in
wasmtime-py's component API, mapped onto plain Python values.

How wasmtime-py 49 maps the WIT, and what this module does about it:

- `record` -> a `wasmtime.component.Record` whose attributes carry the WIT
  field names (kebab-case, e.g. `slow-threshold-secs`); lifted here into
  dicts with the core's snake_case names.
- `option<T>` -> `None` or the value; `enum` -> its case name as `str`;
  `list<string>` -> `list`; `list<u8>` -> `bytes`; `u32`/`u64`/`s64` ->
  `int` (Python ints have no 2^53 limit, unlike JS numbers).
- `result<output, option-error>` -> `Variant(tag='ok'|'err', payload)`
  (both cases are records, so wasmtime-py tags them); an `err` becomes
  `OptionError` here, the one place a refusal is mapped.
- Integers are stored into C fields by ctypes, which wraps silently
  (`2**32 + 5` would reach a `u32` field as 5), so values outside the WIT
  type are refused here before lowering.
- `list<u8>` is lowered one byte per Python call (about 1.3 s per MiB), so
  the payload is lowered in bulk instead (`_lower_bytes`); results are read
  by a plan made once per type (`_lifter`) instead of wasmtime-py's lifting,
  which asks the C API for every record's field types again for each value
  (7x slower on `decode`'s entries).
- Both go through wasmtime-py's internals (`wasmtime._ffi`'s ctypes
  declarations, `enter_wasm`, `Func._func`, `Store._context()`), so the
  package pins wasmtime 49.0.0 and its tests compare both paths with
  wasmtime-py's own `Func.__call__` on every fixture.
"""

from __future__ import annotations

import ctypes
import os
import threading
from pathlib import Path
from typing import Any, Callable, Union

import wasmtime
from wasmtime import _ffi as ffi
from wasmtime import component as wc
from wasmtime.component._enter import enter_wasm

INTERFACE = "gen3:cwlogs/decoder@0.2.0"
COMPONENT_ENV = "GEN3_CWLOGS_COMPONENT"
# Where a packager puts the exported component so the package carries it
# (`cargo run -p gen3-cwlogs-cli -- --export-component <this path>`).
PACKAGED_COMPONENT = Path(__file__).with_name("gen3_cwlogs.component.wasm")

Payload = Union[bytes, bytearray, memoryview, str]


class OptionError(ValueError):
    """An option the decoder refused: `name` is the core's snake_case option
    name, `reason` says why. Raised for unknown names and values the WIT type
    cannot hold (checked here) as for values the component refuses."""

    def __init__(self, name: str, reason: str):
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason


def _snake(name: str) -> str:
    return name.replace("-", "_")


def _lift(value: Any) -> Any:
    """WIT values as plain Python: records as dicts with snake_case keys."""
    if isinstance(value, wc.Record):
        return {_snake(name): _lift(field) for name, field in vars(value).items()}
    if isinstance(value, list):
        return [_lift(item) for item in value]
    return value


_UINT_BITS = {wc.U8: 8, wc.U16: 16, wc.U32: 32, wc.U64: 64}


def _lower_option(name: str, ty: Any, value: Any) -> Any:
    """One option's Python value as wasmtime-py lowers it into WIT type `ty`."""
    if isinstance(ty, wc.OptionType):
        return None if value is None else _lower_option(name, ty.payload, value)
    if isinstance(ty, wc.String):
        if not isinstance(value, str):
            raise OptionError(name, f"{value!r} is not a string")
        return value
    if isinstance(ty, wc.F64):
        # bool is an int subclass; True as a threshold of 1 s is a mistake.
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise OptionError(name, f"{value!r} is not a number")
        try:
            return float(value)
        except OverflowError:
            raise OptionError(name, f"{value} does not fit a 64-bit float") from None
    for kind, bits in _UINT_BITS.items():
        if isinstance(ty, kind):
            if isinstance(value, bool) or not isinstance(value, int):
                raise OptionError(name, f"{value!r} is not a whole number")
            if not 0 <= value < 1 << bits:
                raise OptionError(name, f"{value} is outside 0..={(1 << bits) - 1} (WIT u{bits})")
            return value
    if isinstance(ty, wc.ListType) and isinstance(ty.element, wc.String):
        # A str is iterable too: "revproxy" must not become eight streams.
        if isinstance(value, str) or not isinstance(value, (list, tuple)):
            raise OptionError(name, f"{value!r} is not a list of strings")
        if not all(isinstance(item, str) for item in value):
            raise OptionError(name, f"{value!r} is not a list of strings")
        return list(value)
    if isinstance(ty, wc.EnumType):
        if value not in ty.names:
            raise OptionError(name, f"{value!r} is not one of {', '.join(ty.names)}")
        return value
    raise TypeError(f"option {name}: WIT type {type(ty).__name__} has no Python mapping here")


_VAL = ffi.wasmtime_component_val_t
_VAL_SIZE = ctypes.sizeof(_VAL)
_KIND_AT = _VAL.kind.offset
_U8_AT = _VAL.of.offset + ffi.wasmtime_component_valunion_t.u8.offset


def _lower_bytes(payload: bytes, out: Any) -> None:
    """Lowers `payload` as a WIT `list<u8>` into the C value `out`, writing
    every element's kind and byte with two strided copies instead of one
    Python call per byte (wasmtime-py's own `ListType.convert_to_c`). The
    element layout comes from wasmtime-py's ctypes declarations, the same
    ones its own lowering writes through."""
    raw = ffi.wasmtime_component_vallist_t()
    ffi.wasmtime_component_vallist_new_uninit(raw, len(payload))
    if payload:
        size = len(payload) * _VAL_SIZE
        view = memoryview((ctypes.c_uint8 * size).from_address(ctypes.addressof(raw.data.contents))).cast("B")
        view[_KIND_AT::_VAL_SIZE] = bytes([ffi.WASMTIME_COMPONENT_U8.value]) * len(payload)
        view[_U8_AT::_VAL_SIZE] = payload
        view.release()
    out.kind = ffi.WASMTIME_COMPONENT_LIST
    out.of.list = raw


def _lifter(ty: Any) -> Callable[[Any], Any]:
    """A function reading a C value of WIT type `ty` as plain Python (records
    as dicts with snake_case keys, `result` as `(tag, value)`), planned once
    per type. wasmtime-py's own lifting asks the C API for every record's
    field names and types again for each value (about 150 us per entry);
    this reads the same ctypes structures and frees nothing: the caller
    frees the whole value once."""
    if isinstance(ty, wc.RecordType):
        fields = [(_snake(name), _lifter(field)) for name, field in ty.fields]

        def record(c: Any) -> dict:
            data = c.of.record.data
            return {name: lift(data[i].val) for i, (name, lift) in enumerate(fields)}
        return record
    if isinstance(ty, wc.ListType):
        element = _lifter(ty.element)
        if isinstance(ty.element, wc.U8):
            return lambda c: bytes(c.of.list.data[i].of.u8 for i in range(c.of.list.size))
        return lambda c: [element(c.of.list.data[i]) for i in range(c.of.list.size)]
    if isinstance(ty, wc.OptionType):
        payload = _lifter(ty.payload)
        return lambda c: payload(c.of.option.contents) if c.of.option else None
    if isinstance(ty, wc.ResultType):
        ok = _lifter(ty.ok) if ty.ok is not None else (lambda c: None)
        err = _lifter(ty.err) if ty.err is not None else (lambda c: None)

        def result(c: Any) -> tuple:
            inner = c.of.result.val.contents if c.of.result.val else None
            if c.of.result.is_ok:
                return ("ok", ok(inner) if inner is not None else None)
            return ("err", err(inner) if inner is not None else None)
        return result
    if isinstance(ty, wc.String):
        return lambda c: ctypes.string_at(c.of.string.data, c.of.string.size).decode("utf-8")
    if isinstance(ty, wc.EnumType):
        return lambda c: ctypes.string_at(c.of.enumeration.data, c.of.enumeration.size).decode("utf-8")
    scalars = {wc.Bool: "boolean", wc.U8: "u8", wc.U16: "u16", wc.U32: "u32", wc.U64: "u64",
               wc.S8: "s8", wc.S16: "s16", wc.S32: "s32", wc.S64: "s64", wc.F32: "f32", wc.F64: "f64"}
    for kind, field in scalars.items():
        if isinstance(ty, kind):
            return lambda c, field=field: getattr(c.of, field)
    raise TypeError(f"WIT type {type(ty).__name__} has no Python mapping here")


def _payload_bytes(payload: Payload) -> bytes:
    if isinstance(payload, str):
        return payload.encode("utf-8")
    if isinstance(payload, (bytes, bytearray, memoryview)):
        return bytes(payload)
    raise TypeError(f"payload must be bytes or str, not {type(payload).__name__}")


def _read_component(component: Union[str, os.PathLike, bytes, None]) -> bytes:
    if isinstance(component, (bytes, bytearray)):
        return bytes(component)
    path = component or os.environ.get(COMPONENT_ENV) or PACKAGED_COMPONENT
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(
            f"no component at {path}: export it with `cargo run --locked -q -p gen3-cwlogs-cli -- "
            f"--export-component {path}` (or set {COMPONENT_ENV})"
        ) from None


class Decoder:
    """One compiled component and one instance of it, reused for every call.

    `component` is the component file's path or its bytes; by default
    `$GEN3_CWLOGS_COMPONENT`, else the copy packaged beside this module.
    `max_memory_bytes` caps the instance's linear memory: a payload needing
    more traps instead of growing the process. After a trap the instance is
    replaced by a fresh one at the next call (a trapped instance cannot be
    entered again). Calls are serialised by a lock: one thread at a time
    uses the instance.
    """

    def __init__(self, component: Union[str, os.PathLike, bytes, None] = None, *, max_memory_bytes: int | None = None):
        self._engine = wasmtime.Engine()
        self._component = wc.Component(self._engine, _read_component(component))
        # The component imports nothing (no WASI): an empty linker is enough,
        # and instantiation fails loudly if that ever changes.
        self._linker = wc.Linker(self._engine)
        interface = self._component.get_export_index(INTERFACE)
        if interface is None:
            raise ValueError(f"the component does not export {INTERFACE}")
        self._index = {}
        for name in ("default-options", "decode", "decode-ndjson"):
            index = self._component.get_export_index(name, interface)
            if index is None:
                raise ValueError(f"the component's {INTERFACE} has no function {name}")
            self._index[name] = index
        self._max_memory_bytes = max_memory_bytes
        self._lock = threading.Lock()
        self._instance = None
        with self._lock:
            self._instantiate()
            self._defaults = self._call_plain("default-options")
            decode_type = self._funcs["decode"].type(self._store)
            (_, self._options_type) = decode_type.params[1]
        # The option names, snake_case, with their WIT types and defaults.
        self._option_types = {_snake(name): (name, ty) for name, ty in self._options_type.fields}

    # ------------------------------------------------------------ instance

    def _instantiate(self) -> None:
        self._store = wasmtime.Store(self._engine)
        if self._max_memory_bytes is not None:
            self._store.set_limits(memory_size=self._max_memory_bytes)
        self._instance = self._linker.instantiate(self._store, self._component)
        self._funcs = {name: self._instance.get_func(self._store, index) for name, index in self._index.items()}
        self._lifters = {name: _lifter(func.type(self._store).result) for name, func in self._funcs.items()}

    def _call_plain(self, name: str, *params: Any) -> Any:
        func = self._funcs[name]
        value = func(self._store, *params)
        func.post_return(self._store)
        return value

    def _call_with_payload(self, name: str, payload: bytes, options: wc.Record) -> Any:
        """`func(payload, options)` as wasmtime-py's `Func.__call__` does it,
        except that the payload is lowered by `_lower_bytes` and the result
        read by `_lifter`'s plan (the tests check both against wasmtime-py's
        own `Func.__call__` on every fixture)."""
        if self._instance is None:
            self._instantiate()
        func = self._funcs[name]
        params = (ffi.wasmtime_component_val_t * 2)()
        lowered = 0
        try:
            _lower_bytes(payload, params[0])
            lowered = 1
            self._options_type.convert_to_c(self._store, options, ctypes.pointer(params[1]))
            lowered = 2
            result = ffi.wasmtime_component_val_t()
            try:
                enter_wasm(lambda: ffi.wasmtime_component_func_call(
                    ctypes.byref(func._func), self._store._context(), params, 2, ctypes.byref(result), 1))
            except (wasmtime.WasmtimeError, wasmtime.Trap):
                # A trapped instance refuses every later call: start afresh.
                self._instance = None
                raise
            try:
                value = self._lifters[name](result)
            finally:
                ffi.wasmtime_component_val_delete(ctypes.byref(result))
            func.post_return(self._store)
            return value
        finally:
            for i in range(lowered):
                ffi.wasmtime_component_val_delete(ctypes.byref(params[i]))

    # ------------------------------------------------------------- options

    def default_options(self) -> dict:
        """Every option at the component's default, by snake_case name."""
        return _lift(self._defaults)

    def _options(self, given: dict) -> wc.Record:
        record = wc.Record()
        for name, value in vars(self._defaults).items():
            setattr(record, name, value)
        for name, value in given.items():
            if name not in self._option_types:
                raise OptionError(name, f"unknown option (known: {', '.join(self._option_types)})")
            wit_name, ty = self._option_types[name]
            # None means unset: the component's default (for `option<T>`
            # fields that default is none).
            if value is not None:
                setattr(record, wit_name, _lower_option(name, ty, value))
        return record

    # -------------------------------------------------------------- decode

    def _decode(self, name: str, payload: Payload, options: dict) -> dict:
        data = _payload_bytes(payload)
        record = self._options(options)
        with self._lock:
            tag, value = self._call_with_payload(name, data, record)
        if tag == "err":
            raise OptionError(value["name"], value["reason"])
        return value

    def decode(self, payload: Payload, **options: Any) -> dict:
        """Decodes one payload (any input form: a Lambda Kinesis event, a
        Firehose delivery, an S3 archive, one record's data).

        Returns `{"entries": [...], "counters": {...}}`: one entry per
        document, alert and error document, in input order, each a dict
        `kind` ("document", "alert", "error"), `id`, `commons`, `time_ms`,
        `record_index`, `error` (`{"kind", "reason"}` or None) and `json`
        (the entry as the core writes it: the golden files' lines).

        Raises `OptionError` for a refused option; an undecodable payload is
        never an exception: it becomes error documents.
        """
        return self._decode("decode", payload, options)

    def decode_ndjson(self, payload: Payload, **options: Any) -> dict:
        """The same decode, the entries as three NDJSON strings:
        `{"documents", "alerts", "errors", "counters"}`. Much cheaper for
        large payloads: three strings cross the boundary, not a record per
        entry."""
        return self._decode("decode-ndjson", payload, options)


_shared: Decoder | None = None
_shared_lock = threading.Lock()


def _default_decoder() -> Decoder:
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Decoder()
        return _shared


def decode(payload: Payload, **options: Any) -> dict:
    """`Decoder().decode` on one decoder shared by the process (created at
    the first call from `$GEN3_CWLOGS_COMPONENT` or the packaged component)."""
    return _default_decoder().decode(payload, **options)


def decode_ndjson(payload: Payload, **options: Any) -> dict:
    """`Decoder().decode_ndjson` on the process's shared decoder."""
    return _default_decoder().decode_ndjson(payload, **options)


def default_options() -> dict:
    return _default_decoder().default_options()
