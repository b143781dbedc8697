//! Where in the file a problem is: line, column and the dotted key (`profiles.mtn.validate.url`)
//! of a byte offset, found by walking `toml::de::DeTable` spans.

use std::ops::Range;
use std::path::Path;

use toml::Spanned;

use crate::error::ConfigError;

/// An error at `span` of `text` (the whole file when there is no span).
pub(crate) fn error_at(
    file: &Path,
    text: &str,
    span: Option<Range<usize>>,
    message: String,
) -> ConfigError {
    let Some(span) = span else {
        return ConfigError::whole_file(file, message);
    };
    let start = span.start.min(text.len());
    let before = &text[..start];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    ConfigError {
        file: file.to_owned(),
        line: Some(line),
        column: Some(column),
        key: key_path_at(text, start),
        message,
    }
}

/// The dotted key (`profiles.mtn.validate.url`) whose key or value covers byte `offset`.
fn key_path_at(text: &str, offset: usize) -> Option<String> {
    let doc = toml::de::DeTable::parse(text).ok()?;
    let mut path = Vec::new();
    walk_table(doc.get_ref(), offset, &mut path);
    (!path.is_empty()).then(|| path.join("."))
}

fn walk_table(table: &toml::de::DeTable<'_>, offset: usize, path: &mut Vec<String>) {
    // Header tables (`[profiles.mtn]`) have spans that cover only the header, so when no entry's
    // value contains the offset, fall back to the last entry whose key starts before it.
    let mut best: Option<(
        &Spanned<toml::de::DeString<'_>>,
        &Spanned<toml::de::DeValue<'_>>,
    )> = None;
    for (k, v) in table {
        if v.span().contains(&offset) || k.span().contains(&offset) {
            best = Some((k, v));
            break;
        }
        if let toml::de::DeValue::Table(_) | toml::de::DeValue::Array(_) = v.get_ref()
            && k.span().start <= offset
            && best.is_none_or(|(bk, _)| bk.span().start <= k.span().start)
        {
            best = Some((k, v));
        }
    }
    let Some((k, v)) = best else { return };
    path.push(k.get_ref().to_string());
    walk_value(v, offset, path);
}

fn walk_value(v: &Spanned<toml::de::DeValue<'_>>, offset: usize, path: &mut Vec<String>) {
    match v.get_ref() {
        toml::de::DeValue::Table(t) => walk_table(t, offset, path),
        toml::de::DeValue::Array(items) => {
            let found = items
                .iter()
                .enumerate()
                .rev()
                .find(|(_, item)| item.span().start <= offset);
            if let Some((i, item)) = found {
                if let Some(last) = path.last_mut() {
                    last.push_str(&format!("[{i}]"));
                }
                walk_value(item, offset, path);
            }
        }
        _ => {}
    }
}
