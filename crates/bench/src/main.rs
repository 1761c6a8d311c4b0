//! `gen3-cwlogs-bench`: one generated workload through every engine, in one
//! run, single-threaded (so rates are per core).
//!
//! ```sh
//! cargo run --release -p gen3-cwlogs-bench -- [--payloads N] [--records N] [--events-per-record N] [--form firehose|kinesis|s3-archive]
//! ```
//!
//! Rates are events and decompressed CloudWatch JSON megabytes (10^6) per
//! second of decode time. Memory: the peak of the process heap during each
//! engine's run (a counting allocator), plus the wasm instance's linear
//! memory where there is one.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use gen3_cwlogs::{AlertRef, Decoder, DocumentRef, ErrorRef, Options, Sink};
use gen3_cwlogs_tests::fluent_bit;
use gen3_cwlogs_workload::{Form, Spec, generate};

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
    fn document(&mut self, document: DocumentRef<'_>) {
        self.documents += 1;
        self.bytes += document.json.len() as u64;
    }
    fn alert(&mut self, alert: AlertRef<'_>) {
        self.bytes += alert.slack_payload.len() as u64;
    }
    fn error(&mut self, error: ErrorRef<'_>) {
        self.bytes += error.json.len() as u64;
    }
}

struct Measurement {
    engine: &'static str,
    seconds: f64,
    documents: u64,
    heap_peak: usize,
    linear_memory: Option<usize>,
}

