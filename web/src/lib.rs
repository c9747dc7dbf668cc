//! The WebAssembly facade over redlet-core: a console-sized API for the first playground page.
//!
//! Each exported method imports its arguments, calls the engine and exports the result; the engine itself
//! never sees JavaScript. Time comes from the page's clock (`Date.now()`) plus a virtual offset the page can
//! move forward, never from inside the engine.

use redlet_core::format::format_console;
use redlet_core::tokenize::split_args;
use redlet_core::{ClientId, Config, Engine};
use wasm_bindgen::prelude::*;

/// An engine with one console client.
#[wasm_bindgen]
pub struct Redlet {
    engine: Engine,
    client: ClientId,
    offset_ms: f64,
}

#[wasm_bindgen]
impl Redlet {
    #[wasm_bindgen(constructor)]
    pub fn new() -> Redlet {
        let seed = js_sys::Date::now() as u64;
        let mut engine = Engine::new(Config { seed, ..Config::default() });
        let client = engine.connect(js_sys::Date::now() as u64);
        Redlet { engine, client, offset_ms: 0.0 }
    }

    /// Runs one typed redis-cli line and returns what redis-cli would print for it.
    #[wasm_bindgen(js_name = execFormatted)]
    pub fn exec_formatted(&mut self, line: &str) -> String {
        let argv = match split_args(line.as_bytes()) {
            Ok(argv) => argv,
            Err(e) => return format!("{e}\n"),
        };
        let args: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
        let now = self.now() as u64;
        let out = match self.engine.execute(self.client, &args, now) {
            Some(reply) => format_console(&argv, &reply, self.engine.resp_of(self.client)),
            None => String::new(),
        };
        if self.engine.is_closing(self.client) {
            self.engine.disconnect(self.client);
            self.client = self.engine.connect(now);
        }
        out
    }

    /// The prompt redis-cli shows: `127.0.0.1:6379>` or `127.0.0.1:6379[2]>` after SELECT 2.
    pub fn prompt(&self) -> String {
        match self.engine.client(self.client).map_or(0, |c| c.db) {
            0 => "127.0.0.1:6379> ".into(),
            db => format!("127.0.0.1:6379[{db}]> "),
        }
    }

    /// Moves the page's virtual clock forward, so TTLs can be watched expiring without waiting.
    #[wasm_bindgen(js_name = advanceTime)]
    pub fn advance_time(&mut self, ms: f64) {
        if ms.is_finite() && ms > 0.0 {
            self.offset_ms += ms;
        }
        let now = self.now() as u64;
        self.engine.tick(now);
    }

    /// The engine's current time in unix ms (page clock plus the virtual offset).
    pub fn now(&self) -> f64 {
        js_sys::Date::now() + self.offset_ms
    }

    /// Active expiry; the page calls it on a timer as Redis runs its cron.
    pub fn tick(&mut self) {
        let now = self.now() as u64;
        self.engine.tick(now);
    }
}

impl Default for Redlet {
    fn default() -> Redlet {
        Redlet::new()
    }
}
