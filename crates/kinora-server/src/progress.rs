//! Live progress: one reader per watched video, fanned out to every watcher.
//!
//! A video somebody watches gets a *feed*: one task that reads the video from the store when a
//! write path on this node says it changed (heartbeat, claim, completion, failure, cancel), or
//! once a second as the fallback for writes made by other nodes sharing the store. Each read that
//! differs from the last appends one event to the feed's history, which every watcher replays
//! from its own cursor; so a thousand watchers cost the store what one does. The history is what
//! makes `Last-Event-ID` resume exact: event ids are `{feed}:{seq}`, and a feed outlives its last
//! watcher (and its final event) by [`LINGER`], long enough for a client to reconnect.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::Stream;
use kinora_core::VideoStatus;
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;

use crate::state::AppState;
use crate::view::VideoView;

/// The fallback read interval, for changes another node wrote.
const POLL: Duration = Duration::from_secs(1);
/// How long a feed stays after its last watcher left or its video finished.
pub const LINGER: Duration = Duration::from_secs(30);
/// Above this many events a feed stops recording progress-only changes (the final one still
/// comes): a job cannot have more distinct states than this without a runaway writer.
const MAX_EVENTS: usize = 1024;

/// One server-sent event: `video.progress`, `video.completed` or `video.failed`.
#[derive(Clone, Debug)]
pub struct Event {
    pub id: String,
    pub name: &'static str,
    pub data: Arc<str>,
}

#[derive(Clone, Default)]
struct History {
    events: Arc<Vec<Event>>,
    /// No further events will come: the video is terminal, gone, or the server is stopping.
    ended: bool,
}

type Key = (String, String);

pub struct Feed {
    name: String,
    nudge: Notify,
    history: watch::Sender<History>,
    watchers: AtomicUsize,
    /// The video was queued at the last read: other jobs' claims move its queue position.
    queued: AtomicBool,
}

#[derive(Default)]
pub struct ProgressHub {
    feeds: Mutex<HashMap<Key, Arc<Feed>>>,
    stopping: CancellationToken,
}

impl ProgressHub {
    /// Says that video `id` changed on this node. Queued videos' feeds are woken too, since a
    /// claim or an ending moves everybody's place in the queue.
    pub fn changed(&self, id: &str) {
        let Ok(feeds) = self.feeds.lock() else { return };
        for ((_, vid), feed) in feeds.iter() {
            if vid == id || feed.queued.load(Ordering::Relaxed) {
                feed.nudge.notify_one();
            }
        }
    }

    /// Ends every stream, so a graceful shutdown is not held open by watchers.
    pub fn close(&self) {
        self.stopping.cancel();
    }

    /// The events of `project`'s video `id` from just after `last_event_id` (all of them when it
    /// is absent or names an earlier feed), then live ones until the video ends.
    pub fn watch(
        &self,
        state: &AppState,
        project: &str,
        id: &str,
        last_event_id: Option<&str>,
    ) -> impl Stream<Item = Event> + Send + 'static {
        let feed = self.feed(state, project, id);
        let start = last_event_id
            .and_then(|last| last.split_once(':'))
            .filter(|(name, _)| *name == feed.name)
            .and_then(|(_, seq)| seq.parse::<usize>().ok())
            .unwrap_or(0);
        feed.watchers.fetch_add(1, Ordering::SeqCst);
        let cursor = Cursor {
            rx: feed.history.subscribe(),
            next: start,
            _guard: WatcherGuard(feed),
        };
        futures::stream::unfold(cursor, |mut c| async move {
            loop {
                let h = c.rx.borrow_and_update().clone();
                if let Some(e) = h.events.get(c.next) {
                    c.next += 1;
                    return Some((e.clone(), c));
                }
                if h.ended || c.rx.changed().await.is_err() {
                    return None;
                }
            }
        })
    }

    fn feed(&self, state: &AppState, project: &str, id: &str) -> Arc<Feed> {
        let key = (project.to_string(), id.to_string());
        let mut feeds = self.feeds.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(f) = feeds.get(&key) {
            return f.clone();
        }
        let feed = Arc::new(Feed {
            name: format!("{:016x}", rand::random::<u64>()),
            nudge: Notify::new(),
            history: watch::Sender::new(History::default()),
            watchers: AtomicUsize::new(0),
            queued: AtomicBool::new(false),
        });
        feeds.insert(key.clone(), feed.clone());
        tokio::spawn(run_feed(state.clone(), key, feed.clone()));
        feed
    }

    fn remove(&self, key: &Key, feed: &Arc<Feed>) {
        let mut feeds = self.feeds.lock().unwrap_or_else(|p| p.into_inner());
        if feeds.get(key).is_some_and(|f| Arc::ptr_eq(f, feed)) {
            feeds.remove(key);
        }
    }
}

