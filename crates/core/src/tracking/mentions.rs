//! @mentions in note bodies. Two forms, both unambiguous to read:
//! `@` then an e-mail address (`@li.wei@studio.cn`), or `@` then a display name in double quotes
//! (`@"Li Wei"`, matched whole and without regard to case). An `@` inside a word (`li@studio.cn`
//! written without a leading `@`) mentions nobody, and a trailing full stop ends an address.

/// Someone a note mentions, as written; the store resolves it to a member, or to nobody.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mention {
    /// An e-mail address, in lower case.
    Email(String),
    /// A display name, as written between the quotes (trimmed).
    Name(String),
}

/// A note resolves at most this many mentions; the rest are plain text.
pub const MAX_MENTIONS: usize = 50;
const MAX_NAME: usize = 200;

fn email_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-' | '@')
}

/// The mentions of `body`, in order of first appearance, each once.
pub fn parse(body: &str) -> Vec<Mention> {
    let mut out: Vec<Mention> = Vec::new();
    let chars: Vec<char> = body.chars().collect();
    let mut i = 0;
    while i < chars.len() && out.len() < MAX_MENTIONS {
        let starts = chars[i] == '@' && (i == 0 || !email_char(chars[i - 1]));
        if !starts {
            i += 1;
            continue;
        }
        i += 1;
        let found = if chars.get(i) == Some(&'"') {
            let end = chars[i + 1..]
                .iter()
                .position(|c| *c == '"' || *c == '\n')
                .map(|p| i + 1 + p);
            match end {
                Some(e) if chars[e] == '"' => {
                    let name: String = chars[i + 1..e]
                        .iter()
                        .collect::<String>()
                        .trim()
                        .to_string();
                    i = e + 1;
                    (!name.is_empty() && name.chars().count() <= MAX_NAME)
                        .then_some(Mention::Name(name))
                }
                _ => None,
            }
        } else {
            let len = chars[i..].iter().take_while(|c| email_char(**c)).count();
            let word: String = chars[i..i + len].iter().collect();
            i += len;
            let word = word.trim_end_matches(['.', '-']);
            let mut parts = word.split('@');
            match (parts.next(), parts.next(), parts.next()) {
                (Some(local), Some(domain), None)
                    if !local.is_empty()
                        && domain.contains('.')
                        && !domain.starts_with('.')
                        && word.len() <= 254 =>
                {
                    Some(Mention::Email(word.to_lowercase()))
                }
                _ => None,
            }
        };
        if let Some(m) = found
            && !out.contains(&m)
        {
            out.push(m);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn email(s: &str) -> Mention {
        Mention::Email(s.into())
    }
    fn name(s: &str) -> Mention {
        Mention::Name(s.into())
    }

    #[test]
    fn both_forms() {
        assert_eq!(
            parse(
                "@li.wei@studio.cn please check the halo, cc @\"Zhang Wei\" and @Ana@Example.com."
            ),
            vec![
                email("li.wei@studio.cn"),
                name("Zhang Wei"),
                email("ana@example.com")
            ]
        );
        assert_eq!(
            parse("(@a@b.cn) @a@b.cn"),
            vec![email("a@b.cn")],
            "each once"
        );
        assert_eq!(parse("@\"  Li Wei \""), vec![name("Li Wei")]);
    }

    #[test]
    fn what_is_not_a_mention() {
        for body in [
            "write to li.wei@studio.cn",
            "@li.wei",
            "@ li.wei@studio.cn",
            "@\"Li Wei",
            "@\"Li\nWei\"",
            "@\"\"",
            "@a@b@c.cn",
            "frame 1012 @ 24fps",
            "@@a@b.cn",
        ] {
            assert_eq!(parse(body), vec![], "{body:?}");
        }
    }

    #[test]
    fn at_most_fifty() {
        let body: String = (0..80).map(|i| format!("@u{i}@x.cn ")).collect();
        assert_eq!(parse(&body).len(), MAX_MENTIONS);
    }

    proptest! {
        /// Any text parses without panicking, and every e-mail found has one `@` and a dotted
        /// domain.
        #[test]
        fn any_text(body in "\\PC{0,200}") {
            for m in parse(&body) {
                if let Mention::Email(e) = m {
                    prop_assert_eq!(e.matches('@').count(), 1);
                    prop_assert!(e.split('@').nth(1).unwrap().contains('.'));
                }
            }
        }
    }
}
