//! File names and card paths as users give them, made safe to keep and to show: no way out of
//! the folder they belong in, no characters that break a listing, any script a crew writes in.

use thiserror::Error;

/// The longest file or folder name most file systems accept.
pub const MAX_NAME_BYTES: usize = 255;

/// The longest path inside a card we keep; camera cards nest a few folders deep at most.
pub const MAX_PATH_BYTES: usize = 1024;

/// What is wrong with a file name or a path inside a card.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NameError {
    #[error("the file name is empty")]
    Empty,
    #[error("{0:?} is not a file or folder name")]
    Dots(String),
    #[error("the file name holds control or text-direction characters")]
    ControlCharacters,
    #[error("the file name is {0} bytes long; at most 255 are allowed")]
    TooLong(usize),
    #[error("the path must be relative to the card, not start at a root or a drive")]
    Absolute,
    #[error("the path has an empty folder name")]
    EmptyComponent,
    #[error("the path is {0} bytes long; at most 1024 are allowed")]
    PathTooLong(usize),
}

impl NameError {
    /// A stable, machine-readable code for API errors.
    pub const fn code(&self) -> &'static str {
        match self {
            NameError::Empty => "media.empty_name",
            NameError::Dots(_) => "media.dot_name",
            NameError::ControlCharacters => "media.name_control_characters",
            NameError::TooLong(_) => "media.name_too_long",
            NameError::Absolute => "media.absolute_path",
            NameError::EmptyComponent => "media.empty_path_component",
            NameError::PathTooLong(_) => "media.path_too_long",
        }
    }
}

/// The name a user gave a file, from upload metadata or a card folder: its last component after
/// `/` or `\`, trimmed. Names in any script pass; empty names, `.`, `..`, control characters and
/// names over 255 bytes do not.
pub fn file_name(raw: &str) -> Result<String, NameError> {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    component(last)
}

/// A path inside a card, such as `A001/CLIP/A001C001.mov`: `\` read as `/`, never absolute, never
/// `.` or `..`, no empty folder names, every component a valid file name, at most 1024 bytes.
pub fn relative_path(raw: &str) -> Result<String, NameError> {
    let path = raw.trim().replace('\\', "/");
    if path.is_empty() {
        return Err(NameError::Empty);
    }
    if path.starts_with('/') || has_drive(&path) {
        return Err(NameError::Absolute);
    }
    let mut out = String::with_capacity(path.len());
    for part in path.split('/') {
        if part.is_empty() {
            return Err(NameError::EmptyComponent);
        }
        if !out.is_empty() {
            out.push('/');
        }
        out.push_str(&component(part)?);
    }
    if out.len() > MAX_PATH_BYTES {
        return Err(NameError::PathTooLong(out.len()));
    }
    Ok(out)
}

/// Whether `raw` is a card path exactly as `relative_path` would keep it (`/` between folders,
/// no spaces at either end of a name): a path an ingest keeps and compares as it is.
pub fn is_card_path(raw: &str) -> bool {
    relative_path(raw).is_ok_and(|p| p == raw)
}

/// `C:`, `C:x` and `C:/x` name a Windows drive, not a folder on the card.
fn has_drive(path: &str) -> bool {
    let b = path.as_bytes();
    b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':'
}

/// One file or folder name, already split from its path.
fn component(raw: &str) -> Result<String, NameError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name == "." || name == ".." {
        return Err(NameError::Dots(name.to_string()));
    }
    if name
        .chars()
        .any(|c| c.is_control() || is_direction_override(c))
    {
        return Err(NameError::ControlCharacters);
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(NameError::TooLong(name.len()));
    }
    Ok(name.to_string())
}

