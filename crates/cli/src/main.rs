//! `gen3-cwlogs`: decodes CloudWatch Logs subscription payloads into NDJSON.
//!
//! By default every payload runs through the embedded WebAssembly component
//! in wasmtime, exactly what other hosts load (compiled once and cached on
//! disk, see `cache`); `--native` runs the same core compiled for this
//! machine. The decoder's options are the core's (`gen3_cwlogs::OPTIONS`),
//! as `--kebab-case` flags validated by the core.

mod cache;
mod inputs;

use std::io::{BufWriter, IsTerminal, Write};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Arg, ArgMatches, CommandFactory, FromArgMatches, Parser};
use gen3_cwlogs::{Counters, Entry, EntryKind, OPTIONS, Options, Sink};

const EXIT_CODES: &str = "\
Exit status:
  0  every payload decoded, no error documents
  1  some input became error documents (all of it was decoded or kept)
  2  usage error
  3  some input could not be read (every other input was decoded)
  4  the decoder failed (a bug: please report it)";

/// Decodes each input as one payload: a Lambda-style Kinesis event, a
/// Firehose delivery, a Lambda's CloudWatch Logs event, an S3 archive
/// (concatenated gzip members or envelopes) or one record's data (base64,
/// gzip or JSON). Prints one JSON line per entry, in input order: documents,
/// `{"alert": ...}` lines after their document, error documents (they have
/// an `error` key). Errors and a JSON summary go to stderr.
#[derive(Parser)]
#[command(name = "gen3-cwlogs", version, after_help = EXIT_CODES)]
struct Cli {
    /// Files, directories (every file under them), glob patterns, or `-`
    /// for stdin. None: stdin.
    inputs: Vec<String>,
    /// Run the core compiled for this machine instead of the component.
    #[arg(long)]
    native: bool,
    /// Print no entries, only the summary.
    #[arg(long, short)]
    quiet: bool,
    /// Compile the component afresh instead of using (and filling) the cache.
    #[arg(long)]
    no_cache: bool,
    /// Write the embedded component to FILE (for other component hosts) and exit.
    #[arg(long, value_name = "FILE")]
    export_component: Option<String>,
}

/// One flag per core option, validated by the core.
fn option_args() -> Vec<Arg> {
    OPTIONS
        .iter()
        .map(|spec| {
            let name = spec.name;
            let default = spec.default.map_or_else(String::new, |default| format!(" [default: {default}]"));
            Arg::new(name)
                .value_name(name.to_uppercase())
                .long(name.replace('_', "-"))
                .help(format!("{}{default}", spec.doc))
                .value_parser(move |text: &str| Options::default().set(name, text).map(|()| text.to_owned()).map_err(|error| error.reason))
        })
        .collect()
}

fn options_from(matches: &ArgMatches) -> Options {
    let mut options = Options::default();
    for spec in &OPTIONS {
        if let Some(text) = matches.get_one::<String>(spec.name) {
            // Each value passed its own check; set them in order.
            options.set(spec.name, text).expect("validated by the flag's parser");
        }
    }
    options
}

fn main() -> ExitCode {
    let matches = Cli::command().args(option_args()).get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
    let options = options_from(&matches);
    if let Err(error) = options.validate() {
        eprintln!("gen3-cwlogs: --{}: {}", error.option.replace('_', "-"), error.reason);
        return ExitCode::from(2);
    }
    if let Some(path) = &cli.export_component {
        return match std::fs::write(path, gen3_cwlogs_wasmtime::COMPONENT_WASM) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("gen3-cwlogs: writing {path}: {error}");
                ExitCode::from(3)
            }
        };
    }
    match run(&cli, &options) {
        Ok(status) => ExitCode::from(status),
        Err(message) => {
            eprintln!("gen3-cwlogs: {message}");
            ExitCode::from(4)
        }
    }
}

/// The two ways to run the decoder.
enum Engine {
    Native(Box<gen3_cwlogs::Decoder>),
    Component(Box<gen3_cwlogs_wasmtime::ComponentDecoder>),
}

/// Writes entries to stdout as they come and names errors on stderr.
struct Printer<'a, W: Write> {
    out: W,
    quiet: bool,
    path: &'a str,
    failed: Option<std::io::Error>,
    progress: Option<&'a indicatif::ProgressBar>,
    offset: u64,
}

