//! Vector's `remap` transform around a VRL program: compiled once with the
//! upstream schema, run per event with a fresh runtime state, an array result
//! expanded into one event per element (`VrlTarget::into_events`).

use std::collections::BTreeMap;

use vrl::compiler::prelude::*;
use vrl::compiler::runtime::Runtime;
use vrl::compiler::state::ExternalEnv;
use vrl::compiler::{CompileConfig, Program, TargetValue, TypeState};
use vrl::value::Secrets;

/// One Vector log event as a remap sees it.
#[derive(Clone, Debug)]
pub struct Event {
    pub value: Value,
    /// Event metadata (`%...` in VRL); kept from one transform to the next.
    pub metadata: Value,
    pub secrets: Secrets,
}

/// The types Vector 0.57 declares for the `aws_kinesis_firehose` source's
/// events (legacy namespace, `bytes` decoding): `.message`, `.timestamp`,
/// `.source_type`, `.request_id`, `.source_arn`, and `.common_attributes`
/// when configured. A remap is compiled against them.
pub fn firehose_source_kind() -> Kind {
    Kind::object(BTreeMap::from([
        ("message".into(), Kind::bytes()),
        ("timestamp".into(), Kind::timestamp()),
        ("source_type".into(), Kind::bytes()),
        ("request_id".into(), Kind::bytes()),
        ("source_arn".into(), Kind::bytes()),
        ("common_attributes".into(), Kind::object(Collection::from_unknown(Kind::bytes().or_null().or_undefined())).or_undefined()),
    ]))
}

/// What a program is compiled against.
#[derive(Clone, Debug)]
pub struct Schema {
    pub event: Kind,
    pub metadata: Kind,
}

impl Schema {
    /// Right after the `aws_kinesis_firehose` source.
    pub fn firehose_source() -> Self {
        Schema { event: firehose_source_kind(), metadata: Kind::object(Collection::any()) }
    }

    /// Nothing known: how a program reads when the upstream type is unknown.
    pub fn any() -> Self {
        Schema { event: Kind::any(), metadata: Kind::any() }
    }
}

/// The functions a Vector 0.57 remap offers that this project's programs
/// may use: vrl's stdlib-base plus Vector's `get_secret` and
/// `remove_secret`.
pub fn functions() -> Vec<Box<dyn Function>> {
    let mut functions = vrl::stdlib::all();
    functions.push(Box::new(GetSecret));
    functions.push(Box::new(RemoveSecret));
    functions
}

/// A compiled remap transform.
pub struct Remap {
    program: Program,
    runtime: Runtime,
    timezone: TimeZone,
    /// Compiler warnings, rendered (empty when there are none).
    pub warnings: Vec<String>,
}

impl Remap {
    /// Compiles `source` as Vector's remap does (default `CompileConfig`,
    /// unused-expression check on); errors come back rendered.
    pub fn compile(source: &str, schema: &Schema) -> Result<Remap, String> {
        let state =
            TypeState { local: Default::default(), external: ExternalEnv::new_with_kind(schema.event.clone(), schema.metadata.clone()) };
        let result = vrl::compiler::compile_with_state(source, &functions(), &state, CompileConfig::default())
            .map_err(|diagnostics| vrl::diagnostic::Formatter::new(source, diagnostics).to_string())?;
        let warnings = if result.warnings.is_empty() {
            Vec::new()
        } else {
            vec![vrl::diagnostic::Formatter::new(source, result.warnings).to_string()]
        };
        Ok(Remap { program: result.program, runtime: Runtime::default(), timezone: TimeZone::default(), warnings })
    }

    /// A copy of this transform with its own runtime state.
    pub fn fresh(&self) -> Remap {
        Remap { program: self.program.clone(), runtime: Runtime::default(), timezone: self.timezone, warnings: self.warnings.clone() }
    }

