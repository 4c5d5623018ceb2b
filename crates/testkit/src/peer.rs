//! A real peer program (openssl, baresip, tshark) run as a child process.

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A child process whose standard output and error are collected as they come; killed on drop.
pub struct Peer {
    child: Child,
    output: Arc<Mutex<String>>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

impl Peer {
    /// Starts `cmd` with piped standard streams; `package` is named if it is not installed.
    pub fn spawn(cmd: &mut Command, package: &str) -> Peer {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{:?}: {e} (install the Debian package {package})", cmd.get_program()));
        let output = Arc::new(Mutex::new(String::new()));
        let mut readers = Vec::new();
        let pipes: [Box<dyn Read + Send>; 2] =
            [Box::new(child.stdout.take().unwrap()), Box::new(child.stderr.take().unwrap())];
        for mut pipe in pipes {
            let output = output.clone();
            readers.push(std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = pipe.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    output.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            }));
        }
        Peer { child, output, readers }
    }

    pub fn write(&mut self, input: &str) {
        let stdin = self.child.stdin.as_mut().unwrap();
        let _ = stdin.write_all(input.as_bytes());
        let _ = stdin.flush();
    }

    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// Waits until `done` holds for the output or the process exits, at most `limit`.
    pub fn wait_for(&mut self, limit: Duration, done: impl Fn(&str) -> bool) -> bool {
        let start = Instant::now();
        while start.elapsed() < limit {
            if done(&self.output()) {
                return true;
            }
            if self.child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        done(&self.output())
    }

    /// Asks the process to stop (SIGINT, as Ctrl-C), then kills it if it lingers; returns all it wrote.
    pub fn stop(mut self) -> String {
        if self.child.try_wait().unwrap().is_none() {
            // std's `Child` can only SIGKILL; a graceful stop needs SIGINT through libc.
            // SAFETY: kill(2) on our own child's pid, which has not been reaped yet.
            #[allow(unsafe_code)]
            unsafe {
                libc::kill(self.child.id() as libc::pid_t, libc::SIGINT)
            };
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(10) && self.child.try_wait().unwrap().is_none() {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        self.finish()
    }

    pub fn finish(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        drop(self.child.stdin.take());
        for r in std::mem::take(&mut self.readers) {
            let _ = r.join();
        }
        self.output()
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
