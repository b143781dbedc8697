//! Memory at rest: when the controller says the app is at rest, the app gives the kernel back
//! the pages of its own executable that start-up and the last round touched.
//!
//! Most of a tray app's life is spent waiting for the next check. At rest its largest part
//! is not its heap but its own code. Start-up and a check touch code spread over most of
//! the binary, and the kernel maps each touched page's neighbours with it. Those pages are
//! clean copies of the binary file, so `madvise(MADV_PAGEOUT)` lets the kernel drop them
//! now instead of at the next memory pressure. The next round reads back only the code it
//! runs, from the file. Android's app compaction does the same to apps in the background.
//!
//! Not `MADV_DONTNEED`: it unmaps the pages but leaves them in the page cache, and the
//! kernel's fault-around then maps every cached neighbour of the next page touched. Measured
//! (`scripts/bench.sh idle`), the minute's tray redraw mapped 13 MB of code back in.
//!
//! This is one of the app's two `unsafe` calls (the tidy test keeps it so; the other sets
//! WebKit's environment in `main.rs`).

/// How long after "at rest" the pages are given back: time for the main thread to finish
/// drawing what the last round changed.
const SETTLE: std::time::Duration = std::time::Duration::from_secs(2);

/// Gives back the executable's clean pages after [`SETTLE`], off the caller's thread.
pub(crate) fn at_rest() {
    tauri::async_runtime::spawn(async {
        tokio::time::sleep(SETTLE).await;
        let given = give_back_own_code();
        tracing::debug!("at rest: gave the kernel back {} KiB of code", given / 1024);
    });
}

/// Advises the kernel to reclaim this process's mappings of its own executable file that
/// hold only clean file pages (the code and the read-only data before it; never the
/// relocated data, which is private memory). Returns the bytes advised.
#[cfg(target_os = "linux")]
fn give_back_own_code() -> usize {
    let Ok(exe) = std::fs::read_link("/proc/self/exe") else {
        return 0;
    };
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
        return 0;
    };
    let mut given = 0;
    for (start, len) in clean_mappings_of(&maps, &exe.to_string_lossy()) {
        #[allow(unsafe_code)]
        // SAFETY: [start, start + len) is a whole mapping of this process's executable file,
        // read-only and private, as /proc/self/maps listed it: nothing ever writes to it
        // and it stays mapped for the life of the process. MADV_PAGEOUT never changes what
        // memory holds: a reclaimed clean page is read back from the file on its next access.
        // So no reference into the range (code, string constants) is invalidated.
        let advised =
            unsafe { rustix::mm::madvise(start as *mut _, len, rustix::mm::Advice::LinuxPageOut) };
        match advised {
            Ok(()) => given += len,
            Err(e) => tracing::debug!("cannot give back code pages: {e}"),
        }
    }
    given
}

#[cfg(not(target_os = "linux"))]
fn give_back_own_code() -> usize {
    0
}

/// The mappings of `exe` in `maps` (the text of /proc/self/maps) that hold only clean
/// file pages: the executable one (`r-xp`) and the read-only one at the file's start
/// (`r--p` at offset 0). The read-only mapping later in the file is the relocated data
/// (RELRO): written at load, so not clean.
fn clean_mappings_of(maps: &str, exe: &str) -> Vec<(usize, usize)> {
    maps.lines()
        .filter_map(|line| {
            let mut fields = line.split_ascii_whitespace();
            let range = fields.next()?;
            let perms = fields.next()?;
            let offset = fields.next()?;
            let path = fields.nth(2)?;
            // A path with spaces, or " (deleted)" after an upgrade, is not this file.
            if path != exe || fields.next().is_some() {
                return None;
            }
            let at_start = u64::from_str_radix(offset, 16).ok()? == 0;
            if !(perms == "r-xp" || (perms == "r--p" && at_start)) {
                return None;
            }
            let (start, end) = range.split_once('-')?;
            let start = usize::from_str_radix(start, 16).ok()?;
            let end = usize::from_str_radix(end, 16).ok()?;
            (end > start).then_some((start, end - start))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::clean_mappings_of;

    const MAPS: &str = "\
5600a0000000-5600a068b000 r--p 00000000 fe:00 531 /opt/sk/sessionkeeper-app
5600a068b000-5600a1765000 r-xp 0068a000 fe:00 531 /opt/sk/sessionkeeper-app
5600a1765000-5600a1817000 r--p 01763000 fe:00 531 /opt/sk/sessionkeeper-app
5600a1817000-5600a181d000 rw-p 01814000 fe:00 531 /opt/sk/sessionkeeper-app
5600a181d000-5600a1829000 rw-p 00000000 00:00 0
5600a2000000-5600a2400000 rw-p 00000000 00:00 0                          [heap]
7f0000000000-7f0000100000 r-xp 00000000 fe:00 77 /usr/lib/x86_64-linux-gnu/libgtk-3.so.0
7f0000200000-7f0000300000 r-xp 00000000 fe:00 532 /opt/sk/sessionkeeper-app (deleted)
";

    #[test]
    fn only_the_executables_clean_mappings_are_given_back() {
        assert_eq!(
            clean_mappings_of(MAPS, "/opt/sk/sessionkeeper-app"),
            vec![(0x5600a0000000, 0x68b000), (0x5600a068b000, 0x10da000)]
        );
    }

    #[test]
    fn another_file_or_a_replaced_binary_is_left_alone() {
        assert!(clean_mappings_of(MAPS, "/opt/sk/other").is_empty());
        // The binary replaced on disk (an upgrade while the app runs) reads "(deleted)".
        let replaced: Vec<_> = clean_mappings_of(MAPS, "/opt/sk/sessionkeeper-app")
            .into_iter()
            .filter(|(start, _)| *start == 0x7f0000200000)
            .collect();
        assert!(replaced.is_empty());
    }
}