/// The embeddings, overrides and isolates that reorder text on screen, so that
/// `clip\u{202E}vom.exe` shows as `clipexe.mov`. Marks that only hint a direction stay allowed.
fn is_direction_override(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn file_names_keep_the_last_component() {
        assert_eq!(file_name("A001C001.mov").unwrap(), "A001C001.mov");
        assert_eq!(file_name("A001/CLIP/A001C001.mov").unwrap(), "A001C001.mov");
        assert_eq!(
            file_name("C:\\Users\\dit\\A001C001.mov").unwrap(),
            "A001C001.mov"
        );
        assert_eq!(file_name("../../etc/passwd").unwrap(), "passwd");
        assert_eq!(file_name("..\\..\\x").unwrap(), "x");
        assert_eq!(
            file_name("  Scene 1 take 2.wav \t").unwrap(),
            "Scene 1 take 2.wav"
        );
        assert_eq!(file_name(".hidden").unwrap(), ".hidden");
        assert_eq!(file_name("...").unwrap(), "...");
    }

    #[test]
    fn file_names_keep_any_script() {
        assert_eq!(file_name("第一场_第三镜.mov").unwrap(), "第一场_第三镜.mov");
        assert_eq!(file_name("素材/第一场.mov").unwrap(), "第一场.mov");
        assert_eq!(
            file_name("Café – prise 3.mxf").unwrap(),
            "Café – prise 3.mxf"
        );
        let longest = "镜".repeat(85);
        assert_eq!(file_name(&longest).unwrap(), longest);
        assert_eq!(file_name(&"镜".repeat(86)), Err(NameError::TooLong(258)));
    }

    #[test]
    fn file_names_refuse_bad_input() {
        for empty in ["", "   ", "a/", "a\\", "/"] {
            assert_eq!(file_name(empty), Err(NameError::Empty), "{empty:?}");
        }
        assert_eq!(file_name("."), Err(NameError::Dots(".".into())));
        assert_eq!(file_name(".."), Err(NameError::Dots("..".into())));
        assert_eq!(file_name("a/.."), Err(NameError::Dots("..".into())));
        assert_eq!(file_name(" .. "), Err(NameError::Dots("..".into())));
        for bad in [
            "a\0b.mov",
            "a\u{1}",
            "line\nbreak",
            "del\u{7f}",
            "c1\u{85}x",
        ] {
            assert_eq!(file_name(bad), Err(NameError::ControlCharacters), "{bad:?}");
        }
        assert_eq!(
            file_name("clip\u{202E}vom.exe"),
            Err(NameError::ControlCharacters)
        );
        assert_eq!(file_name(&"a".repeat(255)).unwrap().len(), 255);
        assert_eq!(file_name(&"a".repeat(256)), Err(NameError::TooLong(256)));
    }

    #[test]
    fn relative_paths() {
        assert_eq!(
            relative_path("A001/CLIP/A001C001.mov").unwrap(),
            "A001/CLIP/A001C001.mov"
        );
        assert_eq!(
            relative_path("A001\\CLIP\\A001C001.mov").unwrap(),
            "A001/CLIP/A001C001.mov"
        );
        assert_eq!(relative_path("A001C001.mov").unwrap(), "A001C001.mov");
        assert_eq!(
            relative_path("素材/第一天/第一场.mov").unwrap(),
            "素材/第一天/第一场.mov"
        );
        assert_eq!(relative_path("a:b/c").unwrap_err(), NameError::Absolute);
        assert_eq!(relative_path("ab:c/d").unwrap(), "ab:c/d");
    }

    #[test]
    fn relative_paths_refuse_escapes() {
        assert_eq!(
            relative_path("../../etc/passwd"),
            Err(NameError::Dots("..".into()))
        );
        assert_eq!(
            relative_path("..\\..\\x"),
            Err(NameError::Dots("..".into()))
        );
        assert_eq!(
            relative_path("A001/../x"),
            Err(NameError::Dots("..".into()))
        );
        assert_eq!(relative_path("./A001"), Err(NameError::Dots(".".into())));
        for absolute in [
            "/etc/passwd",
            "\\x",
            "\\\\server\\share\\x",
            "C:\\x",
            "C:",
            "c:x",
            "C:/x",
        ] {
            assert_eq!(
                relative_path(absolute),
                Err(NameError::Absolute),
                "{absolute:?}"
            );
        }
    }

    #[test]
    fn relative_paths_refuse_bad_components() {
        assert_eq!(relative_path(""), Err(NameError::Empty));
        assert_eq!(relative_path("A001//x"), Err(NameError::EmptyComponent));
        assert_eq!(relative_path("A001/"), Err(NameError::EmptyComponent));
        assert_eq!(relative_path("A001/ /x"), Err(NameError::Empty));
        assert_eq!(
            relative_path("A001/a\0b.mov"),
            Err(NameError::ControlCharacters)
        );
        assert_eq!(
            relative_path(&format!("A001/{}", "a".repeat(256))),
            Err(NameError::TooLong(256))
        );
        let long = vec!["a".repeat(200); 5].join("/");
        assert_eq!(relative_path(&long).unwrap().len(), 1004);
        let longer = vec!["a".repeat(200); 6].join("/");
        assert_eq!(relative_path(&longer), Err(NameError::PathTooLong(1205)));
    }

    proptest! {
        #[test]
        fn names_never_panic_and_come_out_clean(s in "\\PC{0,300}|[\\x00-\\x7f]{0,300}|(\\.|\\.\\.|a|/|\\\\| ){0,20}") {
            if let Ok(name) = file_name(&s) {
                prop_assert!(!name.is_empty() && name.len() <= MAX_NAME_BYTES);
                prop_assert!(!name.contains(['/', '\\']));
                prop_assert!(name != "." && name != "..");
                prop_assert_eq!(file_name(&name), Ok(name.clone()));
            }
            if let Ok(path) = relative_path(&s) {
                prop_assert!(path.len() <= MAX_PATH_BYTES);
                prop_assert!(!path.starts_with('/') && !path.contains('\\'));
                prop_assert!(path.split('/').all(|c| file_name(c).as_deref() == Ok(c)));
                prop_assert_eq!(relative_path(&path), Ok(path.clone()));
            }
        }
    }
}
