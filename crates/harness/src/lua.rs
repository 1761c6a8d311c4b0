//! Fluent Bit's Lua filter, imitated with LuaJIT (the Lua Fluent Bit
//! embeds), to run the shipped scripts on the module's real output.
//!
//! plugins/filter_lua/lua.c calls `function(tag, timestamp, record)` and
//! reads `code, timestamp, record`: -1 drops, 0 keeps the input, 1 uses the
//! returned record(s) and time, 2 the returned record(s) with the input's
//! time. A returned array of maps becomes one record per element.

use mlua::{Lua, LuaSerdeExt, Value as LuaValue};
use serde_json::Value;

pub struct LuaFilter {
    lua: Lua,
}

impl LuaFilter {
    pub fn load(script: &std::path::Path) -> Self {
        let lua = Lua::new();
        let source = std::fs::read_to_string(script).expect("read the Lua script");
        lua.load(&source).set_name(script.display().to_string()).exec().expect("the script loads");
        LuaFilter { lua }
    }

    /// The records (with their times) Fluent Bit would keep after calling
    /// `function` on one record.
    pub fn call(&self, function: &str, tag: &str, time: f64, record: &Value) -> Vec<(f64, Value)> {
        let callback: mlua::Function = self.lua.globals().get(function).expect("the function exists");
        // enable_flb_null: JSON nulls reach Lua as a sentinel and come back.
        let table = self.lua.to_value(record).expect("record to Lua");
        let (code, returned_time, result): (i64, LuaValue, LuaValue) =
            callback.call((tag, time, table)).expect("the Lua filter runs without error");
        // A number of seconds, or with time_as_table {sec, nsec}.
        let new_time = match &returned_time {
            LuaValue::Table(parts) => parts.get::<f64>("sec").expect("sec") + parts.get::<f64>("nsec").expect("nsec") / 1e9,
            other => self.lua.from_value::<f64>(other.clone()).unwrap_or(time),
        };
        let keep_time = |returned: f64| if code == 1 { returned } else { time };
        match code {
            -1 => Vec::new(),
            0 => vec![(time, record.clone())],
            1 | 2 => {
                let LuaValue::Table(table) = result else { panic!("{function} returned a non-table record") };
                if table.raw_len() > 0 {
                    table
                        .sequence_values::<LuaValue>()
                        .map(|item| (keep_time(new_time), self.lua.from_value(item.unwrap()).expect("record from Lua")))
                        .collect()
                } else {
                    vec![(keep_time(new_time), self.lua.from_value(LuaValue::Table(table)).expect("record from Lua"))]
                }
            }
            other => panic!("{function} returned code {other}, which Fluent Bit rejects"),
        }
    }
}

/// Numbers compared as Fluent Bit's Lua sees them (doubles), so that `1`
/// and `1.0` are equal.
pub fn normalise_numbers(value: &Value) -> Value {
    match value {
        Value::Number(number) => serde_json::json!(number.as_f64().unwrap_or(f64::NAN)),
        Value::Array(items) => Value::Array(items.iter().map(normalise_numbers).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), normalise_numbers(v))).collect()),
        other => other.clone(),
    }
}

/// Fluent Bit's `parser` filter as the pipeline sets it (`format json`,
/// `key_name`, `reserve_data off`, `preserve_key off`; plugins/filter_parser
/// and src/flb_parser_json.c in v5.1.1): a record whose `key` holds the
/// text of a JSON object becomes that object, and keeps its time (the parser
/// has no time key); any other record passes unchanged.
pub fn parser_filter_json(key: &str, record: &Value) -> Value {
    match record.get(key).and_then(Value::as_str).map(serde_json::from_str::<Value>) {
        Some(Ok(object @ Value::Object(_))) => object,
        _ => record.clone(),
    }
}
