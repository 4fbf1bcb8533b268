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

/// A short name for progress lines: `accounts/aoai-weu` for a top-level resource, with the
/// top-level resource's (or the scope's) name in front for a child or extension resource, so
/// that the same deployment under three accounts reads as three different lines, and the
/// children of two API Management services never read alike:
/// `aoai-weu/deployments/gpt-4o`, `aoai-weu/roleAssignments/<guid>`,
/// `apim-weu/apis/azure-openai/operations/chat`.
pub fn short(id: &str) -> String {
    let seg: Vec<&str> = id.trim_matches('/').split('/').collect();
    let n = seg.len();
    if n < 2 {
        return id.to_string();
    }
    let tail = format!("{}/{}", seg[n - 2], seg[n - 1]);
    // The last `providers/<namespace>`: what follows is `<type>/<name>` pairs.
    let Some(p) = seg
        .iter()
        .rposition(|s| s.eq_ignore_ascii_case("providers"))
    else {
        return tail;
    };
    let top = p >= 2
        && ["resourcegroups", "subscriptions"]
            .iter()
            .any(|k| seg[p - 2].eq_ignore_ascii_case(k));
    if !top && p >= 1 {
        // An extension resource: the name of the resource it extends in front.
        return format!("{}/{tail}", seg[p - 1]);
    }
    let pairs = &seg[(p + 2).min(n)..];
    if pairs.len() <= 2 {
        return tail;
    }
    // A child: the top-level resource's name, then the path below it.
    format!("{}/{}", pairs[1], pairs[2..].join("/"))
}

/// UTC `YYYY-MM-DDTHH:MM:SSZ` without a date library.
pub fn utc_now() -> String {
    utc(SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs() as i64)
}

/// A Unix time as UTC `YYYY-MM-DDTHH:MM:SSZ`.
pub fn utc(secs: i64) -> String {
    arm_emulator::capabilities::utc(secs)
}

/// A repeated state is printed again only after this long, with the time since the start
/// (`InProgress (5m00s)`).
const HEARTBEAT: Duration = Duration::from_secs(60);

/// One line per event, for logs: a state is printed when it changes, and a still-unchanged state
/// once a minute, so a 40-minute APIM activation does not flood a CI log with one line per poll.
pub struct Plain {
    started: Mutex<HashMap<String, Instant>>,
    /// Last printed state of each resource in flight, and when it was printed.
    shown: Mutex<HashMap<String, (String, Instant)>>,
    quiet_unchanged: bool,
}

impl Plain {
    pub fn new(quiet_unchanged: bool) -> Plain {
        Plain {
            started: Mutex::new(HashMap::new()),
            shown: Mutex::new(HashMap::new()),
            quiet_unchanged,
        }
    }
    /// Whether an update to `state` should be printed now.
    fn worth_printing(&self, id: &str, state: &str, now: Instant) -> bool {
        let Ok(mut shown) = self.shown.lock() else {
            return true;
        };
        match shown.get(id) {
            Some((last, at)) if last == state && now.duration_since(*at) < HEARTBEAT => false,
            _ => {
                shown.insert(id.to_string(), (state.to_string(), now));
                true
            }
        }
    }
    fn elapsed(&self, id: &str) -> Option<Duration> {
        self.started
            .lock()
            .ok()
            .and_then(|s| s.get(id).map(|t| t.elapsed()))
    }
    fn line(&self, id: &str, text: &str) {
        let mut err = std::io::stderr().lock();
        let line = format!("{} {:<56} {text}", utc_now(), short(id));
        let _ = writeln!(err, "{}", crate::engine::terminal::safe(&line));
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
        if self.worth_printing(id, state, Instant::now()) {
            match self.elapsed(id) {
                Some(e) if e >= HEARTBEAT => self.line(
                    id,
                    &format!("{state} ({}m{:02}s)", e.as_secs() / 60, e.as_secs() % 60),
                ),
                _ => self.line(id, state),
            }
        }
    }
    fn finish(&self, id: &str, what: &str) {
        if let Ok(mut shown) = self.shown.lock() {
            shown.remove(id);
        }
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
            indicatif::ProgressStyle::with_template("{spinner} {prefix:56} {msg} [{elapsed}]")
        {
            bar.set_style(style);
        }
        bar.set_prefix(crate::engine::terminal::safe(&short(id)).into_owned());
        bar.set_message(crate::engine::terminal::safe(what).into_owned());
        bar.enable_steady_tick(Duration::from_millis(120));
        if let Ok(mut b) = self.bars.lock() {
            b.insert(id.to_string(), bar);
        }
    }
    fn update(&self, id: &str, state: &str) {
        if let Some(b) = self.bars.lock().ok().and_then(|b| b.get(id).cloned()) {
            b.set_message(crate::engine::terminal::safe(state).into_owned());
        }
    }
    fn finish(&self, id: &str, what: &str) {
        let bar = self.bars.lock().ok().and_then(|mut b| b.remove(id));
        match bar {
            Some(b) => b.finish_with_message(crate::engine::terminal::safe(what).into_owned()),
            None if what != "unchanged" => {
                let line = format!("  {:<56} {what}", short(id));
                let _ = self.multi.println(crate::engine::terminal::safe(&line));
            }
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_prints_a_repeated_state_once_a_minute() {
        let p = Plain::new(false);
        let t0 = Instant::now();
        assert!(p.worth_printing("a", "InProgress", t0));
        assert!(!p.worth_printing("a", "InProgress", t0 + Duration::from_secs(5)));
        assert!(p.worth_printing("a", "Updating", t0 + Duration::from_secs(6)));
        assert!(!p.worth_printing("a", "Updating", t0 + Duration::from_secs(30)));
        assert!(p.worth_printing("a", "Updating", t0 + Duration::from_secs(67)));
        assert!(p.worth_printing("b", "InProgress", t0 + Duration::from_secs(5)));
    }

    #[test]
    fn short_names_keep_the_parent_of_children_and_extensions() {
        let rg = "/subscriptions/s/resourceGroups/rg";
        let acct = format!("{rg}/providers/Microsoft.CognitiveServices/accounts/aoai-weu");
        assert_eq!(short(rg), "resourceGroups/rg");
        assert_eq!(short(&acct), "accounts/aoai-weu");
        assert_eq!(
            short(&format!("{acct}/deployments/gpt-4o")),
            "aoai-weu/deployments/gpt-4o"
        );
        assert_eq!(
            short(&format!(
                "{acct}/providers/Microsoft.Authorization/roleAssignments/g"
            )),
            "aoai-weu/roleAssignments/g"
        );
        assert_eq!(
            short(&format!(
                "{rg}/providers/Microsoft.ApiManagement/service/apim/apis/api/policies/policy"
            )),
            "apim/apis/api/policies/policy"
        );
    }

    #[test]
    fn utc_format() {
        let s = super::utc_now();
        assert_eq!(s.len(), 20);
        assert!(s.starts_with("20") && s.ends_with('Z'));
    }
}