struct Cursor {
    rx: watch::Receiver<History>,
    next: usize,
    _guard: WatcherGuard,
}

struct WatcherGuard(Arc<Feed>);

impl Drop for WatcherGuard {
    fn drop(&mut self) {
        self.0.watchers.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What a watcher is told about: a change of any of these is one event.
type Observed = (VideoStatus, u8, Option<u64>);

async fn run_feed(state: AppState, key: Key, feed: Arc<Feed>) {
    let hub = &state.progress;
    let (project, id) = (&key.0, &key.1);
    let mut last: Option<Observed> = None;
    let mut idle_since = Instant::now();
    loop {
        let nudged = feed.nudge.notified();
        tokio::pin!(nudged);
        nudged.as_mut().enable();
        state.metrics.progress_reads.inc();
        match state.store.get_video(project, id).await {
            Ok(Some(r)) => {
                let position = if r.status == VideoStatus::Queued {
                    let pool_of = |m: &str| state.pool_of(m);
                    state
                        .queue_ranks
                        .position(&*state.store, id, &pool_of)
                        .await
                        .unwrap_or(None)
                } else {
                    None
                };
                feed.queued
                    .store(r.status == VideoStatus::Queued, Ordering::Relaxed);
                let now = (r.status, r.progress, position);
                let terminal = r.status.is_terminal();
                if last != Some(now) {
                    last = Some(now);
                    push(&feed, &VideoView::from_record(&r, position), terminal);
                }
                if terminal {
                    break;
                }
            }
            // Deleted: nothing more will happen to it.
            Ok(None) => break,
            Err(e) => tracing::warn!(video_id = %id, error = %e, "progress read failed"),
        }
        if feed.watchers.load(Ordering::SeqCst) > 0 {
            idle_since = Instant::now();
        } else if idle_since.elapsed() >= LINGER {
            hub.remove(&key, &feed);
            end(&feed);
            return;
        }
        tokio::select! {
            _ = hub.stopping.cancelled() => break,
            _ = &mut nudged => {}
            _ = tokio::time::sleep(POLL) => {}
        }
    }
    end(&feed);
    // Kept a while so a watcher that reconnects with `Last-Event-ID` gets what it missed.
    tokio::select! {
        _ = hub.stopping.cancelled() => {}
        _ = tokio::time::sleep(LINGER) => {}
    }
    hub.remove(&key, &feed);
}

fn push(feed: &Feed, video: &VideoView, terminal: bool) {
    let name = match (terminal, video.status) {
        (true, VideoStatus::Completed) => "video.completed",
        (true, _) => "video.failed",
        (false, _) => "video.progress",
    };
    let data: Arc<str> = serde_json::to_string(video)
        .unwrap_or_else(|_| "{}".into())
        .into();
    feed.history.send_modify(|h| {
        if !terminal && h.events.len() >= MAX_EVENTS {
            return;
        }
        let mut events = (*h.events).clone();
        let id = format!("{}:{}", feed.name, events.len() + 1);
        events.push(Event { id, name, data });
        h.events = Arc::new(events);
    });
}

fn end(feed: &Feed) {
    feed.history.send_modify(|h| h.ended = true);
}
