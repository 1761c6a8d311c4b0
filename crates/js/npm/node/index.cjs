'use strict';
// CommonJS entry for Node: wasm-bindgen's nodejs glue loads the module
// synchronously from the file beside it, so no `init()` is needed; it is
// exported so the same code runs in Node and browsers.
const wasm = require('./gen3_cwlogs.js');

exports.decode = wasm.decode;
exports.defaultOptions = wasm.defaultOptions;
exports.init = async function init() {};
