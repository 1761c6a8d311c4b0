//! `gen3-cwlogs`: decodes CloudWatch Logs subscription payloads into NDJSON.
//!
//! By default every payload runs through the embedded WebAssembly component
//! in wasmtime, exactly what other hosts load; `--native` runs the same core
//! compiled for this machine, to compare.

use std::io::{BufWriter, Read, Write};
use std::process::ExitCode;
use std::time::Instant;

use gen3_cwlogs::{Counters, Options, Output, Schema};

const USAGE: &str = "\
usage: gen3-cwlogs [OPTIONS] [FILE ...]

Decodes each FILE (or stdin, or `-`) as one payload: a Lambda-style Kinesis
event, a Firehose HTTP-endpoint delivery, an S3 archive (concatenated gzip
members or envelopes), or one record's data (base64, gzip or JSON). Prints
one JSON line per document, then `{\"alert\": ...}` lines, then error
documents (they have an `error` key). A summary goes to stderr.

options:
  --commons NAME              commons name (default: each event's log group)
  --threshold SECONDS         slow-response alert threshold (default: no alerts)
  --alert-streams A,B,...     streams checked for slow responses, by substring
                              (default: all; `gen3` = revproxy,sheepdog,peregrine)
  --schema gen3|cloudwatch    document schema (default: gen3)
  --max-decompressed-bytes N  per gzip member (default: 16777216)
  --max-events-per-record N   (default: 50000)
  --max-json-depth N          (default: 64, at most 120)
  --native                    run the native core instead of the wasm component
  --quiet                     print no documents, only the summary
  -h, --help                  this text
";

struct Args {
    options: Options,
    native: bool,
    quiet: bool,
    inputs: Vec<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut options = Options::default();
    let mut native = false;
    let mut quiet = false;
    let mut inputs = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "-h" | "--help" => return Err(String::new()),
            "--commons" => options.commons = Some(value("--commons")?),
            "--threshold" => {
                let text = value("--threshold")?;
                let seconds = text.parse::<f64>().map_err(|_| format!("--threshold: not a number: {text}"))?;
                options.slow_threshold_secs = Some(seconds);
            }
            "--alert-streams" => {
                let text = value("--alert-streams")?;
                options.alert_streams = if text == "gen3" {
                    Options::GEN3_ALERT_STREAMS.iter().map(|s| s.to_string()).collect()
                } else {
                    text.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect()
                };
            }
            "--schema" => {
                let text = value("--schema")?;
                options.schema = Schema::from_name(&text).ok_or_else(|| format!("--schema: unknown schema {text}"))?;
            }
            "--max-decompressed-bytes" => {
                options.limits.max_decompressed_bytes = parse_number(&arg, &value(&arg)?)?
            }
            "--max-events-per-record" => options.limits.max_events_per_record = parse_number(&arg, &value(&arg)?)?,
            "--max-json-depth" => options.limits.max_json_depth = parse_number(&arg, &value(&arg)?)?,
            "--native" => native = true,
            "--quiet" => quiet = true,
            _ if arg.starts_with("--") => return Err(format!("unknown option {arg}")),
            _ => inputs.push(arg),
        }
    }
    if inputs.is_empty() {
        inputs.push("-".to_owned());
    }
    Ok(Args { options, native, quiet, inputs })
}

fn parse_number<T: std::str::FromStr>(name: &str, text: &str) -> Result<T, String> {
    text.parse().map_err(|_| format!("{name}: not a valid number: {text}"))
}

/// The two ways to run the decoder.
enum Engine {
    Native(gen3_cwlogs::Decoder),
    Component(Box<gen3_cwlogs_wasmtime::ComponentDecoder>),
}

impl Engine {
    fn name(&self) -> &'static str {
        match self {
            Engine::Native(_) => "native",
            Engine::Component(_) => "component",
        }
    }

    fn decode(&mut self, payload: &[u8], options: &Options) -> Result<Output, String> {
        match self {
            Engine::Native(decoder) => {
                let mut output = Output::default();
                output.counters = decoder.decode(payload, &mut output);
                Ok(output)
            }
            Engine::Component(decoder) => {
                decoder.decode(payload, options).map_err(|error| format!("the component trapped: {error:?}"))
            }
        }
    }
}

fn read_input(path: &str) -> Result<Vec<u8>, String> {
    if path == "-" {
        let mut payload = Vec::new();
        std::io::stdin().read_to_end(&mut payload).map_err(|error| format!("reading stdin: {error}"))?;
        Ok(payload)
    } else {
        std::fs::read(path).map_err(|error| format!("reading {path}: {error}"))
    }
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) if message.is_empty() => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("gen3-cwlogs: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("gen3-cwlogs: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), String> {
    let started = Instant::now();
    let mut engine = if args.native {
        Engine::Native(gen3_cwlogs::Decoder::new(args.options.clone()))
    } else {
        let engine = wasmtime::Engine::default();
        let component = gen3_cwlogs_wasmtime::compile(&engine).map_err(|error| format!("compiling the component: {error:?}"))?;
        let decoder = gen3_cwlogs_wasmtime::ComponentDecoder::new(&engine, &component)
            .map_err(|error| format!("instantiating the component: {error:?}"))?;
        Engine::Component(Box::new(decoder))
    };
    let startup = started.elapsed();

    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut totals = Counters::default();
    let mut decode_secs = 0.0;
    for path in &args.inputs {
        let payload = read_input(path)?;
        let decode_started = Instant::now();
        let output = engine.decode(&payload, &args.options)?;
        decode_secs += decode_started.elapsed().as_secs_f64();
        totals.add(&output.counters);
        for error in &output.errors {
            eprintln!("gen3-cwlogs: {path}: {}: {}", error.kind.name(), error.reason);
        }
        if !args.quiet {
            out.write_all(output.to_ndjson().as_bytes()).map_err(|error| format!("writing stdout: {error}"))?;
        }
    }
    out.flush().map_err(|error| format!("writing stdout: {error}"))?;

    let mut summary = String::from("{\"engine\":\"");
    summary.push_str(engine.name());
    summary.push_str("\",\"counters\":");
    totals.write_json(&mut summary);
    let megabytes = totals.decompressed_bytes as f64 / 1e6;
    summary.push_str(&format!(
        ",\"startup_secs\":{:.3},\"decode_secs\":{:.3},\"events_per_sec\":{:.0},\"decompressed_mb_per_sec\":{:.1}}}",
        startup.as_secs_f64(),
        decode_secs,
        totals.events as f64 / decode_secs.max(1e-9),
        megabytes / decode_secs.max(1e-9)
    ));
    eprintln!("{summary}");
    Ok(())
}

