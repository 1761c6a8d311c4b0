//! `gen3-cwlogs-bench`: one generated workload through every engine, in one
//! run, single-threaded (so rates are per core).
//!
//! ```sh
//! cargo run --release -p gen3-cwlogs-bench -- [--payloads N] [--records N] [--events-per-record N]
//!     [--form firehose|kinesis|s3-archive] [--rounds N] [--only native|component] [--component FILE] [--fluent-bit-records N]
//! ```
//!
//! Engines: (a) the native core; (b) the component in wasmtime, through
//! `decode` and through `decode-ndjson`; (c) the Fluent Bit module through
//! the filter_wasm host imitation, options set in the record as the shipped
//! pipeline sets them; (d) the VRL twin through the `vrl` crate, behind the
//! imitation of Vector's Firehose source (Firehose deliveries only: Vector
//! has no other input for them). All run with the example pipeline's first
//! commons' options (alerts on).
//!
//! Each engine runs `--rounds` times (default 5), the engines interleaved,
//! and its best round is reported. Rates are events and decompressed
//! CloudWatch JSON megabytes (10^6) per second of decode time. Memory: the
//! peak of the process heap during each engine's rounds (a counting
//! allocator; for the wasm engines the host side),
//! plus the instance's linear memory, against the goal's budget of 4x the
//! largest decompressed record plus 1 MiB per record in flight (a payload's
//! records are in flight together).
//!
//! `--fluent-bit-records N` instead runs N records through one Fluent Bit
//! module instance and reports its memory along the way (flat or not).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use clap::Parser as _;

use gen3_cwlogs::{Decoder, Entry, EntryKind, Options, Sink};
use gen3_cwlogs_harness::fluent_bit;
use gen3_cwlogs_vrl_twin::Pipeline;
use gen3_cwlogs_vrl_twin::options::options_program;
use gen3_cwlogs_vrl_twin::source::{Request, SourceConfig};
use gen3_cwlogs_workload::{Form, Generated, Mix, Spec, generate, generate_mix};

struct CountingAllocator;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator, only counting sizes.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        ptr
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Resets the heap peak to the current use; returns the current use.
fn reset_peak() -> usize {
    let now = CURRENT.load(Ordering::Relaxed);
    PEAK.store(now, Ordering::Relaxed);
    now
}

/// Counts what the core produces without keeping it, so the native figure
/// is the decoder's own cost.
#[derive(Default)]
struct CountingSink {
    documents: u64,
    bytes: u64,
}

impl Sink for CountingSink {
    fn entry(&mut self, entry: &Entry<'_>) {
        self.documents += u64::from(entry.kind == EntryKind::Document);
        self.bytes += entry.json.len() as u64;
    }
}

/// Decodes one input; returns the documents it made.
type RunOne<'a> = Box<dyn FnMut(&[u8]) -> u64 + 'a>;

/// One engine: what it runs on each input and how big its instance's
/// linear memory is (for the wasm engines).
struct Engine<'a> {
    name: &'static str,
    inputs: &'a [Generated],
    run: RunOne<'a>,
    linear_memory: Option<Box<dyn Fn() -> usize + 'a>>,
    /// Best time over the rounds; documents and heap peak of every round.
    seconds: f64,
    documents: u64,
    heap_peak: usize,
}

impl<'a> Engine<'a> {
    fn new(name: &'static str, inputs: &'a [Generated], run: impl FnMut(&[u8]) -> u64 + 'a) -> Self {
        Engine { name, inputs, run: Box::new(run), linear_memory: None, seconds: f64::INFINITY, documents: 0, heap_peak: 0 }
    }

    fn with_linear_memory(mut self, bytes: impl Fn() -> usize + 'a) -> Self {
        self.linear_memory = Some(Box::new(bytes));
        self
    }

    /// Times one pass over every input, keeping the best time.
    fn round(&mut self) {
        let base = reset_peak();
        let started = Instant::now();
        let documents = self.inputs.iter().map(|input| (self.run)(&input.payload)).sum();
        self.seconds = self.seconds.min(started.elapsed().as_secs_f64());
        self.heap_peak = self.heap_peak.max(PEAK.load(Ordering::Relaxed) - base);
        assert!(self.documents == 0 || self.documents == documents, "{}: the same documents every round", self.name);
        self.documents = documents;
    }
}

