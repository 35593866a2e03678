//! Checks on user-supplied values. Each failure names the field and a stable reason code, so the
//! server can answer with a 422 that tells the caller exactly what to fix.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    pub field: &'static str,
    /// A stable, machine-readable reason such as `too_long` or `invalid_email`.
    pub reason: &'static str,
}

impl FieldError {
    pub fn new(field: &'static str, reason: &'static str) -> Self {
        Self { field, reason }
    }
}

pub type Checked<T> = Result<T, FieldError>;

/// Trims a human-facing name and checks it is between 1 and `max` characters without control codes.
pub fn name(field: &'static str, value: &str, max: usize) -> Checked<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(FieldError::new(field, "required"));
    }
    if v.chars().count() > max {
        return Err(FieldError::new(field, "too_long"));
    }
    if v.chars().any(char::is_control) {
        return Err(FieldError::new(field, "control_characters"));
    }
    Ok(v.to_string())
}

/// Free text (descriptions, notes): trimmed, at most `max` characters, line breaks and tabs
/// allowed, other control characters (NUL among them) refused.
pub fn text(field: &'static str, value: &str, max: usize) -> Checked<String> {
    let v = value.trim();
    if v.chars().count() > max {
        return Err(FieldError::new(field, "too_long"));
    }
    if v.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(FieldError::new(field, "control_characters"));
    }
    Ok(v.to_string())
}

/// Normalises an e-mail address to lower case and checks its shape (one `@`, a dotted domain).
pub fn email(field: &'static str, value: &str) -> Checked<String> {
    let v = value.trim().to_lowercase();
    if v.is_empty() {
        return Err(FieldError::new(field, "required"));
    }
    if v.len() > 254 {
        return Err(FieldError::new(field, "too_long"));
    }
    let mut parts = v.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(FieldError::new(field, "invalid_email"));
    };
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
    if local.is_empty() || !domain_ok || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(FieldError::new(field, "invalid_email"));
    }
    Ok(v)
}

/// A URL-safe short name: lower-case letters, digits and single hyphens, 2 to 63 characters.
pub fn slug(field: &'static str, value: &str) -> Checked<String> {
    let v = value.trim();
    let ok_chars = v
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if v.len() < 2
        || v.len() > 63
        || !ok_chars
        || v.starts_with('-')
        || v.ends_with('-')
        || v.contains("--")
    {
        return Err(FieldError::new(field, "invalid_slug"));
    }
    Ok(v.to_string())
}

/// Derives a slug from a display name ("Shanghai Post & Sound" → "shanghai-post-sound").
pub fn slugify(value: &str) -> String {
    let mut out = String::new();
    for c in value.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let mut s = out.trim_end_matches('-').to_string();
    s.truncate(48);
    let s = s.trim_end_matches('-').to_string();
    if s.len() < 2 { "org".to_string() } else { s }
}

/// Passwords: at least 10 characters, at most 256 (argon2 input stays bounded).
pub fn password(field: &'static str, value: &str) -> Checked<()> {
    let n = value.chars().count();
    if n < 10 {
        return Err(FieldError::new(field, "too_short"));
    }
    if n > 256 {
        return Err(FieldError::new(field, "too_long"));
    }
    Ok(())
}

/// An IANA time-zone name in its usual shape (`Asia/Shanghai`, `America/Argentina/Buenos_Aires`,
/// `UTC`).
pub fn timezone(field: &'static str, value: &str) -> Checked<String> {
    let v = value.trim();
    let shape = !v.is_empty()
        && v.len() <= 64
        && v.split('/').all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+'))
        });
    if !shape {
        return Err(FieldError::new(field, "invalid_timezone"));
    }
    Ok(v.to_string())
}

/// The languages M-Station speaks.
pub fn locale(field: &'static str, value: &str) -> Checked<String> {
    match value.trim() {
        "en" => Ok("en".into()),
        "zh-CN" | "zh-cn" | "zh" => Ok("zh-CN".into()),
        _ => Err(FieldError::new(field, "unsupported_locale")),
    }
}

/// A webhook target: an absolute http(s) URL without credentials in it.
pub fn webhook_url(field: &'static str, value: &str) -> Checked<String> {
    let v = value.trim();
    if v.len() > 2048 || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(FieldError::new(field, "invalid_url"));
    }
    // Read as a delivery will read it: an address that does not parse is refused now, not at
    // its first delivery.
    let Ok(url) = url::Url::parse(v) else {
        return Err(FieldError::new(field, "invalid_url"));
    };
    let host_ok = url.host_str().is_some_and(|h| !h.is_empty());
    if !matches!(url.scheme(), "http" | "https")
        || !host_ok
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(FieldError::new(field, "invalid_url"));
    }
    Ok(v.to_string())
}

/// A piece of what a client sent, short enough to quote in an error message (a whole file pasted
/// into one field, a long header): its first 40 characters, and `…` when there were more.
pub fn excerpt(text: &str) -> String {
    const MAX: usize = 40;
    if text.chars().count() <= MAX {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(MAX).collect();
        s.push('…');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn emails() {
        assert_eq!(
            email("email", " Li.Wei@Studio.CN ").unwrap(),
            "li.wei@studio.cn"
        );
        assert!(email("email", "nobody").is_err());
        assert!(email("email", "a@b").is_err());
        assert!(email("email", "a@@b.cn").is_err());
        assert!(email("email", "a b@c.cn").is_err());
    }

    #[test]
    fn slugs() {
        assert_eq!(slugify("Shanghai Post & Sound"), "shanghai-post-sound");
        assert_eq!(slugify("上海"), "org");
        assert!(slug("slug", &slugify("上海")).is_ok());
        assert!(slug("slug", "ok-slug").is_ok());
        assert!(slug("slug", "Bad").is_err());
        assert!(slug("slug", "a--b").is_err());
    }

    #[test]
    fn webhook_urls() {
        assert!(webhook_url("url", "https://hooks.example.com/m-station").is_ok());
        assert!(webhook_url("url", "ftp://x").is_err());
        assert!(webhook_url("url", "https://user:pw@host/").is_err());
        assert!(webhook_url("url", "https://").is_err());
        // Addresses the old hand reading let through, which no delivery could use.
        for bad in [
            "http://[::1",
            "http://exa%mple.com/",
            "https://host:99999/",
            "http://:80/",
        ] {
            assert!(webhook_url("url", bad).is_err(), "{bad}");
        }
        assert!(webhook_url("url", "http://[2001:db8::1]:8443/hook?x=1").is_ok());
    }

    proptest! {
        #[test]
        fn validators_never_panic(s in ".{0,300}") {
            let _ = name("name", &s, 100);
            let _ = email("email", &s);
            let _ = slug("slug", &s);
            let _ = password("password", &s);
            let _ = timezone("timezone", &s);
            let _ = webhook_url("url", &s);
            let _ = text("text", &s, 50);
            let _ = locale("locale", &s);
        }

        #[test]
        fn slugify_gives_a_valid_slug_for_ascii_names(s in "[A-Za-z0-9 &.]{2,60}") {
            let g = slugify(&s);
            if g.chars().filter(|c| c.is_ascii_alphanumeric()).count() >= 2 {
                prop_assert!(slug("slug", &g).is_ok(), "{g}");
            }
        }
    }
}
