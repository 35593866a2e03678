//! The talent data center's rules (context `talent`): the crew-role taxonomy that profiles,
//! credits and searches share, the languages a person can work in, who sees a profile, and
//! the checks on a person's own words about themselves. Pure: the store applies them.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A department of a production, and the crew roles in it, by their stable keys. Their names
/// in each language are in the pages' message catalogues (`talent-dept-…`, `talent-role-…`).
pub struct Department {
    pub key: &'static str,
    pub roles: &'static [&'static str],
}

/// The departments, in the order a call sheet lists them.
pub const DEPARTMENTS: &[Department] = &[
    Department {
        key: "production",
        roles: &[
            "producer",
            "line_producer",
            "production_manager",
            "production_coordinator",
            "assistant_director",
        ],
    },
    Department {
        key: "direction",
        roles: &["director", "screenwriter", "script_supervisor"],
    },
    Department {
        key: "camera",
        roles: &[
            "director_of_photography",
            "camera_operator",
            "focus_puller",
            "dit",
            "steadicam_operator",
        ],
    },
    Department {
        key: "lighting_grip",
        roles: &["gaffer", "best_boy", "key_grip"],
    },
    Department {
        key: "art",
        roles: &[
            "production_designer",
            "art_director",
            "set_decorator",
            "props_master",
            "costume_designer",
            "makeup_artist",
        ],
    },
    Department {
        key: "sound",
        roles: &[
            "production_sound_mixer",
            "boom_operator",
            "sound_designer",
            "re_recording_mixer",
            "composer",
        ],
    },
    Department {
        key: "editorial",
        roles: &["editor", "assistant_editor", "conform_editor"],
    },
    Department {
        key: "vfx",
        roles: &[
            "vfx_supervisor",
            "vfx_producer",
            "compositor",
            "matchmove_artist",
            "roto_artist",
            "fx_artist",
            "cg_lighting_artist",
            "environment_artist",
        ],
    },
    Department {
        key: "animation",
        roles: &[
            "animator",
            "rigger",
            "modeller",
            "storyboard_artist",
            "layout_artist",
        ],
    },
    Department {
        key: "colour",
        roles: &["colourist", "colour_assistant"],
    },
    Department {
        key: "post",
        roles: &["post_supervisor", "post_coordinator", "subtitler"],
    },
];

/// The department a crew role belongs to, or `None` for a key that is no role.
pub fn department_of(role: &str) -> Option<&'static str> {
    DEPARTMENTS
        .iter()
        .find(|d| d.roles.contains(&role))
        .map(|d| d.key)
}

/// Whether `key` is a department.
pub fn is_department(key: &str) -> bool {
    DEPARTMENTS.iter().any(|d| d.key == key)
}

/// Every crew role, department by department.
pub fn all_roles() -> impl Iterator<Item = &'static str> {
    DEPARTMENTS.iter().flat_map(|d| d.roles.iter().copied())
}

/// The languages a person can say they work in, by ISO 639 code (Cantonese has its own,
/// `yue`, as crews in the region count it apart from Mandarin, `zh`).
pub const LANGUAGES: [&str; 14] = [
    "zh", "yue", "en", "ja", "ko", "fr", "de", "es", "it", "pt", "ru", "th", "vi", "hi",
];

/// Who sees a profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Only the organisation that keeps it.
    Private,
    /// Every organisation's hirers, in the talent directory (without what is sensitive).
    Platform,
}

impl Visibility {
    pub const ALL: [Visibility; 2] = [Visibility::Private, Visibility::Platform];

    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Private => "private",
            Visibility::Platform => "platform",
        }
    }

    pub fn parse(s: &str) -> Option<Visibility> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// Where a credit comes from, shown beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Provenance {
    /// Written by the person or the organisation that keeps the profile, unchecked.
    SelfDeclared,
}

impl Provenance {
    pub fn as_str(self) -> &'static str {
        match self {
            Provenance::SelfDeclared => "self_declared",
        }
    }

    pub fn parse(s: &str) -> Option<Provenance> {
        (s == "self_declared").then_some(Provenance::SelfDeclared)
    }
}

/// A list of short words (skills, software), as written: each trimmed and at most 60
/// characters, at most `max` of them, repeats (in any case) dropped.
pub fn tags(
    field: &'static str,
    words: &[String],
    max: usize,
) -> crate::validate::Checked<Vec<String>> {
    let too_many = || crate::validate::FieldError::new(field, "too_many");
    // Repeats are forgiven, but not without end: the work stays bounded by `max`.
    if words.len() > max * 4 {
        return Err(too_many());
    }
    let mut out: Vec<String> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for w in words {
        let w = crate::validate::name(field, w, 60)?;
        let folded = w.to_lowercase();
        if !seen.contains(&folded) {
            if out.len() == max {
                return Err(too_many());
            }
            seen.push(folded);
            out.push(w);
        }
    }
    Ok(out)
}

/// A year a credit can name: from the first films to next year (a production announced).
pub fn valid_year(year: i32, this_year: i32) -> bool {
    (1888..=this_year + 1).contains(&year)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_has_one_department_and_keys_are_unique() {
        let roles: Vec<&str> = all_roles().collect();
        for r in &roles {
            assert_eq!(roles.iter().filter(|x| *x == r).count(), 1, "{r}");
            assert!(department_of(r).is_some());
            assert!(!is_department(r), "{r} is a role and a department");
        }
        assert_eq!(department_of("compositor"), Some("vfx"));
        assert_eq!(department_of("vfx"), None);
        assert!(is_department("camera"));
    }

    #[test]
    fn tags_are_trimmed_deduplicated_and_bounded() {
        let t = tags(
            "skills",
            &[" Nuke ".into(), "nuke".into(), "Houdini".into()],
            10,
        )
        .unwrap();
        assert_eq!(t, vec!["Nuke", "Houdini"]);
        assert_eq!(
            tags("skills", &["".into()], 10).unwrap_err().reason,
            "required"
        );
        let many: Vec<String> = (0..11).map(|i| format!("s{i}")).collect();
        assert_eq!(tags("skills", &many, 10).unwrap_err().reason, "too_many");
        let repeated = vec!["Nuke".to_string(); 40];
        assert_eq!(tags("skills", &repeated, 10).unwrap(), vec!["Nuke"]);
        let flood = vec!["Nuke".to_string(); 41];
        assert_eq!(tags("skills", &flood, 10).unwrap_err().reason, "too_many");
    }

    #[test]
    fn names_round_trip() {
        for v in Visibility::ALL {
            assert_eq!(Visibility::parse(v.as_str()), Some(v));
        }
        assert_eq!(
            Provenance::parse(Provenance::SelfDeclared.as_str()),
            Some(Provenance::SelfDeclared)
        );
        assert!(valid_year(2026, 2026) && valid_year(2027, 2026));
        assert!(!valid_year(2028, 2026) && !valid_year(1887, 2026));
    }
}