/// The example pipeline's first commons (pipeline-configs/commons.example.json).
fn pipeline_options() -> Options {
    Options {
        commons: Some("devplanetv1".into()),
        slow_threshold_secs: Some(65.0),
        alert_streams: Options::GEN3_ALERT_STREAMS.iter().map(|stream| (*stream).to_owned()).collect(),
        ..Options::default()
    }
}

/// The record Fluent Bit hands the module: the delivery with the options
/// keys the pipeline's modify filter adds (`gen3_cwlogs_*`).
fn with_fluent_bit_options(payload: &[u8], options: &Options) -> Vec<u8> {
    let keys = format!(
        r#"{{"gen3_cwlogs_commons":"{}","gen3_cwlogs_slow_threshold_secs":"{}","gen3_cwlogs_alert_streams":"{}","#,
        options.commons.as_deref().unwrap_or_default(),
        options.slow_threshold_secs.unwrap_or_default(),
        options.alert_streams.join(","),
    );
    let body = payload.strip_prefix(b"{").expect("a Firehose delivery or Kinesis event is a JSON object");
    [keys.as_bytes(), body].concat()
}

/// One generated workload through every engine, single-threaded.
#[derive(clap::Parser)]
#[command(name = "gen3-cwlogs-bench")]
struct Cli {
    /// Payloads generated (each a delivery of --records records).
    #[arg(long, default_value_t = 50)]
    payloads: usize,
    #[arg(long, default_value_t = 10)]
    records: usize,
    #[arg(long, default_value_t = 100)]
    events_per_record: usize,
    #[arg(long, default_value = "firehose", value_parser = |name: &str| Form::from_name(name).ok_or("kinesis, firehose or s3-archive"))]
    form: Form,
    /// varied (uwsgi-heavy) or gen3-traffic (half gen3 access logs).
    #[arg(long, default_value = "varied", value_parser = |name: &str| Mix::from_name(name).ok_or("varied or gen3-traffic"))]
    mix: Mix,
    /// Rounds per engine, interleaved; each engine's best is reported.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Run the native core alone, or with the component (under perf or
    /// callgrind).
    #[arg(long, value_parser = ["native", "component"])]
    only: Option<String>,
    /// Benchmark another build of the component in place of the embedded one.
    #[arg(long, value_name = "FILE")]
    component: Option<std::path::PathBuf>,
    /// Run N records through one Fluent Bit module instance and report its
    /// memory along the way instead.
    #[arg(long, value_name = "N")]
    fluent_bit_records: Option<u64>,
    /// Time the inputs that once broke linearity and memory instead.
    #[arg(long)]
    adversarial: bool,
}

