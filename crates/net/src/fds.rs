//! The process's descriptor limit: every connection is one, and the usual soft limit (1,024) is
//! far below what a listener under a flood of idle connections needs.

use rlimit::Resource;

/// The descriptor limit before and after [`raise_descriptor_limit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DescriptorLimit {
    /// The soft limit the process started with.
    pub before: u64,
    /// The soft limit now.
    pub now: u64,
    /// The hard limit: the most an unprivileged process can raise its soft limit to.
    pub hard: u64,
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit (on macOS, to `OPEN_MAX` at most).
pub fn raise_descriptor_limit() -> std::io::Result<DescriptorLimit> {
    let (before, hard) = Resource::NOFILE.get()?;
    let now = rlimit::increase_nofile_limit(hard)?;
    Ok(DescriptorLimit { before, now, hard })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raising_reaches_the_hard_limit_and_never_lowers() {
        let limit = raise_descriptor_limit().unwrap();
        assert!(limit.now >= limit.before);
        assert!(limit.now <= limit.hard);
        assert_eq!(raise_descriptor_limit().unwrap().before, limit.now);
    }
}