    /// Runs the program on one event. Vector would pass a failing event on
    /// unchanged (or drop it, with `drop_on_error`); here it is an error,
    /// since the shipped programs must never fail.
    pub fn run(&mut self, event: Event) -> Result<Vec<Event>, String> {
        let mut target = TargetValue { value: event.value, metadata: event.metadata, secrets: event.secrets };
        self.runtime.clear();
        let result = self.runtime.resolve(&mut target, &self.program, &self.timezone);
        result.map_err(|error| error.to_string())?;
        let TargetValue { value, metadata, secrets } = target;
        Ok(match value {
            // One event per element; what is not an object becomes an event
            // whose `message` it is (legacy namespace).
            Value::Array(values) => values
                .into_iter()
                .map(|value| Event { value: as_log(value), metadata: metadata.clone(), secrets: secrets.clone() })
                .collect(),
            value => vec![Event { value: as_log(value), metadata, secrets }],
        })
    }
}

fn as_log(value: Value) -> Value {
    match value {
        Value::Object(_) => value,
        other => Value::Object(ObjectMap::from([("message".into(), other)])),
    }
}

/// Vector's `get_secret` (lib/vector-vrl/functions/src/get_secret.rs, v0.57):
/// the event secret named `key`, or null.
#[derive(Clone, Copy, Debug)]
pub struct GetSecret;

impl Function for GetSecret {
    fn identifier(&self) -> &'static str {
        "get_secret"
    }

    fn usage(&self) -> &'static str {
        "Returns the value of the given secret from an event."
    }

    fn category(&self) -> &'static str {
        "Event"
    }

    fn return_kind(&self) -> u16 {
        kind::BYTES | kind::NULL
    }

    fn parameters(&self) -> &'static [Parameter] {
        const PARAMETERS: &[Parameter] = &[Parameter::required("key", kind::BYTES, "The name of the secret.")];
        PARAMETERS
    }

    fn examples(&self) -> &'static [Example] {
        &[]
    }

    fn compile(&self, _state: &TypeState, _ctx: &mut FunctionCompileContext, arguments: ArgumentList) -> Compiled {
        let key = arguments.required("key");
        Ok(GetSecretFn { key }.as_expr())
    }
}

#[derive(Debug, Clone)]
struct GetSecretFn {
    key: Box<dyn Expression>,
}

impl FunctionExpression for GetSecretFn {
    fn resolve(&self, ctx: &mut Context) -> Resolved {
        let key = self.key.resolve(ctx)?;
        let key = key.try_bytes_utf8_lossy()?.into_owned();
        Ok(match ctx.target().get_secret(&key) {
            Some(secret) => Value::from(secret),
            None => Value::Null,
        })
    }

    fn type_def(&self, _: &TypeState) -> TypeDef {
        TypeDef::bytes().add_null().infallible()
    }
}

/// Vector's `remove_secret` (lib/vector-vrl/functions/src/remove_secret.rs,
/// v0.57): removes the event secret named `key`; returns null.
#[derive(Clone, Copy, Debug)]
pub struct RemoveSecret;

impl Function for RemoveSecret {
    fn identifier(&self) -> &'static str {
        "remove_secret"
    }

    fn usage(&self) -> &'static str {
        "Removes a secret from an event."
    }

    fn category(&self) -> &'static str {
        "Event"
    }

    fn return_kind(&self) -> u16 {
        kind::NULL
    }

    fn parameters(&self) -> &'static [Parameter] {
        const PARAMETERS: &[Parameter] = &[Parameter::required("key", kind::BYTES, "The name of the secret to remove.")];
        PARAMETERS
    }

    fn examples(&self) -> &'static [Example] {
        &[]
    }

    fn compile(&self, _state: &TypeState, _ctx: &mut FunctionCompileContext, arguments: ArgumentList) -> Compiled {
        let key = arguments.required("key");
        Ok(RemoveSecretFn { key }.as_expr())
    }
}

#[derive(Debug, Clone)]
struct RemoveSecretFn {
    key: Box<dyn Expression>,
}

impl FunctionExpression for RemoveSecretFn {
    fn resolve(&self, ctx: &mut Context) -> Resolved {
        let key = self.key.resolve(ctx)?;
        let key = key.try_bytes_utf8_lossy()?.into_owned();
        ctx.target_mut().remove_secret(&key);
        Ok(Value::Null)
    }

    fn type_def(&self, _: &TypeState) -> TypeDef {
        // Impure, so a call whose result is unused is no "unused
        // expression" error.
        TypeDef::null().infallible().impure()
    }
}
