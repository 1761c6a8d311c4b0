//! What the command line names: files, directories (every file under them,
//! in name order), glob patterns, stdin. An input that cannot be read is
//! reported and skipped; the others are decoded.

use std::io::Read;
use std::path::{Path, PathBuf};

pub struct Input {
    /// As named on stderr.
    pub name: String,
    path: Option<PathBuf>,
    /// Bytes, for progress (0 for stdin).
    pub size: u64,
}

impl Input {
    pub fn read(&self) -> Result<Vec<u8>, String> {
        match &self.path {
            None => {
                let mut payload = Vec::new();
                std::io::stdin().read_to_end(&mut payload).map_err(|error| format!("reading stdin: {error}"))?;
                Ok(payload)
            }
            Some(path) => std::fs::read(path).map_err(|error| format!("reading {}: {error}", self.name)),
        }
    }
}

/// The inputs `args` name, and how many names could not be expanded (each
/// reported on stderr).
pub fn expand(args: &[String]) -> (Vec<Input>, u32) {
    let mut inputs = Vec::new();
    let mut unreadable = 0;
    if args.is_empty() {
        inputs.push(Input { name: "-".to_owned(), path: None, size: 0 });
    }
    for arg in args {
        if arg == "-" {
            inputs.push(Input { name: "-".to_owned(), path: None, size: 0 });
            continue;
        }
        let path = Path::new(arg);
        let is_pattern = arg.contains(['*', '?', '[']) && !path.exists();
        let paths: Vec<PathBuf> = if is_pattern {
            match glob::glob(arg) {
                Ok(paths) => paths.filter_map(Result::ok).collect(),
                Err(error) => {
                    eprintln!("gen3-cwlogs: {arg}: not a valid pattern: {error}");
                    unreadable += 1;
                    continue;
                }
            }
        } else {
            vec![path.to_path_buf()]
        };
        if paths.is_empty() {
            eprintln!("gen3-cwlogs: {arg}: no file matches");
            unreadable += 1;
        }
        for path in paths {
            if let Err(message) = collect(&path, &mut inputs) {
                eprintln!("gen3-cwlogs: {message}");
                unreadable += 1;
            }
        }
    }
    (inputs, unreadable)
}

fn collect(path: &Path, inputs: &mut Vec<Input>) -> Result<(), String> {
    let metadata = std::fs::metadata(path).map_err(|error| format!("reading {}: {error}", path.display()))?;
    if metadata.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|error| format!("reading {}: {error}", path.display()))?
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .collect();
        entries.sort();
        for entry in entries {
            collect(&entry, inputs)?;
        }
    } else {
        inputs.push(Input { name: path.display().to_string(), path: Some(path.to_path_buf()), size: metadata.len() });
    }
    Ok(())
}

pub fn progress_bar(total: u64) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {bytes}/{total_bytes} {wide_bar} {elapsed} (eta {eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}
