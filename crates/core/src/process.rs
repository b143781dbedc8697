//! What a process does to itself before it holds a secret: no core dumps, so a crash never
//! writes the sessions and tokens in its memory to disk.

/// Turns core dumps off for this process (Linux: a core size limit of 0, and not dumpable,
/// which also keeps other processes of the same user from reading its memory). Elsewhere it
/// does nothing. An `Err` says why it could not; the caller goes on and logs it.
pub fn disable_core_dumps() -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{
            DumpableBehavior, Resource, Rlimit, set_dumpable_behavior, setrlimit,
        };
        setrlimit(
            Resource::Core,
            Rlimit {
                current: Some(0),
                maximum: Some(0),
            },
        )?;
        set_dumpable_behavior(DumpableBehavior::NotDumpable)?;
    }
    Ok(())
}