impl<W: Write> Sink for Printer<'_, W> {
    fn entry(&mut self, entry: &Entry<'_>) {
        if let (EntryKind::Error, Some((kind, reason))) = (entry.kind, entry.error) {
            let line = format!("gen3-cwlogs: {}: {}: {reason}", self.path, kind.name());
            match self.progress {
                Some(bar) => bar.suspend(|| eprintln!("{line}")),
                None => eprintln!("{line}"),
            }
        }
        if !self.quiet
            && self.failed.is_none()
            && let Err(error) = self.out.write_all(entry.json.as_bytes()).and_then(|()| self.out.write_all(b"\n"))
        {
            self.failed = Some(error);
        }
    }

    fn progress(&mut self, consumed: u64) {
        if let Some(bar) = self.progress {
            bar.set_position(self.offset + consumed);
        }
    }
}

fn run(cli: &Cli, options: &Options) -> Result<u8, String> {
    let started = Instant::now();
    let mut engine = if cli.native {
        Engine::Native(Box::new(gen3_cwlogs::Decoder::new(options.clone()).map_err(|error| error.to_string())?))
    } else {
        let engine = wasmtime::Engine::default();
        let component = cache::component(&engine, !cli.no_cache)?;
        let decoder = gen3_cwlogs_wasmtime::ComponentDecoder::new(&engine, &component)
            .map_err(|error| format!("instantiating the component: {error:?}"))?;
        Engine::Component(Box::new(decoder))
    };
    let startup = started.elapsed();

    let (inputs, mut unreadable) = inputs::expand(&cli.inputs);
    let total_bytes: u64 = inputs.iter().map(|input| input.size).sum();
    let progress = (std::io::stderr().is_terminal() && total_bytes > 4 << 20).then(|| inputs::progress_bar(total_bytes));
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut totals = Counters::default();
    let mut decode_secs = 0.0;
    let mut offset = 0;
    for input in &inputs {
        let payload = match input.read() {
            Ok(payload) => payload,
            Err(message) => {
                eprintln!("gen3-cwlogs: {message}");
                unreadable += 1;
                continue;
            }
        };
        let decode_started = Instant::now();
        let mut printer = Printer { out: &mut out, quiet: cli.quiet, path: &input.name, failed: None, progress: progress.as_ref(), offset };
        let counters = match &mut engine {
            Engine::Native(decoder) => decoder.decode(&payload, &mut printer),
            Engine::Component(decoder) => {
                let output = decoder.decode(&payload, options).map_err(|error| error.to_string())?;
                output.entries.iter().for_each(|entry| printer.entry(&owned_entry(entry)));
                output.counters
            }
        };
        decode_secs += decode_started.elapsed().as_secs_f64();
        if let Some(error) = printer.failed {
            return Err(format!("writing stdout: {error}"));
        }
        offset += input.size;
        if let Some(bar) = &progress {
            bar.set_position(offset);
        }
        totals.add(&counters);
    }
    out.flush().map_err(|error| format!("writing stdout: {error}"))?;
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    let mut summary = format!(
        "{{\"engine\":\"{}\",\"inputs\":{},\"unreadable\":{unreadable},\"counters\":",
        if cli.native { "native" } else { "component" },
        inputs.len()
    );
    totals.write_json(&mut summary);
    summary.push_str(&format!(
        ",\"startup_secs\":{:.3},\"decode_secs\":{:.3},\"events_per_sec\":{:.0},\"decompressed_mb_per_sec\":{:.1}}}",
        startup.as_secs_f64(),
        decode_secs,
        totals.events as f64 / decode_secs.max(1e-9),
        totals.decompressed_bytes as f64 / 1e6 / decode_secs.max(1e-9)
    ));
    eprintln!("{summary}");
    Ok(if unreadable > 0 {
        3
    } else if totals.errors > 0 {
        1
    } else {
        0
    })
}

fn owned_entry(entry: &gen3_cwlogs::OwnedEntry) -> Entry<'_> {
    Entry {
        kind: entry.kind,
        id: &entry.id,
        commons: entry.commons.as_deref(),
        time_ms: entry.time_ms,
        record_index: entry.record_index,
        error: entry.error.as_ref().map(|(kind, reason)| (*kind, reason.as_str())),
        alert: None,
        json: &entry.json,
    }
}
