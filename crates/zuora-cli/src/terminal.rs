//! Text from the server on a terminal. Error messages, report names, statuses and column
//! names come from Zuora (or from whatever answers in its place): written as they are, an
//! escape sequence in one could move the cursor, rewrite what the user already read, retitle
//! the window or worse. Every control character (C0, DEL, C1, and so ESC) and every
//! bidirectional override is shown escaped instead (`\u{1b}`), visibly and harmlessly. JSON
//! output needs none of this: JSON escapes control characters itself.

use std::borrow::Cow;

fn harmful(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `text`, safe to write to a terminal.
pub fn safe(text: &str) -> Cow<'_, str> {
    if !text.chars().any(harmful) {
        return Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if harmful(c) {
            shown.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            shown.push(c);
        }
    }
    Cow::Owned(shown)
}

#[cfg(test)]
mod tests {
    use super::safe;

    #[test]
    fn escapes_are_shown_not_obeyed() {
        assert_eq!(safe("plain text, ünïcödé ✓"), "plain text, ünïcödé ✓");
        assert_eq!(
            safe("red \u{1b}[31mALERT\u{1b}[0m"),
            "red \\u{1b}[31mALERT\\u{1b}[0m"
        );
        assert_eq!(safe("line\nforged"), "line\\u{a}forged");
        assert_eq!(
            safe("\u{9b}2J and \u{202e}txt.exe"),
            "\\u{9b}2J and \\u{202e}txt.exe"
        );
    }
}
