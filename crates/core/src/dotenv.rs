//! Reading and writing dotenv files, for the CLI's `export` and `import` and the
//! dashboard's import. Output quotes every value so that any parser reads it back
//! exactly: single quotes (literal) when possible, otherwise double quotes with
//! backslash escapes. Input accepts the common dialect: comments, `export` prefixes,
//! unquoted, single-quoted and multi-line double-quoted values.

use std::collections::BTreeMap;

/// Renders one `NAME=value` line.
pub fn render_line(name: &str, value: &str) -> String {
    if !value.contains('\'') && !value.contains('\n') && !value.contains('\r') {
        return format!("{name}='{value}'");
    }
    let mut escaped = String::with_capacity(value.len() + 8);
    for c in value.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            '"' => escaped.push_str("\\\""),
            '\n' => escaped.push_str("\\n"),
            '\r' => escaped.push_str("\\r"),
            '\t' => escaped.push_str("\\t"),
            '$' => escaped.push_str("\\$"),
            c => escaped.push(c),
        }
    }
    format!("{name}=\"{escaped}\"")
}

/// Parses a dotenv document into names and values. Errors name the line.
pub fn parse(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let number = i + 1;
        let line = lines[i].trim_start();
        i += 1;
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line
            .strip_prefix("export ")
            .map(str::trim_start)
            .unwrap_or(line);
        let (key, rest) = line
            .split_once('=')
            .ok_or_else(|| format!("line {number}: expected NAME=value"))?;
        let key = key.trim();
        if key.is_empty() || key.contains(char::is_whitespace) {
            return Err(format!("line {number}: {key:?} is not a valid name"));
        }
        let rest = rest.trim_start();
        let value = if let Some(body) = rest.strip_prefix('"') {
            let mut value = String::new();
            let mut chars: Vec<char> = body.chars().collect();
            let mut j = 0;
            loop {
                if j >= chars.len() {
                    if i >= lines.len() {
                        return Err(format!("line {number}: unterminated double-quoted value"));
                    }
                    value.push('\n');
                    chars = lines[i].chars().collect();
                    i += 1;
                    j = 0;
                    continue;
                }
                match chars[j] {
                    '"' => break,
                    '\\' if j + 1 < chars.len() => {
                        j += 1;
                        value.push(match chars[j] {
                            'n' => '\n',
                            'r' => '\r',
                            't' => '\t',
                            other => other,
                        });
                    }
                    c => value.push(c),
                }
                j += 1;
            }
            value
        } else if let Some(body) = rest.strip_prefix('\'') {
            let end = body
                .find('\'')
                .ok_or_else(|| format!("line {number}: unterminated single-quoted value"))?;
            body[..end].to_owned()
        } else {
            let cut = rest.find(" #").unwrap_or(rest.len());
            rest[..cut].trim_end().to_owned()
        };
        if out.insert(key.to_owned(), value).is_some() {
            return Err(format!("line {number}: {key} is set twice"));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendered_lines_parse_back_exactly() {
        let values = [
            "plain",
            "with space",
            "it's",
            "multi\nline",
            "quote \" and backslash \\",
            "$HOME stays literal",
            "",
            "tab\there",
        ];
        for value in values {
            let line = render_line("K", value);
            let parsed = parse(&line).unwrap_or_default();
            assert_eq!(parsed.get("K").map(String::as_str), Some(value), "{line}");
        }
    }

    #[test]
    fn the_common_dialect_is_understood() {
        let text =
            "# comment\n\nexport A=1\nB = two words # trailing comment\nC='lit $x'\nD=\"x\ny\"\n";
        let parsed = parse(text).unwrap_or_default();
        assert_eq!(parsed.get("A").map(String::as_str), Some("1"));
        assert_eq!(parsed.get("B").map(String::as_str), Some("two words"));
        assert_eq!(parsed.get("C").map(String::as_str), Some("lit $x"));
        assert_eq!(parsed.get("D").map(String::as_str), Some("x\ny"));
    }

    #[test]
    fn a_multi_line_double_quoted_value_spans_lines() {
        let parsed =
            parse("CERT=\"-----BEGIN-----\nabc\n-----END-----\"\nNEXT=1").unwrap_or_default();
        assert_eq!(
            parsed.get("CERT").map(String::as_str),
            Some("-----BEGIN-----\nabc\n-----END-----")
        );
        assert_eq!(parsed.get("NEXT").map(String::as_str), Some("1"));
    }

    #[test]
    fn malformed_documents_name_the_line() {
        assert_eq!(
            parse("A=1\nnonsense").err().as_deref(),
            Some("line 2: expected NAME=value")
        );
        assert!(parse("A=\"open").is_err());
        assert!(parse("A=1\nA=2").is_err());
    }
}
