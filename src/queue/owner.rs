//! Who is running a job. A process names itself `host:pid:start`, where
//! `start` is the process's start time, and renews a heartbeat after every
//! batch. Another process may take the job over when the owner is on this
//! host and no longer alive (checked at once, so `resume` right after a
//! kill -9 just works), or when its heartbeat is older than the lease (the
//! owner is on another host, or cannot be checked).

/// A heartbeat older than this frees the job.
pub const LEASE_MS: i64 = 60_000;

/// This process's owner name.
pub fn me() -> String {
    let pid = std::process::id();
    format!(
        "{}:{pid}:{}",
        hostname(),
        start_time(pid).unwrap_or_default()
    )
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .unwrap_or_else(|| "localhost".to_string())
}

/// The start time of a process (Linux: field 22 of /proc/PID/stat).
fn start_time(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces: count from its closing paren.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19).map(str::to_string)
}

/// Is the process named `owner` still running the job?
pub fn alive(owner: Option<&str>, heartbeat_at: Option<i64>, now: i64) -> bool {
    let Some(owner) = owner else {
        return false;
    };
    let fresh = heartbeat_at.is_some_and(|beat| now - beat < LEASE_MS);
    let mut parts = owner.rsplitn(3, ':');
    let (Some(start), Some(pid), Some(host)) = (parts.next(), parts.next(), parts.next()) else {
        return fresh;
    };
    if host != hostname() || start.is_empty() {
        return fresh;
    }
    match pid.parse::<u32>().ok().map(start_time) {
        Some(Some(s)) => s == start,
        // No such process on this host: it died.
        Some(None) => false,
        None => fresh,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_dead_one_is_not() {
        let now = crate::store::now_ms();
        assert!(alive(Some(&me()), Some(now), now));
        let dead = format!("{}:{}:123", hostname(), u32::MAX - 1);
        assert!(!alive(Some(&dead), Some(now), now));
        assert!(!alive(None, Some(now), now));
    }

    #[test]
    fn another_host_is_judged_by_its_heartbeat() {
        let now = 1_000_000;
        assert!(alive(Some("elsewhere:42:7"), Some(now - 1000), now));
        assert!(!alive(
            Some("elsewhere:42:7"),
            Some(now - LEASE_MS - 1),
            now
        ));
    }
}
