//! Renders run below the API's CPU priority. A node that renders is also the node that answers
//! `GET /v1/videos/{id}` for clients polling it; with both at one priority the scheduler splits
//! the cores evenly and a read waits behind a frame being encoded. On Linux the nice value is
//! per thread and inherited by the threads and processes a thread starts, so lowering one
//! thread lowers the engine's painter, OpenH264's encoder threads and the sandboxed ffmpeg
//! decoders with it, and leaves tokio's runtime threads alone.

/// Runs `f` on a thread of its own at nice value `nice` (0 runs it here, unchanged), and
/// returns its result; a panic in `f` is resumed in the caller, so the caller's panic boundary
/// still holds.
pub fn at_nice<T: Send>(nice: i32, f: impl FnOnce() -> T + Send) -> T {
    if nice == 0 {
        return f();
    }
    std::thread::scope(|s| {
        let worker = std::thread::Builder::new()
            .name("kinora-render".into())
            .spawn_scoped(s, move || {
                set_this_threads_nice(nice);
                f()
            })
            .expect("spawning a render thread");
        worker
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

#[cfg(target_os = "linux")]
fn set_this_threads_nice(nice: i32) {
    // PRIO_PROCESS with a thread id sets that one thread (Linux's threads are tasks).
    let tid = rustix::thread::gettid();
    if rustix::process::setpriority_process(Some(tid), nice).is_err() {
        // Raising priority needs a capability; lowering it never does, so this is unexpected
        // and harmless: the render runs at the API's priority.
        tracing::debug!(nice, "could not lower the render thread's priority");
    }
}

#[cfg(not(target_os = "linux"))]
fn set_this_threads_nice(_nice: i32) {}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    fn this_threads_nice() -> i32 {
        rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap()
    }

    #[test]
    fn the_render_and_what_it_starts_run_lower_and_the_caller_does_not() {
        let before = this_threads_nice();
        let target = (before + 7).min(19);
        let (inside, child) = at_nice(target, || {
            let child = std::thread::spawn(this_threads_nice).join().unwrap();
            (this_threads_nice(), child)
        });
        assert_eq!(inside, target);
        assert_eq!(
            child,
            before + 7,
            "threads the render starts inherit its priority"
        );
        assert_eq!(
            this_threads_nice(),
            before,
            "the calling thread keeps its own"
        );
        assert_eq!(at_nice(0, this_threads_nice), before);
    }

    #[test]
    fn a_panic_in_the_render_reaches_the_caller() {
        let caught = std::panic::catch_unwind(|| at_nice(5, || panic!("bad job")));
        assert!(caught.is_err());
    }
}
