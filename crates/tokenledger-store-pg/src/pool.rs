//! A small blocking connection pool: concurrent inserts and reports each get
//! their own connection instead of queueing on one, up to a fixed number.

use postgres::{Client, Config, NoTls};
use std::ops::{Deref, DerefMut};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

pub(crate) struct Pool {
    config: Config,
    size: usize,
    state: Mutex<State>,
    returned: Condvar,
}

struct State {
    idle: Vec<Client>,
    /// Connections handed out or idle.
    open: usize,
}

impl Pool {
    pub(crate) fn new(config: Config, size: usize) -> Pool {
        Pool {
            config,
            size,
            state: Mutex::new(State {
                idle: Vec::new(),
                open: 0,
            }),
            returned: Condvar::new(),
        }
    }

    /// An idle connection, a new one while fewer than `size` are open, or
    /// else the next one returned.
    pub(crate) fn get(&self) -> Result<Pooled<'_>, postgres::Error> {
        let mut state = self.lock();
        loop {
            while let Some(client) = state.idle.pop() {
                if !client.is_closed() {
                    return Ok(self.pooled(client));
                }
                state.open -= 1;
            }
            if state.open < self.size {
                state.open += 1;
                drop(state);
                // Connecting outside the lock: a slow server must not stall
                // the threads that only want an idle connection back.
                return match self.config.connect(NoTls) {
                    Ok(client) => Ok(self.pooled(client)),
                    Err(e) => {
                        self.lock().open -= 1;
                        self.returned.notify_one();
                        Err(e)
                    }
                };
            }
            state = self
                .returned
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn pooled(&self, client: Client) -> Pooled<'_> {
        Pooled {
            client: Some(client),
            pool: self,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        let idle = std::mem::take(&mut self.lock().idle);
        if idle.is_empty() {
            return;
        }
        // Each client owns a runtime, and dropping a runtime panics on an
        // async thread (where a server may drop its last handle to the
        // store): drop them on a plain thread instead.
        let _ = std::thread::spawn(move || drop(idle)).join();
    }
}

/// A connection on loan; it goes back to the pool when dropped, unless the
/// server closed it.
pub(crate) struct Pooled<'p> {
    client: Option<Client>,
    pool: &'p Pool,
}

impl Deref for Pooled<'_> {
    type Target = Client;
    fn deref(&self) -> &Client {
        self.client.as_ref().expect("present until dropped")
    }
}

impl DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut Client {
        self.client.as_mut().expect("present until dropped")
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        let mut state = self.pool.lock();
        match self.client.take() {
            Some(client) if !client.is_closed() => state.idle.push(client),
            _ => state.open -= 1,
        }
        drop(state);
        self.pool.returned.notify_one();
    }
}
