//! Helpers for tests of the tray app on a real desktop session: the app binary started with a
//! test's environment, the notifications it sends as seen on the bus (`dbus-monitor`), the X
//! windows it opens (`xwininfo`), and the processes it runs. Each test has a desktop of its
//! own ([`Desktop`]: Xvfb, a session bus, gnome-keyring and dunst), so app tests run side by
//! side.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::TestEnv;

/// A desktop of one test's own, so that app tests run side by side: an X display (Xvfb), a
/// D-Bus session bus, an unlocked gnome-keyring (a fresh login keyring) on that bus, and a
/// notification server (dunst) on both. Nothing of it is shared with another test or with
/// the desktop the tests run on. What it started stops when it is dropped.
#[derive(Debug)]
pub struct Desktop {
    dir: tempfile::TempDir,
    display: String,
    bus: String,
    webkit_compositing: bool,
    /// Started in this order; stopped in the reverse one (dunst first, Xvfb last).
    processes: Vec<Child>,
}

/// What a program needs to run on a desktop (a [`Desktop`], or the one this process runs on):
/// its display and its session bus.
#[derive(Debug, Clone)]
pub struct DesktopAddress {
    pub display: String,
    pub bus: String,
    /// The X authority file, where the display asks for one (xvfb-run's does; a
    /// [`Desktop`]'s Xvfb does not).
    pub xauthority: Option<String>,
    /// Whether WebKit composites its pages with OpenGL, as it does by default.
    pub webkit_compositing: bool,
}

impl DesktopAddress {
    /// The display and session bus this process runs on; fails (never skips) when either is
    /// missing.
    pub fn of_this_process() -> Self {
        let var = |name: &str| {
            std::env::var(name).unwrap_or_else(|_| {
                panic!(
                    "{name} is not set: run this under a display and a session bus \
                     (scripts/bench.sh: xvfb-run, dbus-run-session, scripts/with-desktop.sh)"
                )
            })
        };
        Self {
            display: var("DISPLAY"),
            bus: var("DBUS_SESSION_BUS_ADDRESS"),
            xauthority: std::env::var("XAUTHORITY").ok(),
            webkit_compositing: true,
        }
    }
}

impl Desktop {
    /// Starts a desktop for a test and waits until each of its parts answers; fails (never
    /// skips) the test when a part is missing.
    ///
    /// Its apps' WebKit does not composite with OpenGL (`WEBKIT_DISABLE_COMPOSITING_MODE`):
    /// Xvfb has no GPU, so WebKit would composite each frame in software (Mesa's llvmpipe),
    /// which took about half the CPU of the tests that open a window. The tests check what the
    /// pages do and show, not how WebKit paints them. Benchmarks use [`Self::as_packaged`].
    pub fn start() -> Self {
        Self::start_with(false)
    }

    /// A desktop whose apps' WebKit paints as it does on a user's machine (compositing on):
    /// for benchmarks, whose figures are the app's as packaged.
    pub fn as_packaged() -> Self {
        Self::start_with(true)
    }

