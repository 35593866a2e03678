//! Languages: every string a person reads comes from the Fluent catalogs in `locales/`
//! (English and Simplified Chinese). The language follows the user's setting, else the
//! browser's `Accept-Language`, for the whole request.

use std::cell::Cell;

use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use fluent_templates::{LanguageIdentifier, Loader, langid, static_loader};

static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    ZhCn,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::ZhCn];

    pub fn id(self) -> LanguageIdentifier {
        match self {
            Lang::En => langid!("en"),
            Lang::ZhCn => langid!("zh-CN"),
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::ZhCn => "zh-CN",
        }
    }
    pub fn from_code(s: &str) -> Option<Lang> {
        let s = s.trim().to_ascii_lowercase();
        if s == "en" || s.starts_with("en-") {
            Some(Lang::En)
        } else if s == "zh" || s.starts_with("zh-cn") || s.starts_with("zh-hans") || s == "zh-sg" {
            Some(Lang::ZhCn)
        } else {
            None
        }
    }

    /// Picks the first language we speak from an `Accept-Language` header, honouring q-values.
    pub fn from_accept_language(h: &str) -> Option<Lang> {
        let mut prefs: Vec<(f32, Lang)> = h
            .split(',')
            .take(20)
            .filter_map(|part| {
                let mut it = part.split(';');
                let tag = it.next()?.trim();
                let q = it
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .and_then(|q| q.parse::<f32>().ok())
                    .unwrap_or(1.0);
                Lang::from_code(tag).map(|l| (q, l))
            })
            .collect();
        prefs.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal));
        prefs.first().map(|p| p.1)
    }
}

tokio::task_local! {
    static LANG: Cell<Lang>;
}

/// The language of the request being served (English outside a request).
pub fn current() -> Lang {
    LANG.try_with(|l| l.get()).unwrap_or(Lang::En)
}

/// Overrides the request's language, once the user (and their setting) is known.
pub fn set_current(lang: Lang) {
    let _ = LANG.try_with(|l| l.set(lang));
}

/// A message in the request's language.
pub fn text(key: &str) -> String {
    text_in(current(), key)
}

pub fn text_in(lang: Lang, key: &str) -> String {
    LOCALES
        .try_lookup(&lang.id(), key)
        .unwrap_or_else(|| key.to_string())
}

pub fn try_text(key: &str) -> Option<String> {
    LOCALES.try_lookup(&current().id(), key)
}

/// A message with arguments, e.g. `text_args("import-unreadable", &[("reason", why.into())])`.
pub fn text_args(
    key: &str,
    args: &[(
        &'static str,
        fluent_templates::fluent_bundle::FluentValue<'static>,
    )],
) -> String {
    text_args_in(current(), key, args)
}

/// A message with arguments in `lang`.
pub fn text_args_in(
    lang: Lang,
    key: &str,
    args: &[(
        &'static str,
        fluent_templates::fluent_bundle::FluentValue<'static>,
    )],
) -> String {
    let map: std::collections::HashMap<std::borrow::Cow<'static, str>, _> = args
        .iter()
        .map(|(k, v)| (std::borrow::Cow::Borrowed(*k), v.clone()))
        .collect();
    LOCALES
        .try_lookup_with_args(&lang.id(), key, &map)
        .unwrap_or_else(|| key.to_string())
}

