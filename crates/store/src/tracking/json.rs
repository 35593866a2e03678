//! Task lists as JSON, fast: a sequence's grid is hundreds of tasks, and encoding them was a
//! fifth of the server's time on that read (profiled at 100,000 shots). serde escapes every key
//! and value byte by byte; here the keys are constants and ids and instants are written as
//! they are (they never need escaping), while every free text still goes through serde.
//! The output is byte for byte what `Task`'s `Serialize` writes: the tests hold the two equal.

use uuid::Uuid;

use super::tasks::Task;

/// `{"items":[…]}` for `tasks`, as `serde_json` would write it.
pub fn task_items(tasks: &[Task]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + tasks.len() * 560);
    out.extend_from_slice(b"{\"items\":[");
    for (i, t) in tasks.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        task(&mut out, t);
    }
    out.extend_from_slice(b"]}");
    out
}

fn task(out: &mut Vec<u8>, t: &Task) {
    out.extend_from_slice(b"{\"id\":");
    id(out, t.id);
    out.extend_from_slice(b",\"org_id\":");
    id(out, t.org_id);
    out.extend_from_slice(b",\"project_id\":");
    id(out, t.project_id);
    out.extend_from_slice(b",\"sequence_id\":");
    maybe_id(out, t.sequence_id);
    out.extend_from_slice(b",\"shot_id\":");
    maybe_id(out, t.shot_id);
    out.extend_from_slice(b",\"asset_id\":");
    maybe_id(out, t.asset_id);
    out.extend_from_slice(b",\"task_type_id\":");
    id(out, t.task_type_id);
    out.extend_from_slice(b",\"status_id\":");
    id(out, t.status_id);
    out.extend_from_slice(b",\"assignees\":[");
    for (i, a) in t.assignees.split_whitespace().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        text(out, a);
    }
    out.extend_from_slice(b"],\"priority\":");
    int(out, t.priority);
    out.extend_from_slice(b",\"estimate_minutes\":");
    match t.estimate_minutes {
        Some(m) => int(out, m),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"start_date\":");
    maybe_text(out, t.start_date.as_deref());
    out.extend_from_slice(b",\"due_date\":");
    maybe_text(out, t.due_date.as_deref());
    out.extend_from_slice(b",\"description\":");
    text(out, &t.description);
    out.extend_from_slice(b",\"created_at\":\"");
    t.created_at.write_rfc3339(out);
    out.extend_from_slice(b"\",\"updated_at\":\"");
    t.updated_at.write_rfc3339(out);
    out.extend_from_slice(b"\",\"version\":");
    int(out, t.version);
    out.push(b'}');
}

fn int(out: &mut Vec<u8>, n: i64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

fn id(out: &mut Vec<u8>, id: Uuid) {
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    out.push(b'"');
    out.extend_from_slice(id.hyphenated().encode_lower(&mut buf).as_bytes());
    out.push(b'"');
}

fn maybe_id(out: &mut Vec<u8>, v: Option<Uuid>) {
    match v {
        Some(v) => id(out, v),
        None => out.extend_from_slice(b"null"),
    }
}

/// Free text, escaped by serde.
fn text(out: &mut Vec<u8>, s: &str) {
    let _ = serde_json::to_writer(&mut *out, s);
}

fn maybe_text(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => text(out, s),
        None => out.extend_from_slice(b"null"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Millis;

    #[derive(serde::Serialize)]
    struct Items<'a> {
        items: &'a [Task],
    }

    fn a_task(n: u128) -> Task {
        Task {
            id: Uuid::from_u128(n),
            org_id: Uuid::from_u128(n * 7 + 1),
            project_id: Uuid::from_u128(u128::MAX - n),
            sequence_id: n.is_multiple_of(2).then(|| Uuid::from_u128(n << 64)),
            shot_id: (!n.is_multiple_of(3)).then(|| Uuid::from_u128(n + 99)),
            asset_id: n.is_multiple_of(3).then(|| Uuid::from_u128(n + 5)),
            task_type_id: Uuid::from_u128(n ^ 0xdead_beef),
            status_id: Uuid::from_u128(n.rotate_left(17)),
            assignees: match n % 4 {
                0 => String::new(),
                1 => Uuid::from_u128(n).to_string(),
                2 => format!("{} {}", Uuid::from_u128(1), Uuid::from_u128(2)),
                // Whatever a damaged row holds still comes out as serde writes it.
                _ => "  \"quoted\"\\back\u{1}slash  ünïcode\t".into(),
            },
            priority: n as i64 % 21 - 10,
            estimate_minutes: (!n.is_multiple_of(5)).then_some(n as i64 * 37 - 500),
            start_date: (n % 2 == 1).then(|| "2026-11-24".into()),
            due_date: match n % 3 {
                0 => None,
                1 => Some("2027-01-31".into()),
                _ => Some("odd \"date\"\n\u{7f}\u{2028}".into()),
            },
            description: match n % 3 {
                0 => String::new(),
                1 => {
                    "Roto the lantern; keep the glow soft.\n\n第二段 · “quotes” \\ </script>".into()
                }
                _ => "\u{0}\u{1f}\t\r \u{2029} 🎬".into(),
            },
            created_at: Millis(n as i64 * 1_000_003 - 86_400_000),
            updated_at: Millis(1_764_000_000_123 + n as i64),
            version: n as i64 * 3 + 1,
        }
    }

    #[test]
    fn task_items_are_what_serde_writes_byte_for_byte() {
        for count in [0, 1, 2, 12, 100] {
            let tasks: Vec<Task> = (0..count).map(|n| a_task(n as u128 * 7919 + 3)).collect();
            let want = serde_json::to_vec(&Items { items: &tasks }).unwrap();
            let got = task_items(&tasks);
            assert_eq!(
                String::from_utf8(got).unwrap(),
                String::from_utf8(want).unwrap(),
                "{count} tasks"
            );
        }
    }
}
