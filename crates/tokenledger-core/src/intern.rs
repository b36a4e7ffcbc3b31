//! Shared copies of the names that repeat across millions of events (agents,
//! models, projects, sessions): one `Arc<str>` per thread and name instead of
//! an allocation per event.

use rustc_hash::FxHashMap;
use std::cell::RefCell;
use std::sync::Arc;

/// Bounded, so a stream of unique names (request ids) cannot grow it forever.
const MAX_NAMES: usize = 4096;

pub fn shared(text: &str) -> Arc<str> {
    thread_local! {
        static NAMES: RefCell<FxHashMap<Box<str>, Arc<str>>> = RefCell::default();
    }
    NAMES.with_borrow_mut(|names| {
        if let Some(name) = names.get(text) {
            return Arc::clone(name);
        }
        if names.len() >= MAX_NAMES {
            names.clear();
        }
        let name: Arc<str> = Arc::from(text);
        names.insert(Box::from(text), Arc::clone(&name));
        name
    })
}
