//! Renders run below the API's CPU priority. A node that renders is also the node that answers
//! `GET /v1/videos/{id}` for clients polling it; with both at one priority the scheduler splits
//! the cores evenly and a read waits behind a frame being encoded. On Linux the nice value and
//! the scheduling class are per thread and inherited by the threads and processes a thread
//! starts, so lowering one thread lowers the engine's painter, OpenH264's encoder threads and
//! the sandboxed ffmpeg decoders with it, and leaves tokio's runtime threads alone.
//!
//! Two strengths: a nice value (`engine.render_nice`), which still gives a render a share of a
//! busy CPU, and on top of it the idle class (`engine.render_idle`, `SCHED_IDLE`), which gives
//! it only the time nothing else wants: a waking API thread takes the core at once, which is
//! what keeps a read's p99 low while renders run. `thread-priority` sets the class, as the
//! workspace forbids the `unsafe` a direct `sched_setscheduler` call needs.

/// How far below the API a render runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RenderPriority {
    /// Nice value, 0–19 (0: the API's).
    pub nice: i32,
    /// Linux's idle scheduling class.
    pub idle: bool,
}

/// Runs `f` on a thread of its own at `priority` (the default runs it here, unchanged), and
/// returns its result; a panic in `f` is resumed in the caller, so the caller's panic boundary
/// still holds.
pub fn at_priority<T: Send>(priority: RenderPriority, f: impl FnOnce() -> T + Send) -> T {
    if priority == RenderPriority::default() {
        return f();
    }
    std::thread::scope(|s| {
        let worker = std::thread::Builder::new()
            .name("kinora-render".into())
            .spawn_scoped(s, move || {
                lower_this_thread(priority);
                f()
            })
            .expect("spawning a render thread");
        worker
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

#[cfg(target_os = "linux")]
fn lower_this_thread(priority: RenderPriority) {
    use thread_priority::{
        NormalThreadSchedulePolicy, ThreadPriority, ThreadSchedulePolicy,
        set_thread_priority_and_policy, thread_native_id,
    };
    // Lowering never needs a capability, so a failure here is unexpected and harmless: the
    // render runs at the API's priority. The class goes first: setting it resets the nice
    // value, which is set after.
    if priority.idle {
        let idle = ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle);
        if let Err(e) =
            set_thread_priority_and_policy(thread_native_id(), ThreadPriority::Min, idle)
        {
            tracing::debug!(error = ?e, "could not move the render thread to the idle class");
        }
    }
    // PRIO_PROCESS with a thread id sets that one thread (Linux's threads are tasks).
    let tid = rustix::thread::gettid();
    if rustix::process::setpriority_process(Some(tid), priority.nice).is_err() {
        tracing::debug!(
            nice = priority.nice,
            "could not lower the render thread's priority"
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_this_thread(_priority: RenderPriority) {}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    fn this_threads_nice() -> i32 {
        rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap()
    }

    /// The kernel's own word: field 41 of `/proc/thread-self/stat` is the policy (5 = idle).
    fn this_threads_policy() -> u32 {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
        // Fields after the command name, which is in parentheses and may hold spaces.
        let rest = &stat[stat.rfind(')').unwrap() + 2..];
        rest.split(' ').nth(38).unwrap().parse().unwrap()
    }

    const SCHED_OTHER: u32 = 0;
    const SCHED_IDLE: u32 = 5;

    #[test]
    fn the_render_and_what_it_starts_run_lower_and_the_caller_does_not() {
        let before = this_threads_nice();
        let target = (before + 7).min(19);
        let lower = RenderPriority {
            nice: target,
            idle: false,
        };
        let (inside, child, policy) = at_priority(lower, || {
            let child = std::thread::spawn(this_threads_nice).join().unwrap();
            (this_threads_nice(), child, this_threads_policy())
        });
        assert_eq!(inside, target);
        assert_eq!(
            child,
            before + 7,
            "threads the render starts inherit its priority"
        );
        assert_eq!(policy, SCHED_OTHER, "nice alone keeps the normal class");
        assert_eq!(
            this_threads_nice(),
            before,
            "the calling thread keeps its own"
        );
        let unchanged = at_priority(RenderPriority::default(), this_threads_nice);
        assert_eq!(unchanged, before);
    }

    #[test]
    fn the_idle_class_reaches_the_render_and_what_it_starts_and_keeps_the_nice_value() {
        let before = this_threads_nice();
        let idle = RenderPriority {
            nice: (before + 3).min(19),
            idle: true,
        };
        let (policy, child_policy, nice) = at_priority(idle, || {
            let child = std::thread::spawn(this_threads_policy).join().unwrap();
            (this_threads_policy(), child, this_threads_nice())
        });
        assert_eq!(policy, SCHED_IDLE);
        assert_eq!(
            child_policy, SCHED_IDLE,
            "threads it starts inherit the class"
        );
        assert_eq!(nice, idle.nice);
        assert_eq!(
            this_threads_policy(),
            SCHED_OTHER,
            "the caller stays normal"
        );
    }

    #[test]
    fn a_panic_in_the_render_reaches_the_caller() {
        let lower = RenderPriority {
            nice: 5,
            idle: false,
        };
        let caught = std::panic::catch_unwind(|| at_priority(lower, || panic!("bad job")));
        assert!(caught.is_err());
    }
}
