//! The operator at work next to a loaded server: a thread that creates a citizen, an app and a
//! licence with the admin CLI, again and again, keeping what each command acknowledged.
use crate::node::Admin;
use crate::oauth::id_number;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// What the CLI said it wrote.
#[derive(Debug, Default, Clone)]
pub struct Written {
    /// (ID number, sub)
    pub users: Vec<(String, String)>,
    /// (client_id, client_secret)
    pub clients: Vec<(String, String)>,
    pub licences: Vec<String>,
}

#[derive(Debug)]
pub struct AdminWriter {
    stop: Arc<AtomicBool>,
    rounds: Arc<AtomicUsize>,
    written: Arc<Mutex<Written>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl AdminWriter {
    pub fn start(admin: Admin) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let rounds = Arc::new(AtomicUsize::new(0));
        let written = Arc::new(Mutex::new(Written::default()));
        let (s, r, w) = (stop.clone(), rounds.clone(), written.clone());
        let thread = std::thread::spawn(move || {
            let file = tempfile::NamedTempFile::new().expect("licence file");
            let mut i = 0;
            while !s.load(Ordering::SeqCst) {
                one_round(&admin, i, file.path(), &w);
                r.fetch_add(1, Ordering::SeqCst);
                i += 1;
            }
        });
        Self {
            stop,
            rounds,
            written,
            thread: Some(thread),
        }
    }

    pub fn rounds(&self) -> usize {
        self.rounds.load(Ordering::SeqCst)
    }

    /// What was acknowledged so far (shared with the writer).
    pub fn written(&self) -> Arc<Mutex<Written>> {
        self.written.clone()
    }

    /// Stops after the command in flight; everything acknowledged.
    pub fn stop(mut self) -> Written {
        self.halt();
        self.written.lock().expect("written").clone()
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for AdminWriter {
    fn drop(&mut self) {
        self.halt();
    }
}

fn one_round(admin: &Admin, i: u32, licence_file: &std::path::Path, written: &Mutex<Written>) {
    let number = id_number(12, 500 + i);
    let run = admin.create_user(&number, "赵六");
    if run.ok {
        let sub = run.json()["sub"].as_str().expect("sub").to_owned();
        written.lock().expect("written").users.push((number, sub));
    }
    let name = format!("应用 {i}");
    let run = admin.cli(
        &[
            "client",
            "create",
            "--name",
            &name,
            "--redirect-uri",
            crate::REDIRECT,
            "--approve",
        ],
        None,
    );
    if run.ok {
        let c = run.json();
        let field = |k: &str| c[k].as_str().expect("client field").to_owned();
        let client = (field("client_id"), field("client_secret"));
        written.lock().expect("written").clients.push(client);
    }
    let record = serde_json::json!([{"type": "resident_id", "holder": id_number(13, 700 + i),
        "claims": {"name": "赵六", "sex": "男", "birth_date": "1980-01-10",
        "address": "北京市东城区某街道 1 号", "issuing_authority": "北京市公安局东城分局"},
        "valid_until": "2040-12-31"}]);
    std::fs::write(licence_file, record.to_string()).expect("write licence file");
    let path = licence_file.display().to_string();
    let run = admin.cli(&["licence", "import", &path], None);
    if run.ok {
        let id = run.json()[0]["id"].as_str().expect("licence id").to_owned();
        written.lock().expect("written").licences.push(id);
    }
}