pub async fn negotiate(req: Request, next: Next) -> Response {
    let lang = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(Lang::from_accept_language)
        .unwrap_or(Lang::En);
    LANG.scope(Cell::new(lang), next.run(req)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language() {
        assert_eq!(
            Lang::from_accept_language("zh-CN,zh;q=0.9,en;q=0.8"),
            Some(Lang::ZhCn)
        );
        assert_eq!(
            Lang::from_accept_language("fr-FR, en;q=0.5, zh;q=0.4"),
            Some(Lang::En)
        );
        assert_eq!(Lang::from_accept_language("de"), None);
        assert_eq!(Lang::from_accept_language(""), None);
    }
}

#[cfg(test)]
mod catalog_tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    fn keys(lang: &str) -> BTreeSet<String> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("locales")
            .join(lang)
            .join("main.ftl");
        let text = std::fs::read_to_string(&path).unwrap();
        if let Err((_, errors)) =
            fluent_templates::fluent_bundle::FluentResource::try_new(text.clone())
        {
            panic!("{lang} catalog does not parse: {errors:?}");
        }
        text.lines()
            .filter(|l| l.starts_with(|c: char| c.is_ascii_alphabetic()))
            .filter_map(|l| l.split_once(" =").map(|(k, _)| k.trim().to_string()))
            .collect()
    }

    /// Every file under `dir`, at any depth.
    fn files_under(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                files_under(&p, out);
            } else {
                out.push(p);
            }
        }
    }

    /// Every literal key the code and templates ask for: `tr.t("…")`, `text("…")`,
    /// `text_args("…")`, and a problem's `.message("…")` and `forbidden("…")`.
    fn used_keys() -> BTreeSet<String> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut out = BTreeSet::new();
        let mut files = Vec::new();
        for dir in ["templates", "src"] {
            files_under(&root.join(dir), &mut files);
        }
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            for marker in [
                "tr.t(\"",
                "text(\"",
                "text_args(\"",
                ".message(\"",
                "forbidden(\"",
            ] {
                for part in text.split(marker).skip(1) {
                    let key: String = part.chars().take_while(|c| *c != '"').collect();
                    if !key.is_empty() && !key.contains('{') && !key.contains('…') {
                        out.insert(key);
                    }
                }
            }
        }
        out
    }

    /// The keys made from a name at run time: an import's warnings and the changes of its diff.
    #[test]
    fn import_words_exist_for_every_code() {
        use mstation_core::tracking::{conform::CHANGE_FIELDS, edl::WARNING_CODES};
        for lang in ["en", "zh-CN"] {
            let have = keys(lang);
            for k in WARNING_CODES
                .iter()
                .map(|c| format!("import-warning-{c}"))
                .chain(CHANGE_FIELDS.iter().map(|f| format!("import-change-{f}")))
            {
                assert!(have.contains(&k), "{lang} lacks {k}");
            }
        }
    }

    /// The keys made from a name at run time in review: why a drawing was refused, where a
    /// version stands.
    #[test]
    fn review_words_exist_for_every_code() {
        use mstation_core::tracking::{drawing, review::ReviewStatus, session};
        for lang in ["en", "zh-CN"] {
            let have = keys(lang);
            let reasons = drawing::REASONS
                .iter()
                .chain(session::REASONS.iter())
                .map(|r| format!("reason-{r}"));
            let statuses = ReviewStatus::ALL
                .iter()
                .map(|s| format!("review-{}", s.as_str().replace('_', "-")))
                .chain(
                    session::LOG_KINDS
                        .iter()
                        .map(|k| format!("session-kind-{k}")),
                );
            for k in reasons.chain(statuses).chain(
                [
                    "range_without_frame",
                    "drawing_without_frame",
                    "not_a_drawing",
                ]
                .iter()
                .map(|r| format!("reason-{r}")),
            ) {
                assert!(have.contains(&k), "{lang} lacks {k}");
            }
        }
    }

    /// The default workflow's statuses and pipeline steps have words in both languages; the
    /// English ones are the names a project is created with.
    #[test]
    fn default_statuses_and_steps_have_words() {
        use mstation_store::tracking::tasks::{DEFAULT_STATUSES, default_steps};
        let words = DEFAULT_STATUSES
            .iter()
            .map(|d| (format!("status-{}", d.0), d.1))
            .chain(default_steps().map(|d| (format!("step-{}", d.0), d.1)));
        let zh = keys("zh-CN");
        for (key, english) in words {
            assert_eq!(
                crate::i18n::text_in(crate::i18n::Lang::En, &key),
                english,
                "{key}"
            );
            assert!(zh.contains(&key), "zh-CN lacks {key}");
        }
    }

    #[test]
    fn both_catalogs_have_the_same_keys() {
        let en = keys("en");
        let zh = keys("zh-CN");
        let only_en: Vec<_> = en.difference(&zh).collect();
        let only_zh: Vec<_> = zh.difference(&en).collect();
        assert!(only_en.is_empty(), "missing from zh-CN: {only_en:?}");
        assert!(only_zh.is_empty(), "missing from en: {only_zh:?}");
    }

    #[test]
    fn every_key_the_code_uses_exists() {
        let en = keys("en");
        let missing: Vec<_> = used_keys()
            .into_iter()
            .filter(|k| !en.contains(k))
            .collect();
        assert!(
            missing.is_empty(),
            "keys used but not in the catalogs: {missing:?}"
        );
    }

    /// Every problem an answer can carry has a title and a detail in both languages.
    #[test]
    fn every_problem_code_has_a_title_and_a_detail() {
        let codes = crate::error::Code::all();
        assert!(codes.len() > 40, "Code::all lists every code");
        for lang in ["en", "zh-CN"] {
            let have = keys(lang);
            let missing: Vec<String> = codes
                .iter()
                .map(|c| format!("problem-{}", c.as_str().replace('.', "-")))
                .flat_map(|k| [format!("{k}-detail"), k])
                .filter(|k| !have.contains(k))
                .collect();
            assert!(
                missing.is_empty(),
                "{lang} lacks problem texts: {missing:?}"
            );
        }
    }

    /// The arguments of each call `name(…)` (or `name::<…>(…)`) in `text`, split at the
    /// top-level commas; calls of a longer name (`fetch_one(`) do not count.
    fn calls(text: &str, name: &str) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        for (at, _) in text.match_indices(name) {
            let before = text[..at].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let mut rest = &text[at + name.len()..];
            if let Some(r) = rest.strip_prefix("::<") {
                rest = r.split_once('>').map_or("", |(_, r)| r);
            }
            let Some(rest) = rest.strip_prefix('(') else {
                continue;
            };
            let (mut depth, mut in_str, mut escaped) = (1, false, false);
            let (mut args, mut cur) = (Vec::new(), String::new());
            for c in rest.chars() {
                if in_str {
                    in_str = escaped || c != '"';
                    escaped = !escaped && c == '\\';
                    cur.push(c);
                    continue;
                }
                match c {
                    '"' => in_str = true,
                    '(' | '[' | '{' => depth += 1,
                    ')' | ']' | '}' => depth -= 1,
                    ',' if depth == 1 => {
                        args.push(std::mem::take(&mut cur).trim().to_string());
                        continue;
                    }
                    _ => {}
                }
                if depth == 0 {
                    break;
                }
                cur.push(c);
            }
            if !cur.trim().is_empty() {
                args.push(cur.trim().to_string());
            }
            out.push(args);
        }
        out
    }

    /// A plain string literal's text.
    fn literal(arg: &str) -> Option<String> {
        let s = arg.strip_prefix('"')?.strip_suffix('"')?;
        word(s).then(|| s.to_string())
    }

    /// Whether `s` is a name the catalogs key on: lower-case letters, digits, `_` and spaces.
    fn word(s: &str) -> bool {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || " _".contains(c))
    }

    /// The words (lower-case letters, digits, `_` and spaces) that follow `marker` up to a
    /// closing quote in `text`.
    fn after(text: &str, marker: &str) -> Vec<String> {
        text.split(marker)
            .skip(1)
            .filter_map(|p| p.split_once('"').map(|(s, _)| s.to_string()))
            .filter(|s| word(s))
            .collect()
    }

    /// What the code can name in a problem: the entities (`StoreError` and `not_found`), the
    /// reasons a field is refused for (`FieldError`, `invalid`, `InvalidValue`, and core's
    /// custom-field checks) and the permissions a refusal names.
    fn named_in_code() -> (BTreeSet<String>, BTreeSet<String>, BTreeSet<String>) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut files = Vec::new();
        for dir in ["server/src", "store/src", "core/src"] {
            files_under(&root.join(dir), &mut files);
        }
        let mut entities = BTreeSet::new();
        let mut reasons = BTreeSet::new();
        let mut permissions = BTreeSet::new();
        let positions = [
            ("one", 3, false),
            ("locked", 5, false),
            ("exists", 4, false),
            ("check_version", 0, false),
            ("update_seen", 1, false),
            ("dup", 1, false),
            ("not_found", 0, false),
            ("FieldError::new", 1, true),
            ("invalid", 1, true),
            ("refused", 2, true),
        ];
        for f in files
            .iter()
            .filter(|f| f.extension().is_some_and(|e| e == "rs"))
        {
            let text = std::fs::read_to_string(f).unwrap();
            for (name, at, is_reason) in positions {
                let into: &mut BTreeSet<String> = if is_reason {
                    &mut reasons
                } else {
                    &mut entities
                };
                for args in calls(&text, name) {
                    into.extend(args.get(at).and_then(|a| literal(a)));
                }
            }
            entities.extend(after(&text, "entity: \""));
            reasons.extend(after(&text, "reason: \""));
            if f.ends_with("core/src/tracking/fields.rs") {
                for marker in ["Err(\"", "ok_or(\"", "| \""] {
                    reasons.extend(after(&text, marker));
                }
            }
            let perms = after(&text, "\"permission-");
            permissions.extend(perms.into_iter().map(|p| format!("permission-{p}")));
        }
        (entities, reasons, permissions)
    }

    /// Every entity, reason and permission the code can name has its words in both catalogs.
    #[test]
    fn every_entity_reason_and_permission_has_words() {
        let (entities, reasons, permissions) = named_in_code();
        assert!(
            entities.len() >= 20,
            "the scan finds the entities: {entities:?}"
        );
        assert!(
            reasons.len() >= 60,
            "the scan finds the reasons: {reasons:?}"
        );
        assert!(
            permissions.len() >= 12,
            "the scan finds the permissions: {permissions:?}"
        );
        let wanted: Vec<String> = entities
            .iter()
            .map(|e| format!("entity-{}", e.replace(' ', "_")))
            .chain(reasons.iter().map(|r| format!("reason-{r}")))
            .chain(permissions)
            .collect();
        for lang in ["en", "zh-CN"] {
            let have = keys(lang);
            let missing: Vec<_> = wanted.iter().filter(|k| !have.contains(*k)).collect();
            assert!(missing.is_empty(), "{lang} lacks: {missing:?}");
        }
    }

    #[test]
    fn every_role_kind_and_scope_has_a_name() {
        let en = keys("en");
        for r in mstation_core::Role::ALL {
            assert!(en.contains(&format!("role-{}", r.as_str())));
        }
        for k in mstation_core::OrgKind::ALL {
            assert!(en.contains(&format!("org-kind-{}", k.as_str())));
        }
        for s in ["read", "write", "admin"] {
            assert!(en.contains(&format!("scope-{s}")));
        }
    }
}
