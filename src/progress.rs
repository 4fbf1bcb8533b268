//! Apply progress: a live line per resource in flight on a terminal, plain timestamped lines
//! otherwise (CI logs).

use std::collections::HashMap;
use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub trait Progress: Send + Sync {
    fn start(&self, id: &str, what: &str);
    fn update(&self, id: &str, state: &str);
    fn finish(&self, id: &str, what: &str);
}

/// The last two segments of an id: `accounts/aoai-weu`.
pub fn short(id: &str) -> String {
    let parts: Vec<&str> = id.rsplitn(3, '/').collect();
    if parts.len() >= 2 {
        format!("{}/{}", parts[1], parts[0])
    } else {
        id.to_string()
    }
}

/// UTC `YYYY-MM-DDTHH:MM:SSZ` without a date library.
pub fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// One line per event, for logs.
pub struct Plain {
    started: Mutex<HashMap<String, Instant>>,
    quiet_unchanged: bool,
}

impl Plain {
    pub fn new(quiet_unchanged: bool) -> Plain {
        Plain {
            started: Mutex::new(HashMap::new()),
            quiet_unchanged,
        }
    }
    fn line(&self, id: &str, text: &str) {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{} {:<48} {text}", utc_now(), short(id));
    }
}

impl Progress for Plain {
    fn start(&self, id: &str, what: &str) {
        if let Ok(mut s) = self.started.lock() {
            s.insert(id.to_string(), Instant::now());
        }
        self.line(id, what);
    }
    fn update(&self, id: &str, state: &str) {
        self.line(id, state);
    }
    fn finish(&self, id: &str, what: &str) {
        if what == "unchanged" && self.quiet_unchanged {
            return;
        }
        let took = self
            .started
            .lock()
            .ok()
            .and_then(|mut s| s.remove(id))
            .map(|t| format!(" after {:.1}s", t.elapsed().as_secs_f64()))
            .unwrap_or_default();
        self.line(id, &format!("{what}{took}"));
    }
}

/// indicatif spinners, one per resource in flight.
pub struct Bars {
    multi: indicatif::MultiProgress,
    bars: Mutex<HashMap<String, indicatif::ProgressBar>>,
}

impl Bars {
    pub fn new() -> Bars {
        Bars {
            multi: indicatif::MultiProgress::new(),
            bars: Mutex::new(HashMap::new()),
        }
    }
}

impl Default for Bars {
    fn default() -> Self {
        Bars::new()
    }
}

impl Progress for Bars {
    fn start(&self, id: &str, what: &str) {
        let bar = self.multi.add(indicatif::ProgressBar::new_spinner());
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{spinner} {prefix:48} {msg} [{elapsed}]")
        {
            bar.set_style(style);
        }
        bar.set_prefix(short(id));
        bar.set_message(what.to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        if let Ok(mut b) = self.bars.lock() {
            b.insert(id.to_string(), bar);
        }
    }
    fn update(&self, id: &str, state: &str) {
        if let Some(b) = self.bars.lock().ok().and_then(|b| b.get(id).cloned()) {
            b.set_message(state.to_string());
        }
    }
    fn finish(&self, id: &str, what: &str) {
        let bar = self.bars.lock().ok().and_then(|mut b| b.remove(id));
        match bar {
            Some(b) => b.finish_with_message(what.to_string()),
            None if what != "unchanged" => {
                let _ = self.multi.println(format!("  {:<48} {what}", short(id)));
            }
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_format() {
        let s = super::utc_now();
        assert_eq!(s.len(), 20);
        assert!(s.starts_with("20") && s.ends_with('Z'));
    }
}
