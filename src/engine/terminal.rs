//! Text on its way to a terminal. Blueprint values and ARM responses end up in errors, plans and
//! progress lines; a control character among them (ESC starting a sequence that clears the
//! screen, moves the cursor or sets the window title, a carriage return that overwrites a line)
//! would act on the user's terminal instead of being read. [`safe`] is applied where the tool
//! prints: every such character is shown as `\uXXXX`, which is also a valid escape inside the
//! JSON strings of `--json` and SARIF output.
//!
//! The function lives in `arm-client` (next to redaction, "what may be printed"), so that the
//! client's own traces and notices use the same one.

pub use arm_client::terminal_safe as safe;
