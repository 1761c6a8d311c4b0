//! The harness's integration tests, one binary: each links wasmtime,
//! cranelift and LuaJIT, so separate binaries would cost a link and a few
//! hundred MB of disk apiece.

mod component;
mod fluent_bit;
mod hosts;
mod parts;
mod redpanda_connect;
mod robustness;
mod seed;
