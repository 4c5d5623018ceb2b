//! CPU time, as Linux counts it: another process's (`/proc/PID/stat`, utime + stime, read before
//! and after a run), this thread's (`CLOCK_THREAD_CPUTIME_ID`, for the crypto floor, whose
//! server side runs interleaved with its client side on one thread) and this process's
//! (`CLOCK_PROCESS_CPUTIME_ID`, the load tool's own share of the cores).

use std::time::Duration;

use anyhow::{bail, Context as _};

/// The CPU time `pid` has used so far, user and system, of every thread.
pub(super) fn process_cpu(pid: u32) -> anyhow::Result<Duration> {
    let path = format!("/proc/{pid}/stat");
    let stat = std::fs::read_to_string(&path).with_context(|| format!("reading {path} (--server-pid {pid})"))?;
    let ticks = stat_ticks(&stat).with_context(|| format!("{path}: not a process status line"))?;
    let per_second = clock_ticks_per_second()?;
    Ok(Duration::from_secs_f64(ticks as f64 / per_second as f64))
}

/// utime + stime of a `/proc/PID/stat` line, in clock ticks. The command name (field 2) is in
/// parentheses and may hold spaces or parentheses itself, so fields are counted after the last ')'.
fn stat_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    // After ')': state is field 3, so utime (field 14) and stime (field 15) are the 12th and 13th.
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

fn clock_ticks_per_second() -> anyhow::Result<i64> {
    // SAFETY: sysconf reads a constant of the system; it takes no pointer and has no side effect.
    #[allow(unsafe_code)]
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks <= 0 {
        bail!("sysconf(_SC_CLK_TCK) gave {ticks}");
    }
    Ok(ticks)
}

/// The CPU time the calling thread has used so far (nanosecond resolution).
pub(super) fn thread_cpu() -> Duration {
    clock(libc::CLOCK_THREAD_CPUTIME_ID)
}

/// The CPU time this process has used so far, every thread (nanosecond resolution, where
/// `/proc/PID/stat` counts clock ticks).
pub(super) fn own_cpu() -> Duration {
    clock(libc::CLOCK_PROCESS_CPUTIME_ID)
}

/// CPU time per successful session, in milliseconds (a run without any counts as one).
pub(super) fn ms_per_session(cpu: Duration, successes: usize) -> f64 {
    cpu.as_secs_f64() * 1000.0 / successes.max(1) as f64
}

fn clock(id: libc::clockid_t) -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
    #[allow(unsafe_code)]
    let rc = unsafe { libc::clock_gettime(id, &mut ts) };
    assert_eq!(rc, 0, "the thread and process CPU clocks are always available on Linux");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_utime_plus_stime_whatever_the_command_name() {
        let line = "4242 (a (b) c) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 3 0 12345 0 0";
        assert_eq!(stat_ticks(line), Some(325));
        assert_eq!(stat_ticks("4242 (short) S 1"), None);
        assert_eq!(stat_ticks("no parenthesis"), None);
    }

    #[test]
    fn this_process_and_thread_use_cpu() {
        let before = thread_cpu();
        let mut x = 0u64;
        for i in 0..2_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        assert!(thread_cpu() > before);
        assert!(own_cpu() >= thread_cpu());
        assert!(process_cpu(std::process::id()).is_ok());
        assert!(process_cpu(u32::MAX).is_err());
    }
}
