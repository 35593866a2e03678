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

/// A message with arguments, e.g. `text_args("members-count", &[("count", 3.into())])`.
pub fn text_args(
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
        .try_lookup_with_args(&current().id(), key, &map)
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

    /// Every literal key the code and templates ask for: `tr.t("…")` and `text("…")`.
    fn used_keys() -> BTreeSet<String> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut out = BTreeSet::new();
        let mut files = Vec::new();
        for dir in ["templates", "src"] {
            files_under(&root.join(dir), &mut files);
        }
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            for marker in ["tr.t(\"", "text(\""] {
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

    /// Every problem code a handler or the store can answer with has a title in the catalogs.
    #[test]
    fn every_problem_code_has_a_title() {
        let en = keys("en");
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut missing = Vec::new();
        let mut files = Vec::new();
        for dir in ["server/src", "store/src", "core/src/tracking"] {
            files_under(&root.join(dir), &mut files);
        }
        {
            for p in files {
                let Ok(text) = std::fs::read_to_string(&p) else {
                    continue;
                };
                for part in text.split('"').skip(1).step_by(2) {
                    let is_code = ["auth.", "request.", "identity.", "page.", "tracking."]
                        .iter()
                        .any(|pre| part.starts_with(pre))
                        && part
                            .split_once('.')
                            .is_some_and(|(_, rest)| !rest.is_empty())
                        && part
                            .chars()
                            .all(|c| c.is_ascii_lowercase() || c == '.' || c == '_');
                    if is_code && !en.contains(&format!("problem-{}", part.replace('.', "-"))) {
                        missing.push(part.to_string());
                    }
                }
            }
        }
        assert!(
            missing.is_empty(),
            "problem codes without a title: {missing:?}"
        );
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