    fn start_with(webkit_compositing: bool) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("sk-desktop-")
            .tempdir()
            .expect("tempdir");
        let run = dir.path().join("run");
        std::fs::create_dir_all(&run).expect("mkdir");
        std::fs::set_permissions(&run, std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .expect("chmod");
        let mut desktop = Self {
            display: String::new(),
            bus: String::new(),
            webkit_compositing,
            processes: Vec::new(),
            dir,
        };
        // Xvfb picks a free display itself and writes its number to fd 1 (`-displayfd`).
        let (xvfb, number) = desktop.spawn_reading_line(
            Command::new("Xvfb").args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                "1280x1024x24",
                "-nolisten",
                "tcp",
            ]),
            "Xvfb (xvfb) is installed by scripts/setup.sh",
        );
        desktop.processes.push(xvfb);
        desktop.display = format!(":{}", number.trim());
        // The bus: services it activates (none should be needed) see this desktop too.
        let mut bus = Command::new("dbus-daemon");
        bus.args(["--session", "--nofork", "--print-address=1"]);
        desktop.own_environment(&mut bus);
        let (daemon, address) = desktop.spawn_reading_line(
            &mut bus,
            "dbus-daemon (dbus-bin) is installed by scripts/setup.sh",
        );
        desktop.processes.push(daemon);
        desktop.bus = address.trim().to_owned();

        let mut keyring = desktop.spawn_on_bus(
            Command::new("gnome-keyring-daemon").args([
                "--foreground",
                "--unlock",
                "--components=secrets",
            ]),
            "gnome-keyring",
            Stdio::piped(),
            "gnome-keyring-daemon (gnome-keyring) is installed by scripts/setup.sh",
        );
        {
            use std::io::Write as _;
            // The login keyring's password; closing stdin ends it.
            let mut password = keyring.stdin.take().expect("stdin");
            password
                .write_all(b"sessionkeeper-test")
                .expect("the keyring's password");
        }
        desktop.processes.push(keyring);
        desktop.wait_for_name("org.freedesktop.secrets", "gnome-keyring");

        let dunstrc = desktop.dir.path().join("dunstrc");
        // An empty config: dunst's defaults, no user config from $HOME.
        std::fs::write(&dunstrc, "").expect("dunstrc");
        let dunst = desktop.spawn_on_bus(
            Command::new("dunst").arg("-config").arg(&dunstrc),
            "dunst",
            Stdio::null(),
            "dunst is installed by scripts/setup.sh",
        );
        desktop.processes.push(dunst);
        desktop.wait_for_name("org.freedesktop.Notifications", "dunst");
        desktop
    }

    /// Its display and bus, for the programs a test starts on it.
    pub fn address(&self) -> DesktopAddress {
        DesktopAddress {
            display: self.display.clone(),
            bus: self.bus.clone(),
            xauthority: None,
            webkit_compositing: self.webkit_compositing,
        }
    }

    /// `dbus-monitor` on this desktop's bus, writing into `dir`.
    pub fn bus_monitor(&self, dir: &Path) -> BusMonitor {
        BusMonitor::start(&self.bus, dir)
    }

    /// The titles of every X window on this desktop.
    pub fn window_titles(&self) -> Vec<String> {
        window_titles(&self.display)
    }

    /// [`invoke_action_until_heard`] on this desktop's notification server.
    #[track_caller]
    pub fn invoke_action_until_heard(
        &self,
        id: u32,
        key: &str,
        within: Duration,
        heard: impl Fn() -> bool,
    ) {
        invoke_action_until_heard(&self.bus, id, key, within, heard);
    }

    /// HOME and the XDG directories of the desktop's own daemons (the keyring's files live
    /// there), and no display or bus but its own.
    fn own_environment(&self, cmd: &mut Command) {
        let root = self.dir.path();
        cmd.env("HOME", root)
            .env("XDG_DATA_HOME", root.join("data"))
            .env("XDG_CONFIG_HOME", root.join("config"))
            .env("XDG_RUNTIME_DIR", root.join("run"))
            .env("DISPLAY", &self.display)
            .env_remove("WAYLAND_DISPLAY")
            .env_remove("XAUTHORITY")
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .env_remove("GNOME_KEYRING_CONTROL");
    }

    /// Spawns the daemon `cmd` on this desktop (its environment, display and bus), logging to
    /// `{who}.out` and `{who}.err` in the desktop's directory.
    fn spawn_on_bus(&self, cmd: &mut Command, who: &str, stdin: Stdio, missing: &str) -> Child {
        self.own_environment(cmd);
        cmd.env("DBUS_SESSION_BUS_ADDRESS", &self.bus)
            .stdin(stdin)
            .stdout(self.log_file(&format!("{who}.out")))
            .stderr(self.log_file(&format!("{who}.err")))
            .spawn()
            .expect(missing)
    }

    fn log_file(&self, name: &str) -> std::fs::File {
        std::fs::File::create(self.dir.path().join(name)).expect("a log file")
    }

    /// Spawns `cmd` and reads the first line it prints (its display number, its address).
    fn spawn_reading_line(&self, cmd: &mut Command, missing: &str) -> (Child, String) {
        use std::io::BufRead as _;
        let name = cmd.get_program().to_string_lossy().into_owned();
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(self.log_file(&format!("{name}.err")))
            .spawn()
            .expect(missing);
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("its first line");
        assert!(
            !line.trim().is_empty(),
            "{name} printed nothing and ended: {}",
            std::fs::read_to_string(self.dir.path().join(format!("{name}.err")))
                .unwrap_or_default()
        );
        (child, line)
    }

    /// Waits until `name` has an owner on the bus.
    fn wait_for_name(&self, name: &str, who: &str) {
        let start = Instant::now();
        loop {
            let owner = Command::new("gdbus")
                .args(["call", "--session"])
                .env("DBUS_SESSION_BUS_ADDRESS", &self.bus)
                .args(["--dest", "org.freedesktop.DBus"])
                .args(["--object-path", "/org/freedesktop/DBus"])
                .args(["--method", "org.freedesktop.DBus.NameHasOwner", name])
                .output()
                .expect("gdbus (libglib2.0-bin) is installed by scripts/setup.sh");
            if String::from_utf8_lossy(&owner.stdout).contains("true") {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "{who} did not take {name} on the test's bus; its log: {}",
                std::fs::read_to_string(self.dir.path().join(format!("{who}.err")))
                    .unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Desktop {
    fn drop(&mut self) {
        for child in self.processes.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `sessionkeeper-app` next to the test binary.
pub fn app_binary() -> PathBuf {
    crate::sibling_binary("sessionkeeper-app")
}

/// A running app; killed when dropped.
#[derive(Debug)]
pub struct App {
    pub child: Child,
    stdout: PathBuf,
    stderr: PathBuf,
    desktop: DesktopAddress,
}

impl App {
    /// Starts the app with `env`'s directories, config and keychain service.
    pub fn start(env: &TestEnv, args: &[&str]) -> Self {
        Self::start_binary(env, &app_binary(), args)
    }

    /// Starts `binary` (the app, or the benchmark's bare tray baseline) on `env`'s desktop
    /// ([`TestEnv::on`]) and waits until it prints `tray ready`.
    pub fn start_binary(env: &TestEnv, binary: &Path, args: &[&str]) -> Self {
        let desktop = env.desktop().unwrap_or_else(|| {
            panic!(
                "start the app on a desktop of the test's own: TestEnv::on(&Desktop::start(), …)"
            )
        });
        static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = binary
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let stdout = env.root.path().join(format!("{name}-{n}.out"));
        let stderr = env.root.path().join(format!("{name}-{n}.err"));
        let child = env
            .command_for(binary)
            .args(args)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout).expect("stdout file"))
            .stderr(std::fs::File::create(&stderr).expect("stderr file"))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let app = Self {
            child,
            stdout,
            stderr,
            desktop,
        };
        // Every 10 ms: the idle benchmark times launch → tray ready with this wait.
        app.wait_every(
            Duration::from_millis(10),
            "the tray",
            Duration::from_secs(60),
            |a| a.stdout().contains("tray ready"),
        );
        app
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn stdout(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    /// The app's log (it logs to stderr and to the platform log dir).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Waits until an X window whose title starts with `title` exists, or fails the test with
    /// the windows that do and the app's log.
    #[track_caller]
    pub fn wait_for_window(&self, title: &str, within: Duration) {
        let start = Instant::now();
        let titles = || window_titles(&self.desktop.display);
        while !titles().iter().any(|t| t.starts_with(title)) {
            assert!(
                start.elapsed() < within,
                "no window {title:?} within {within:?}; windows: {:?}\n--- app log ---\n{}",
                titles(),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Waits until `done(self)`, or fails the test with the app's log.
    #[track_caller]
    pub fn wait_for(&self, what: &str, within: Duration, done: impl Fn(&Self) -> bool) {
        self.wait_every(Duration::from_millis(200), what, within, done);
    }

    /// [`Self::wait_for`], looking every `step`.
    #[track_caller]
    pub fn wait_every(
        &self,
        step: Duration,
        what: &str,
        within: Duration,
        done: impl Fn(&Self) -> bool,
    ) {
        let start = Instant::now();
        while !done(self) {
            assert!(
                start.elapsed() < within,
                "{what}: not within {within:?}\n--- app log ---\n{}",
                self.log()
            );
            std::thread::sleep(step);
        }
    }

    /// The names of every process the app started, and theirs.
    pub fn descendants(&self) -> Vec<String> {
        descendants(self.pid())
            .into_iter()
            .map(|(_, name)| name)
            .collect()
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The pid and command name of every descendant of `pid` (from /proc).
pub fn descendants(pid: u32) -> Vec<(u32, String)> {
    let mut parents = vec![pid];
    let mut names = Vec::new();
    let mut changed = true;
    let mut seen = std::collections::BTreeSet::new();
    while changed {
        changed = false;
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Ok(p) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            if seen.contains(&p) {
                continue;
            }
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            // pid (comm) state ppid …: comm may hold spaces, so split after the last ')'.
            let Some((head, rest)) = stat.rsplit_once(')') else {
                continue;
            };
            let ppid = rest
                .split_whitespace()
                .nth(1)
                .and_then(|s| s.parse::<u32>().ok());
            if ppid.is_some_and(|pp| parents.contains(&pp)) {
                seen.insert(p);
                parents.push(p);
                names.push((p, head.split_once('(').map_or("", |(_, c)| c).to_owned()));
                changed = true;
            }
        }
    }
    names
}

/// The titles of every X window on `display` (`xwininfo -root -tree`). Titles are UTF-8; in
/// the C locale (a fresh machine sets no LANG) xwininfo cannot convert them, so it runs in
/// C.UTF-8.
fn window_titles(display: &str) -> Vec<String> {
    let out = Command::new("xwininfo")
        .args(["-display", display, "-root", "-tree"])
        .env("LC_ALL", "C.UTF-8")
        .output()
        .expect("xwininfo (x11-utils) is installed by scripts/setup.sh");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let start = l.find('"')? + 1;
            let end = l[start..].find('"')? + start;
            Some(l[start..end].to_owned())
        })
        .collect()
}

/// One `Notify` call seen on the bus, with the id the server answered.
#[derive(Debug, Clone)]
pub struct Notification {
    pub app_name: String,
    pub summary: String,
    pub body: String,
    /// (key, label) pairs.
    pub actions: Vec<(String, String)>,
    pub id: Option<u32>,
}

/// `dbus-monitor` watching every notification sent on a desktop's bus, and the answers.
#[derive(Debug)]
pub struct BusMonitor {
    child: Child,
    out: PathBuf,
}

impl BusMonitor {
    fn start(bus: &str, dir: &Path) -> Self {
        let out = dir.join("dbus-monitor.out");
        let child = Command::new("dbus-monitor")
            .args([
                "--address",
                bus,
                "type='method_call',interface='org.freedesktop.Notifications',member='Notify'",
                "type='method_call',interface='org.freedesktop.Notifications',member='CloseNotification'",
                "type='method_return'",
            ])
            .stdout(std::fs::File::create(&out).expect("monitor file"))
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-monitor (dbus-bin) is installed by scripts/setup.sh");
        // It prints NameAcquired once it is listening.
        let start = Instant::now();
        while !std::fs::read_to_string(&out)
            .unwrap_or_default()
            .contains("NameAcquired")
        {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "dbus-monitor did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, out }
    }

    /// Every notification seen so far.
    pub fn notifications(&self) -> Vec<Notification> {
        parse_monitor(&std::fs::read_to_string(&self.out).unwrap_or_default())
    }

    /// The ids of the notifications a program asked the server to close (withdrawn).
    pub fn closed(&self) -> Vec<u32> {
        let text = std::fs::read_to_string(&self.out).unwrap_or_default();
        let mut closed = Vec::new();
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            if line.starts_with("method call")
                && line.contains("member=CloseNotification")
                && let Some(id) = lines
                    .next()
                    .and_then(|l| l.trim().strip_prefix("uint32 "))
                    .and_then(|n| n.parse().ok())
            {
                closed.push(id);
            }
        }
        closed
    }
}

impl Drop for BusMonitor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Splits dbus-monitor's output into messages (a header line, then indented arguments), and
/// pairs each `Notify` call with its `method return` by (sender, serial).
fn parse_monitor(text: &str) -> Vec<Notification> {
    let mut messages: Vec<(String, Vec<String>)> = Vec::new();
    // A string argument with line breaks goes on over several output lines.
    let mut open_string = false;
    for line in text.lines() {
        if open_string {
            if let Some(last) = messages.last_mut().and_then(|(_, b)| b.last_mut()) {
                last.push('\n');
                last.push_str(line);
                open_string = !line.ends_with('"');
            }
            continue;
        }
        if line.starts_with(' ') {
            let trimmed = line.trim();
            open_string = trimmed.starts_with("string \"")
                && (trimmed.len() < "string \"\"".len() || !trimmed.ends_with('"'));
            if let Some((_, body)) = messages.last_mut() {
                body.push(trimmed.to_owned());
            }
        } else {
            messages.push((line.to_owned(), Vec::new()));
        }
    }
    let field = |header: &str, key: &str| {
        header
            .split([' ', ';'])
            .find_map(|w| w.strip_prefix(&format!("{key}=")).map(str::to_owned))
    };
    let strings = |body: &[String]| -> Vec<String> {
        body.iter()
            .filter_map(|l| {
                l.strip_prefix("string \"")
                    .and_then(|s| s.strip_suffix('"'))
            })
            .map(str::to_owned)
            .collect()
    };
    let mut found = Vec::new();
    for (header, body) in &messages {
        if !(header.starts_with("method call") && header.contains("member=Notify")) {
            continue;
        }
        let (sender, serial) = (field(header, "sender"), field(header, "serial"));
        let id = messages.iter().find_map(|(h, b)| {
            (h.starts_with("method return")
                && field(h, "destination") == sender
                && field(h, "reply_serial") == serial)
                .then(|| b.first()?.strip_prefix("uint32 ")?.parse().ok())
                .flatten()
        });
        let s = strings(body);
        // app_name, icon, summary, body, then the actions array's strings.
        if s.len() < 4 {
            continue;
        }
        let actions = s[4..]
            .chunks(2)
            .filter(|c| c.len() == 2)
            .map(|c| (c[0].clone(), c[1].clone()))
            .collect();
        found.push(Notification {
            app_name: s[0].clone(),
            summary: s[2].clone(),
            body: s[3].clone(),
            actions,
            id,
        });
    }
    found
}

/// Clicks a notification's action, as the notification server does: the
/// `ActionInvoked(id, key)` signal.
fn invoke_action(bus: &str, id: u32, key: &str) {
    // `--session` on the desktop's bus, not `--address`: with an address gdbus does not
    // register on the bus, and its signal comes from no sender the app would listen to.
    let status = Command::new("gdbus")
        .env("DBUS_SESSION_BUS_ADDRESS", bus)
        .args([
            "emit",
            "--session",
            "--object-path",
            "/org/freedesktop/Notifications",
            "--signal",
            "org.freedesktop.Notifications.ActionInvoked",
            &format!("uint32 {id}"),
            &format!("'{key}'"),
        ])
        .status()
        .expect("gdbus");
    assert!(status.success(), "gdbus emit failed");
}

/// Invokes `key` on notification `id` as a click would, and again each second until
/// `heard()` says that the app took it. A click in the moment between the server's answer to
/// `Notify` and the app's subscription to `ActionInvoked` (notify-rust subscribes once it
/// has the id) would be lost; a test clicks within milliseconds, a human never does.
#[track_caller]
fn invoke_action_until_heard(
    bus: &str,
    id: u32,
    key: &str,
    within: Duration,
    heard: impl Fn() -> bool,
) {
    let start = std::time::Instant::now();
    loop {
        invoke_action(bus, id, key);
        let sent = std::time::Instant::now();
        while sent.elapsed() < Duration::from_secs(1) {
            if heard() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(
            start.elapsed() < within,
            "the app never took the action {key} of notification {id} within {within:?}"
        );
    }
}

/// utime + stime of `pid` and its descendants, in clock ticks.
pub fn cpu_ticks(pid: u32) -> u64 {
    std::iter::once(pid)
        .chain(descendants(pid).into_iter().map(|(p, _)| p))
        .filter_map(process_ticks)
        .sum()
}

/// utime + stime of `pid` alone, in clock ticks (`None` once it has ended).
pub fn process_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the comm: state is field 3, so utime (14) and stime (15) are 11 and 12 here.
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// Context switches (voluntary and not) of every thread of `pid` and its descendants, by
/// thread: each is a wake of that thread. Compare two readings with [`wakes_between`].
pub fn context_switches(pid: u32) -> std::collections::BTreeMap<u32, u64> {
    std::iter::once(pid)
        .chain(descendants(pid).into_iter().map(|(p, _)| p))
        .filter_map(|p| std::fs::read_dir(format!("/proc/{p}/task")).ok())
        .flatten()
        .flatten()
        .filter_map(|task| {
            let tid = task.file_name().to_string_lossy().parse::<u32>().ok()?;
            let status = std::fs::read_to_string(task.path().join("status")).ok()?;
            let n = status
                .lines()
                .filter(|l| l.contains("ctxt_switches:"))
                .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
                .sum::<u64>();
            Some((tid, n))
        })
        .collect()
}

/// The time on a CPU of each thread of `pid` alone, in nanoseconds, by thread id (the
/// scheduler's own count, `/proc/<pid>/task/<tid>/schedstat`: finer than clock ticks).
pub fn thread_cpu_ns(pid: u32) -> std::collections::BTreeMap<u32, u64> {
    thread_names(pid)
        .into_keys()
        .filter_map(|tid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/schedstat")).ok()?;
            Some((tid, stat.split_whitespace().next()?.parse().ok()?))
        })
        .collect()
}

/// The name of each thread of `pid` alone, by thread id.
pub fn thread_names(pid: u32) -> std::collections::BTreeMap<u32, String> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|task| {
            let tid = task.file_name().to_string_lossy().parse::<u32>().ok()?;
            let name = std::fs::read_to_string(task.path().join("comm")).ok()?;
            Some((tid, name.trim().to_owned()))
        })
        .collect()
}

/// The wakes between two readings of [`context_switches`]: of the threads alive at the
/// second, what each did since the first (all of it for a thread born in between; a thread
/// that ended in between is not counted).
pub fn wakes_between(
    before: &std::collections::BTreeMap<u32, u64>,
    after: &std::collections::BTreeMap<u32, u64>,
) -> u64 {
    after
        .iter()
        .map(|(tid, n)| n.saturating_sub(before.get(tid).copied().unwrap_or(0)))
        .sum()
}

/// Where the proportional set size of `pid` alone lies, in KiB: its own executable's
/// mappings (code and data), the heap and other anonymous memory (thread stacks, allocator
/// arenas), and the shared libraries and other files. The parts sum to its PSS.
pub fn pss_parts_kib(pid: u32) -> PssParts {
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok();
    let smaps = std::fs::read_to_string(format!("/proc/{pid}/smaps")).unwrap_or_default();
    let mut parts = PssParts::default();
    let mut current: Option<(String, bool)> = None;
    for line in smaps.lines() {
        let first = line.split_whitespace().next().unwrap_or("");
        if first.contains('-') && !first.ends_with(':') {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let path = fields.get(5..).map(|p| p.join(" ")).unwrap_or_default();
            let executable = fields.get(1).is_some_and(|perms| perms.contains('x'));
            current = Some((path, executable));
        } else if let Some(v) = line.strip_prefix("Pss:") {
            let kib: u64 = v.trim().trim_end_matches("kB").trim().parse().unwrap_or(0);
            let Some((path, executable)) = &current else {
                continue;
            };
            let own = exe.as_ref().is_some_and(|e| e.as_os_str() == path.as_str());
            match () {
                _ if own && *executable => parts.own_code += kib,
                _ if own => parts.own_data += kib,
                _ if path.is_empty() || path.starts_with('[') => parts.anonymous += kib,
                _ => parts.files += kib,
            }
        }
    }
    parts.threads = std::fs::read_dir(format!("/proc/{pid}/task")).map_or(0, Iterator::count);
    parts
}

/// See [`pss_parts_kib`].
#[derive(Debug, Default, Clone, Copy)]
pub struct PssParts {
    /// The executable's own code pages.
    pub own_code: u64,
    /// The executable's data (relocated constants, statics).
    pub own_data: u64,
    /// Heap, thread stacks, allocator arenas.
    pub anonymous: u64,
    /// Shared libraries and other mapped files.
    pub files: u64,
    /// How many threads run.
    pub threads: usize,
}

/// Proportional set size of `pid` and its descendants, in KiB.
pub fn pss_kib(pid: u32) -> u64 {
    std::iter::once(pid)
        .chain(descendants(pid).into_iter().map(|(p, _)| p))
        .filter_map(|p| std::fs::read_to_string(format!("/proc/{p}/smaps_rollup")).ok())
        .filter_map(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Pss:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .sum()
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_a_notify_call_and_its_reply() {
        let text = "\
method call time=1.0 sender=:1.16 -> destination=org.freedesktop.Notifications serial=35 path=/org/freedesktop/Notifications; interface=org.freedesktop.Notifications; member=Notify
   string \"Session Keeper\"
   uint32 0
   string \"\"
   string \"MTN: session expired\"
   string \"Log in again.\"
   array [
      string \"reauthenticate\"
      string \"Re-authenticate\"
   ]
   array [
   ]
   int32 0
method return time=1.1 sender=:1.2 -> destination=:1.9 serial=7 reply_serial=35
   uint32 99
method return time=1.1 sender=:1.2 -> destination=:1.16 serial=8 reply_serial=35
   uint32 3
";
        let n = super::parse_monitor(text);
        assert_eq!(n.len(), 1);
        let multiline = text.replace("\"Log in again.\"", "\"Log in\nagain.\"");
        let m = super::parse_monitor(&multiline);
        assert_eq!(m.len(), 1, "{m:?}");
        assert_eq!(m[0].body, "Log in\nagain.");
        assert_eq!(m[0].actions.len(), 1);
        assert_eq!(n[0].summary, "MTN: session expired");
        assert_eq!(n[0].id, Some(3));
        assert_eq!(
            n[0].actions,
            vec![("reauthenticate".to_owned(), "Re-authenticate".to_owned())]
        );
    }
}