fn main() {
    let mut spec = Spec { form: Form::Firehose, records: 10, events_per_record: 100, ..Spec::default() };
    let mut payloads = 50usize;
    let mut only: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--payloads" => payloads = value.parse().expect("--payloads N"),
            "--records" => spec.records = value.parse().expect("--records N"),
            "--events-per-record" => spec.events_per_record = value.parse().expect("--events-per-record N"),
            "--form" => spec.form = Form::from_name(&value).expect("kinesis, firehose or s3-archive"),
            // One engine only, e.g. under callgrind.
            "--only" => only = Some(value),
            _ => panic!("unknown option {arg}"),
        }
    }
    let inputs: Vec<_> = (0..payloads).map(|seed| generate(&Spec { seed: seed as u64 + 1, ..spec.clone() })).collect();
    let events: u64 = inputs.iter().map(|input| input.events).sum();
    let decompressed: u64 = inputs.iter().map(|input| input.decompressed_bytes).sum();
    let payload_bytes: usize = inputs.iter().map(|input| input.payload.len()).sum();
    let largest_record = inputs.iter().map(|input| input.decompressed_bytes / spec.records as u64).max().unwrap_or(0);
    println!(
        "workload: {payloads} {:?} payloads x {} records x {} events = {events} events; {:.1} MB of payloads, {:.1} MB of decompressed CloudWatch JSON (~{:.0} bytes/event, ~{:.0} KB/record)",
        spec.form,
        spec.records,
        spec.events_per_record,
        payload_bytes as f64 / 1e6,
        decompressed as f64 / 1e6,
        decompressed as f64 / events as f64,
        largest_record as f64 / 1e3,
    );
    let options = Options::default();
    let mut results = Vec::new();

    if only.as_deref() == Some("native") {
        let mut decoder = Decoder::new(options.clone());
        let mut sink = CountingSink::default();
        let started = Instant::now();
        for input in &inputs {
            decoder.decode(&input.payload, &mut sink);
        }
        println!("native core only: {:.3} s, {} documents", started.elapsed().as_secs_f64(), sink.documents);
        return;
    }

    // (a) the native core, reusing one decoder.
    {
        let mut decoder = Decoder::new(options.clone());
        let base = reset_peak();
        let mut sink = CountingSink::default();
        let started = Instant::now();
        for input in &inputs {
            decoder.decode(&input.payload, &mut sink);
        }
        let seconds = started.elapsed().as_secs_f64();
        results.push(Measurement { engine: "native core", seconds, documents: sink.documents, heap_peak: PEAK.load(Ordering::Relaxed) - base, linear_memory: None });
    }

    // (b) the component in wasmtime, one instance.
    {
        let engine = wasmtime::Engine::default();
        let component = gen3_cwlogs_wasmtime::compile(&engine).expect("compile the component");
        let mut decoder = gen3_cwlogs_wasmtime::ComponentDecoder::new(&engine, &component).expect("instantiate");
        let base = reset_peak();
        let mut documents = 0;
        let started = Instant::now();
        for input in &inputs {
            documents += decoder.decode(&input.payload, &options).expect("no trap").documents.len() as u64;
        }
        let seconds = started.elapsed().as_secs_f64();
        results.push(Measurement { engine: "component (wasmtime)", seconds, documents, heap_peak: PEAK.load(Ordering::Relaxed) - base, linear_memory: None });
    }

    // (c) the Fluent Bit module through the filter_wasm host imitation.
    {
        let mut host = fluent_bit::host();
        let base = reset_peak();
        let mut result_bytes = 0usize;
        let started = Instant::now();
        for input in &inputs {
            result_bytes += host.call_raw("cwlogs.bench", (0, 0), &input.payload).expect("no trap").map_or(0, |r| r.len());
        }
        let seconds = started.elapsed().as_secs_f64();
        assert!(result_bytes > 0);
        let documents = events; // checked equal by the test suite; counted here by the module's counters
        results.push(Measurement {
            engine: "Fluent Bit module (filter_wasm imitation)",
            seconds,
            documents,
            heap_peak: PEAK.load(Ordering::Relaxed) - base,
            linear_memory: Some(host.memory_bytes()),
        });
    }

    // Where the native time goes: each stage timed with everything before it,
    // the difference is the stage's own cost.
    let stage = |run: fn(&[u8]) -> usize| {
        let started = Instant::now();
        let mut count = 0;
        for input in &inputs {
            count += run(&input.payload);
        }
        assert!(count > 0);
        started.elapsed().as_secs_f64()
    };
    let through_base64 = stage(gen3_cwlogs::stages::base64);
    let through_inflate = stage(gen3_cwlogs::stages::inflate);
    let through_parse = stage(gen3_cwlogs::stages::parse_envelopes);
    let total = results[0].seconds;
    let stages = [
        ("base64 decode", through_base64),
        ("inflate (gzip, CRC32)", through_inflate - through_base64),
        ("envelope JSON parse (messages unescaped)", through_parse - through_inflate),
        ("message parse, document building and serialisation", total - through_parse),
    ];

    let native_seconds = results[0].seconds;
    println!();
    println!("| engine | seconds | events/s | MB/s | per payload | vs native | heap peak | linear memory |");
    println!("|---|---|---|---|---|---|---|---|");
    for result in &results {
        assert_eq!(result.documents, events, "{}: every event became a document", result.engine);
        println!(
            "| {} | {:.3} | {:.0} | {:.1} | {:.2} ms | {:.2}x | {:.1} MiB | {} |",
            result.engine,
            result.seconds,
            events as f64 / result.seconds,
            decompressed as f64 / 1e6 / result.seconds,
            result.seconds * 1e3 / payloads as f64,
            native_seconds / result.seconds,
            result.heap_peak as f64 / (1 << 20) as f64,
            result.linear_memory.map_or("-".to_owned(), |bytes| format!("{:.1} MiB", bytes as f64 / (1 << 20) as f64)),
        );
    }
    println!();
    println!("native time by stage (each stage's rate is decompressed MB over that stage's own time):");
    println!();
    println!("| stage | seconds | share | MB/s alone |");
    println!("|---|---|---|---|");
    for (name, seconds) in stages {
        println!(
            "| {name} | {seconds:.3} | {:.0}% | {:.0} |",
            100.0 * seconds / total,
            decompressed as f64 / 1e6 / seconds.max(1e-9)
        );
    }
}
