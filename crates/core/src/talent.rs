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

/// The words a production's task types are named with, in English and Chinese, and the crew
/// role that does such work: the first role with a word that begins a word of the name (or,
/// for Chinese, is in it) is the one a task of that type wants.
const WORK_WORDS: &[(&str, &[&str])] = &[
    ("composer", &["music", "score", "配乐", "作曲"]),
    ("re_recording_mixer", &["mix", "混音"]),
    (
        "sound_designer",
        &["sound", "audio", "foley", "sfx", "音效", "声音"],
    ),
    ("compositor", &["comp", "合成"]),
    ("roto_artist", &["roto", "paint", "prep", "抠像", "擦除"]),
    (
        "matchmove_artist",
        &["matchmov", "track", "camtrack", "跟踪", "反求"],
    ),
    ("fx_artist", &["fx", "effect", "sim", "特效", "解算"]),
    (
        "cg_lighting_artist",
        &["light", "lookdev", "render", "灯光", "渲染"],
    ),
    (
        "environment_artist",
        &["env", "matte", "dmp", "环境", "场景"],
    ),
    ("animator", &["anim", "动画"]),
    ("rigger", &["rig", "绑定"]),
    ("modeller", &["model", "sculpt", "建模", "模型"]),
    ("storyboard_artist", &["storyboard", "board", "分镜"]),
    ("layout_artist", &["layout", "布局"]),
    (
        "colourist",
        &["grade", "grading", "colour", "color", "调色"],
    ),
    ("conform_editor", &["conform", "套底"]),
    ("editor", &["edit", "cut", "剪辑"]),
    ("subtitler", &["subtit", "caption", "字幕"]),
];

/// The crew role a task of this type wants, guessed from its name ("Compositing", "Comp",
/// "动画"), or `None`: a guess a hirer sees and may change, never a rule.
pub fn role_for_work(task_type: &str) -> Option<&'static str> {
    let name = task_type.to_lowercase();
    let words: Vec<&str> = name
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    WORK_WORDS
        .iter()
        .find(|(_, stems)| {
            stems.iter().any(|stem| {
                if stem.is_ascii() {
                    words.iter().any(|w| w.starts_with(stem))
                } else {
                    name.contains(stem)
                }
            })
        })
        .map(|(role, _)| *role)
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
    fn a_task_types_name_tells_the_role_it_wants() {
        for (name, role) in [
            ("Compositing", Some("compositor")),
            ("Comp", Some("compositor")),
            ("合成", Some("compositor")),
            ("Roto/Paint", Some("roto_artist")),
            ("Matchmove", Some("matchmove_artist")),
            ("FX", Some("fx_artist")),
            ("Lighting", Some("cg_lighting_artist")),
            ("Animation", Some("animator")),
            ("动画", Some("animator")),
            ("Rigging", Some("rigger")),
            ("Modeling", Some("modeller")),
            ("Grade", Some("colourist")),
            ("Music", Some("composer")),
            ("Edit", Some("editor")),
            ("Layout", Some("layout_artist")),
            ("Review", None),
            ("", None),
        ] {
            assert_eq!(role_for_work(name), role, "{name}");
        }
        for (role, _) in WORK_WORDS {
            assert!(department_of(role).is_some(), "{role}");
        }
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
