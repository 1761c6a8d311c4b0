// Browser and bundler entry (ESM). The module is fetched and compiled by
// `await init()`, once; `decode` and `defaultOptions` work after it.
import initWasm, { decode as decodeWasm, defaultOptions as defaultOptionsWasm } from './gen3_cwlogs.js';

let ready = null;
let initialised = false;

export function init(module) {
  ready ??= initWasm(module === undefined ? undefined : { module_or_path: module }).then(
    () => {
      initialised = true;
    },
    (error) => {
      // A failed load (a bad URL, no network) may be retried.
      ready = null;
      throw error;
    },
  );
  return ready;
}

function checkInitialised() {
  if (!initialised) {
    throw new Error('gen3-cwlogs: call `await init()` before decode() in a browser');
  }
}

export function decode(input, options) {
  checkInitialised();
  return decodeWasm(input, options);
}

export function defaultOptions() {
  checkInitialised();
  return defaultOptionsWasm();
}