fn main() {
    let cli = Cli::parse();
    let spec = Spec { form: cli.form, records: cli.records, events_per_record: cli.events_per_record, ..Spec::default() };
    let (payloads, rounds, only, component_file) = (cli.payloads, cli.rounds.max(1), cli.only.clone(), cli.component.clone());
    if cli.adversarial {
        adversarial(&pipeline_options());
        return;
    }
    let fluent_bit_records = cli.fluent_bit_records;
    let options = pipeline_options();
    if let Some(records) = fluent_bit_records {
        fluent_bit_memory(records, &options);
        return;
    }

    let inputs: Vec<Generated> = (0..payloads).map(|seed| generate_mix(&Spec { seed: seed as u64 + 1, ..spec.clone() }, cli.mix)).collect();
    let events: u64 = inputs.iter().map(|input| input.events).sum();
    let decompressed: u64 = inputs.iter().map(|input| input.decompressed_bytes).sum();
    let payload_bytes: usize = inputs.iter().map(|input| input.payload.len()).sum();
    let largest_record = inputs.iter().map(|input| input.largest_record_bytes).max().unwrap_or(0);
    println!(
        "workload: {payloads} {:?} {:?} payloads x {} records x {} events = {events} events; {:.1} MB of payloads, {:.1} MB of decompressed CloudWatch JSON (~{:.0} bytes/event, largest record {:.0} KB)",
        spec.form,
        cli.mix,
        spec.records,
        spec.events_per_record,
        payload_bytes as f64 / 1e6,
        decompressed as f64 / 1e6,
        decompressed as f64 / events as f64,
        largest_record as f64 / 1e3,
    );

    // (a) the native core, reusing one decoder.
    let decoder = RefCell::new(Decoder::new(options.clone()).expect("valid options"));
    let native = Engine::new("native core", &inputs, |payload| {
        let mut sink = CountingSink::default();
        decoder.borrow_mut().decode(payload, &mut sink);
        sink.documents
    });
    // (a') the same, the output kept as owned documents (what
    // `gen3_cwlogs::decode` returns and what the component hands its host).
    let native_kept = Engine::new("native core, output kept", &inputs, |payload| {
        let mut output = gen3_cwlogs::Output::default();
        output.counters = decoder.borrow_mut().decode(payload, &mut output);
        output.counters.documents
    });

    // Only the engines asked for are set up: `--only` runs (under perf or
    // callgrind) should see nothing else.
    let all = only.is_none();
    // (b) the component in wasmtime, one instance. `GEN3_CWLOGS_PERFMAP=1`
    // names the guest's functions for `perf record` (/tmp/perf-PID.map).
    let component = (only.as_deref() != Some("native")).then(|| {
        let mut config = wasmtime::Config::new();
        if std::env::var_os("GEN3_CWLOGS_PERFMAP").is_some() {
            config.profiler(wasmtime::ProfilingStrategy::PerfMap);
        }
        let engine = wasmtime::Engine::new(&config).expect("engine");
        let component = match &component_file {
            Some(path) => wasmtime::component::Component::from_file(&engine, path).expect("compile the component file"),
            None => gen3_cwlogs_wasmtime::compile(&engine, gen3_cwlogs_wasmtime::COMPONENT_WASM).expect("compile the component"),
        };
        RefCell::new(gen3_cwlogs_wasmtime::ComponentDecoder::new(&engine, &component).expect("instantiate"))
    });
    // (c) the Fluent Bit module, options in the record as the pipeline sets them.
    let fluent_bit = all.then(|| {
        let records: Vec<Generated> =
            inputs.iter().map(|input| Generated { payload: with_fluent_bit_options(&input.payload, &options), ..input.clone() }).collect();
        (RefCell::new(fluent_bit::host()), records)
    });
    // (d) the VRL twin, behind Vector's Firehose source.
    let access_key = "bench-key";
    let twin = (all && spec.form == Form::Firehose).then(|| {
        RefCell::new(
            Pipeline::shipped(
                SourceConfig { access_keys: vec![access_key.into()], ..SourceConfig::default() },
                &options_program(&[(access_key, &options)], None),
            )
            .expect("the twin compiles"),
        )
    });

    let mut engines = vec![native];
    if all {
        engines.push(native_kept);
    }
    if let Some(component) = &component {
        engines.push(
            Engine::new("component (wasmtime)", &inputs, |payload| {
                component.borrow_mut().decode(payload, &options).expect("no trap").counters.documents
            })
            .with_linear_memory(|| component.borrow().linear_memory_bytes()),
        );
        engines.push(
            Engine::new("component, NDJSON export", &inputs, |payload| {
                component.borrow_mut().decode_ndjson(payload, &options).expect("no trap").counters.documents
            })
            .with_linear_memory(|| component.borrow().linear_memory_bytes()),
        );
    }
    if let Some((host, records)) = &fluent_bit {
        engines.push(
            Engine::new("Fluent Bit module (filter_wasm imitation)", records, |record| {
                let result = host.borrow_mut().call_raw("cwlogs.bench", (0, 0), record).expect("no trap").expect("a result");
                // Entries are `{"kind":"document",...}`; counting them keeps
                // the check honest without parsing the whole result.
                result.matches(r#"{"kind":"document""#).count() as u64
            })
            .with_linear_memory(|| host.borrow().memory_bytes()),
        );
    }
    if let Some(twin) = &twin {
        engines.push(Engine::new("VRL twin (vrl 0.34, Vector source imitation)", &inputs, |body| {
            let request = Request {
                request_id: "ed4acda5-034f-9f42-bba1-f29aea6d7d8f",
                source_arn: "arn:aws:firehose:us-east-1:433568766270:deliverystream/bench",
                access_key: Some(access_key),
                content_encoding: None,
                body,
            };
            let mut documents = 0;
            twin.borrow_mut()
                .deliver_with(&request, |_, event| {
                    // What a `route` transform reads.
                    if event.value.as_object().and_then(|object| object.get("_cwlogs_kind")).and_then(|kind| kind.as_str()).as_deref()
                        == Some("document")
                    {
                        documents += 1;
                    }
                })
                .expect("the twin runs")
                .expect("the source accepts the delivery");
            documents
        }));
    }

    // Where the native time goes: each stage timed with everything before
    // it; the difference is the stage's own cost.
    let stage = |run: fn(&[u8]) -> usize| {
        let started = Instant::now();
        let count: usize = inputs.iter().map(|input| run(&input.payload)).sum();
        assert!(count > 0);
        started.elapsed().as_secs_f64()
    };
    let mut through = [f64::INFINITY; 3];

    // Rounds interleave the engines, so a burst of load elsewhere on the
    // machine slows one round of each rather than one engine; each engine's
    // best round is its figure.
    for _ in 0..rounds {
        for engine in &mut engines {
            engine.round();
        }
        if all {
            for (best, run) in through.iter_mut().zip([
                gen3_cwlogs::stages::base64 as fn(&[u8]) -> usize,
                gen3_cwlogs::stages::inflate,
                gen3_cwlogs::stages::parse_envelopes,
            ]) {
                *best = best.min(stage(run));
            }
        }
    }
    let native_seconds = engines[0].seconds;
    let [through_base64, through_inflate, through_parse] = through;
    let stages = [
        ("base64 decode", through_base64),
        ("inflate (gzip, CRC32)", through_inflate - through_base64),
        ("envelope JSON parse (messages unescaped)", through_parse - through_inflate),
        ("message parse, document building and serialisation", native_seconds - through_parse),
    ];

    let budget = 4 * largest_record as usize + spec.records * (1 << 20);
    let mib = |bytes: usize| bytes as f64 / (1 << 20) as f64;
    println!();
    println!("| engine | seconds | events/s | MB/s | per payload | vs native | heap peak | linear memory | memory / budget |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for result in &engines {
        assert_eq!(result.documents, events, "{}: every event became a document", result.name);
        let linear_memory = result.linear_memory.as_ref().map(|bytes| bytes());
        let memory = result.heap_peak + linear_memory.unwrap_or(0);
        println!(
            "| {} | {:.3} | {:.0} | {:.1} | {:.2} ms | {:.2}x | {:.1} MiB | {} | {:.2} |",
            result.name,
            result.seconds,
            events as f64 / result.seconds,
            decompressed as f64 / 1e6 / result.seconds,
            result.seconds * 1e3 / payloads as f64,
            native_seconds / result.seconds,
            mib(result.heap_peak),
            linear_memory.map_or("-".to_owned(), |bytes| format!("{:.1} MiB", mib(bytes))),
            memory as f64 / budget as f64,
        );
    }
    println!();
    println!(
        "memory budget: 4 x {:.0} KB (largest record) + {} records in flight x 1 MiB = {:.1} MiB",
        largest_record as f64 / 1e3,
        spec.records,
        mib(budget)
    );
    if let Some(twin) = engines.iter().find(|result| result.name.starts_with("VRL")) {
        println!("native / VRL twin speed: {:.1}x", twin.seconds / native_seconds);
    }
    if !all {
        return;
    }
    println!();
    println!("native time by stage (each stage's rate is decompressed MB over that stage's own time):");
    println!();
    println!("| stage | seconds | share | MB/s alone |");
    println!("|---|---|---|---|");
    for (name, seconds) in stages {
        println!(
            "| {name} | {seconds:.3} | {:.0}% | {:.0} |",
            100.0 * seconds / native_seconds,
            decompressed as f64 / 1e6 / seconds.max(1e-9)
        );
    }
}

/// `records` Fluent Bit records (small deliveries of 1 to 40 events, and
/// the shared fixtures) through one module instance, the way one filter
/// instance lives for a pipeline's lifetime: the linear memory after the
/// warm-up must be the memory at the end.
fn fluent_bit_memory(records: u64, options: &Options) {
    let mut inputs: Vec<Vec<u8>> = (0..32u64)
        .map(|seed| {
            let spec = Spec {
                form: Form::Firehose,
                records: 1,
                events_per_record: 1 + (seed as usize * 7) % 40,
                seed: seed + 1,
                ..Spec::default()
            };
            with_fluent_bit_options(&generate(&spec).payload, options)
        })
        .collect();
    // Every shared fixture but the gzip bomb (bad-records: 16 MiB inflated
    // per call would make a million calls take hours; the CI test runs it).
    inputs.extend(gen3_cwlogs_harness::fixtures().into_iter().filter(|fixture| fixture.name != "bad-records").map(|fixture| fixture.input));
    let mut host = fluent_bit::host();
    let warm_up = (inputs.len() as u64 * 4).min(records);
    let mut after_warm_up = 0;
    let mut result_bytes = 0u64;
    let started = Instant::now();
    for call in 0..records {
        if call == warm_up {
            after_warm_up = host.memory_bytes();
            println!("after {warm_up} records (warm-up): linear memory {after_warm_up} bytes");
        }
        let input = &inputs[(call % inputs.len() as u64) as usize];
        result_bytes += host.call_raw("cwlogs.bench", (0, 0), input).expect("no trap").map_or(0, |result| result.len() as u64);
        if (call + 1) % (records / 10).max(1) == 0 {
            println!("after {} records: linear memory {} bytes, {:.1} s", call + 1, host.memory_bytes(), started.elapsed().as_secs_f64());
        }
    }
    let end = host.memory_bytes();
    println!(
        "{records} records ({} distinct inputs, {:.1} MB of results) through one instance in {:.1} s: linear memory {} bytes after warm-up, {} bytes at the end: {}",
        inputs.len(),
        result_bytes as f64 / 1e6,
        started.elapsed().as_secs_f64(),
        after_warm_up,
        end,
        if end == after_warm_up { "flat" } else { "GREW" }
    );
}

/// Inputs that once broke linearity or memory (issue 11), through the
/// native core (streamed to a counting sink, as the CLI streams) and the
/// component: time, output bytes, and memory against the budget.
fn adversarial(options: &Options) {
    let gzip = gen3_cwlogs_workload::gzip;
    let envelope = |n: usize| {
        format!(
            r#"{{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","subscriptionFilters":["f"],"logEvents":[{{"id":"{n}","timestamp":1551461674000,"message":"event {n}"}}]}}"#
        )
    };
    let kinesis = generate(&Spec { form: Form::Kinesis, records: 20_000, events_per_record: 1, ..Spec::default() });
    let cases: Vec<(&str, Vec<u8>, usize)> = vec![
        ("archive of 200,000 empty gzip members", gzip(b"").repeat(200_000), 0),
        (
            "archive: 10,000 members that are no envelope between 2 good ones",
            [gzip(envelope(1).as_bytes()), gzip(br#"{"not":"an envelope"}"#).repeat(10_000), gzip(envelope(2).as_bytes())].concat(),
            256,
        ),
        ("100,000 concatenated one-event envelopes", (0..100_000).map(envelope).collect::<String>().into_bytes(), 256),
        ("Kinesis event of 20,000 one-event records", kinesis.payload.clone(), kinesis.largest_record_bytes as usize),
    ];
    let engine = wasmtime::Engine::default();
    let component = gen3_cwlogs_wasmtime::compile(&engine, gen3_cwlogs_wasmtime::COMPONENT_WASM).expect("compile the component");
    println!("| input | input bytes | engine | seconds | output bytes | heap peak | linear memory | budget |");
    println!("|---|---|---|---|---|---|---|---|");
    for (name, payload, largest_record) in cases {
        // 4 x the largest decompressed record + 1 MiB, plus the output held
        // (the native core streams it, so nothing is held).
        let budget = 4 * largest_record + (1 << 20);
        let mut decoder = Decoder::new(options.clone()).expect("valid options");
        let base = reset_peak();
        let started = Instant::now();
        let mut sink = CountingSink::default();
        decoder.decode(&payload, &mut sink);
        let seconds = started.elapsed().as_secs_f64();
        let heap = PEAK.load(Ordering::Relaxed) - base;
        println!(
            "| {name} | {} | native | {seconds:.3} | {} | {:.0} KiB | - | {:.1} MiB |",
            payload.len(),
            sink.bytes,
            heap as f64 / 1024.0,
            budget as f64 / (1 << 20) as f64
        );
        let mut instance = gen3_cwlogs_wasmtime::ComponentDecoder::new(&engine, &component).expect("instantiate");
        let base = reset_peak();
        let started = Instant::now();
        let output = instance.decode_ndjson(&payload, options).expect("no trap");
        let seconds = started.elapsed().as_secs_f64();
        let heap = PEAK.load(Ordering::Relaxed) - base;
        let bytes = output.documents.len() + output.alerts.len() + output.errors.len();
        println!(
            "| {name} | {} | component, decode-ndjson | {seconds:.3} | {bytes} | {:.1} MiB | {:.1} MiB | {:.1} MiB + output |",
            payload.len(),
            heap as f64 / (1 << 20) as f64,
            instance.linear_memory_bytes() as f64 / (1 << 20) as f64,
            budget as f64 / (1 << 20) as f64
        );
    }
}
