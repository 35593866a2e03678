//! A licence certificate as a one-page PDF (A4), in the reader's language.
//!
//! Latin text is set in Helvetica and everything else (Chinese) in STSong-Light, both fonts
//! every PDF reader knows by name: Helvetica is one of the standard 14, STSong-Light one of the
//! predefined Adobe-GB1 fonts, addressed in UTF-16 through the `UniGB-UTF16-H` CMap. Neither
//! is embedded, so the file stays a few kilobytes and the server carries no font; the reader
//! draws the Chinese with its own Song face.

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo};
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

/// What the certificate says, already in the reader's words.
pub(super) struct Sheet {
    /// Above the title: the platform and the section.
    pub header: String,
    pub title: String,
    /// Whether the licence stands, in words.
    pub status: String,
    pub stands: bool,
    /// Each fact: its label and its lines.
    pub facts: Vec<(String, Vec<String>)>,
    /// The public address that says whether the licence stands, with its label.
    pub verify: Option<(String, String)>,
}

const WIDTH: f32 = 595.0;
const HEIGHT: f32 = 842.0;
const MARGIN: f32 = 56.0;
/// Where a fact's value starts, right of its label.
const VALUE_X: f32 = 200.0;
/// The most lines one value of a fact takes.
const FACT_LINES: usize = 4;

const LATIN: Name = Name(b"F1");
const LATIN_BOLD: Name = Name(b"F2");
const CJK: Name = Name(b"F3");

/// The certificate's PDF bytes.
pub(super) fn render(sheet: &Sheet) -> Vec<u8> {
    let mut pdf = Pdf::new();
    let [catalog, tree, page, contents, info] = [1, 2, 3, 4, 5].map(Ref::new);
    let [latin, bold, cjk, cid, descriptor] = [6, 7, 8, 9, 10].map(Ref::new);
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids([page]).count(1);
    let mut p = pdf.page(page);
    p.media_box(Rect::new(0.0, 0.0, WIDTH, HEIGHT))
        .parent(tree)
        .contents(contents);
    p.resources()
        .fonts()
        .pair(LATIN, latin)
        .pair(LATIN_BOLD, bold)
        .pair(CJK, cjk);
    p.finish();
    pdf.document_info(info)
        .title(TextStr(&sheet.title))
        .producer(TextStr("M-Station"));
    for (id, name) in [(latin, &b"Helvetica"[..]), (bold, b"Helvetica-Bold")] {
        pdf.type1_font(id)
            .base_font(Name(name))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
    }
    pdf.type0_font(cjk)
        .base_font(Name(b"STSong-Light-UniGB-UTF16-H"))
        .encoding_predefined(Name(b"UniGB-UTF16-H"))
        .descendant_font(cid);
    pdf.cid_font(cid)
        .subtype(CidFontType::Type0)
        .base_font(Name(b"STSong-Light"))
        .system_info(SystemInfo {
            registry: Str(b"Adobe"),
            ordering: Str(b"GB1"),
            supplement: 4,
        })
        .font_descriptor(descriptor)
        .default_width(1000.0);
    pdf.font_descriptor(descriptor)
        .name(Name(b"STSong-Light"))
        .flags(FontFlags::SERIF | FontFlags::SYMBOLIC)
        .bbox(Rect::new(-25.0, -254.0, 1000.0, 880.0))
        .italic_angle(0.0)
        .ascent(880.0)
        .descent(-120.0)
        .cap_height(880.0)
        .stem_v(93.0);
    pdf.stream(contents, &page_content(sheet));
    pdf.finish()
}

fn page_content(sheet: &Sheet) -> Vec<u8> {
    let mut c = Content::new();
    let mut y = HEIGHT - MARGIN - 10.0;
    c.set_fill_gray(0.45);
    line(&mut c, MARGIN, y, 10.0, LATIN, &sheet.header);
    y -= 34.0;
    c.set_fill_gray(0.0);
    line(&mut c, MARGIN, y, 22.0, LATIN_BOLD, &sheet.title);
    y -= 26.0;
    if sheet.stands {
        c.set_fill_rgb(0.09, 0.45, 0.2);
    } else {
        c.set_fill_rgb(0.7, 0.1, 0.1);
    }
    line(&mut c, MARGIN, y, 12.0, LATIN_BOLD, &sheet.status);
    y -= 16.0;
    c.set_stroke_gray(0.75)
        .set_line_width(0.75)
        .move_to(MARGIN, y)
        .line_to(WIDTH - MARGIN, y)
        .stroke();
    y -= 24.0;
    let value_width = WIDTH - MARGIN - VALUE_X;
    for (label, lines) in &sheet.facts {
        c.set_fill_gray(0.4);
        for (i, l) in wrap(label, VALUE_X - MARGIN - 12.0, 9.0).iter().enumerate() {
            line(&mut c, MARGIN, y - i as f32 * 12.0, 9.0, LATIN, l);
        }
        c.set_fill_gray(0.0);
        let mut first = true;
        for value in lines {
            // A fact takes at most FACT_LINES lines; a longer one ends in an ellipsis.
            let mut wrapped = wrap(value, value_width, 11.5);
            if wrapped.len() > FACT_LINES {
                wrapped.truncate(FACT_LINES);
                if let Some(l) = wrapped.last_mut() {
                    l.push('…');
                }
            }
            for l in wrapped {
                if !first {
                    y -= 15.0;
                }
                first = false;
                line(&mut c, VALUE_X, y, 11.5, LATIN, &l);
            }
        }
        y -= 26.0;
        if y < MARGIN + 60.0 {
            break;
        }
    }
    if let Some((label, url)) = &sheet.verify {
        // At the foot of the page, as a certificate carries it.
        y = y.clamp(MARGIN + 20.0, MARGIN + 60.0);
        c.set_stroke_gray(0.75)
            .move_to(MARGIN, y + 18.0)
            .line_to(WIDTH - MARGIN, y + 18.0)
            .stroke();
        c.set_fill_gray(0.4);
        line(&mut c, MARGIN, y, 9.0, LATIN, label);
        c.set_fill_gray(0.0);
        for (i, l) in wrap(url, WIDTH - 2.0 * MARGIN, 10.0).iter().enumerate() {
            line(&mut c, MARGIN, y - 14.0 - i as f32 * 13.0, 10.0, LATIN, l);
        }
    }
    c.finish().to_vec()
}

/// One line of text at (`x`, `y`): its Latin runs in `latin`, the rest in the CJK font, one
/// after the other (the reader advances past each run by its own glyphs' widths).
fn line(c: &mut Content, x: f32, y: f32, size: f32, latin: Name, text: &str) {
    c.begin_text();
    c.next_line(x, y);
    for (is_latin, bytes) in runs(text) {
        c.set_font(if is_latin { latin } else { CJK }, size);
        c.show(Str(&bytes));
    }
    c.end_text();
}

/// The text in runs of one font each: Latin-1 characters as WinAnsi bytes (which they are, in
/// that range), the others as UTF-16BE for the CJK font. Control characters become spaces.
fn runs(text: &str) -> Vec<(bool, Vec<u8>)> {
    let mut out: Vec<(bool, Vec<u8>)> = Vec::new();
    for ch in text.chars() {
        let ch = if ch.is_control() { ' ' } else { ch };
        let latin = is_latin(ch);
        if out.last().is_none_or(|(l, _)| *l != latin) {
            out.push((latin, Vec::new()));
        }
        let Some((_, bytes)) = out.last_mut() else {
            continue;
        };
        if let Some(b) = win_ansi(ch) {
            bytes.push(b);
        } else {
            let mut units = [0u16; 2];
            for u in ch.encode_utf16(&mut units) {
                bytes.extend_from_slice(&u.to_be_bytes());
            }
        }
    }
    out
}

fn is_latin(ch: char) -> bool {
    win_ansi(ch).is_some()
}

/// `ch` in WinAnsiEncoding (Windows-1252), the Latin fonts' encoding: ASCII and Latin-1 are
/// their own code, and 0x80–0x9F hold typography (quotes, dashes, the ellipsis, €, ™) and a few
/// letters of Central and Western European languages.
fn win_ansi(ch: char) -> Option<u8> {
    const HIGH: [(char, u8); 27] = [
        ('€', 0x80),
        ('‚', 0x82),
        ('ƒ', 0x83),
        ('„', 0x84),
        ('…', 0x85),
        ('†', 0x86),
        ('‡', 0x87),
        ('ˆ', 0x88),
        ('‰', 0x89),
        ('Š', 0x8a),
        ('‹', 0x8b),
        ('Œ', 0x8c),
        ('Ž', 0x8e),
        ('‘', 0x91),
        ('’', 0x92),
        ('“', 0x93),
        ('”', 0x94),
        ('•', 0x95),
        ('–', 0x96),
        ('—', 0x97),
        ('˜', 0x98),
        ('™', 0x99),
        ('š', 0x9a),
        ('›', 0x9b),
        ('œ', 0x9c),
        ('ž', 0x9e),
        ('Ÿ', 0x9f),
    ];
    match ch {
        ' '..='~' | '\u{a0}'..='\u{ff}' => Some(ch as u8),
        _ => HIGH.iter().find(|(c, _)| *c == ch).map(|(_, b)| *b),
    }
}

/// About how wide `ch` is, in ems: Helvetica's Latin averages a little over half an em;
/// ideographs are a full em.
fn em(ch: char) -> f32 {
    match ch {
        'i' | 'j' | 'l' | '.' | ',' | ':' | ';' | '\'' | '|' | '!' | ' ' | 'f' | 't' | 'I' => 0.3,
        'm' | 'w' | 'M' | 'W' | '@' => 0.85,
        'A'..='Z' | '0'..='9' => 0.67,
        _ if is_latin(ch) => 0.56,
        _ => 1.0,
    }
}

/// `text` broken into lines no wider than `width` points at `size`: at spaces, or between
/// ideographs, or mid-word when a word alone is wider.
fn wrap(text: &str, width: f32, size: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    let mut used = 0.0;
    // Where the current line may break: the byte index after which it is cut.
    let mut last_break: Option<usize> = None;
    for ch in text.chars() {
        let w = em(ch) * size;
        // A new line starts on a word, never on the space that broke it.
        if ch == ' ' && current.is_empty() {
            continue;
        }
        if used + w > width && !current.is_empty() {
            let cut = last_break.unwrap_or(current.len());
            let rest = current.split_off(cut);
            lines.push(current.trim_end().to_string());
            current = rest.trim_start().to_string();
            used = current.chars().map(|c| em(c) * size).sum();
            last_break = None;
        }
        if !is_latin(ch) && !current.is_empty() {
            last_break = Some(current.len());
        }
        current.push(ch);
        used += w;
        if ch == ' ' || !is_latin(ch) {
            last_break = Some(current.len());
        }
    }
    if !current.trim().is_empty() || lines.is_empty() {
        lines.push(current.trim_end().to_string());
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin_and_chinese_go_to_their_fonts() {
        let r = runs("Shot 第2集 é\u{7}");
        assert_eq!(
            r,
            vec![
                (true, b"Shot ".to_vec()),
                (false, vec![0x7b, 0x2c]),
                (true, b"2".to_vec()),
                (false, vec![0x96, 0xc6]),
                (true, vec![b' ', 0xe9, b' ']),
            ]
        );
        // WinAnsi's typography stays in the Latin font.
        assert_eq!(
            runs("Director’s Cut — €5"),
            vec![(true, b"Director\x92s Cut \x97 \x805".to_vec())]
        );
        // Beyond the basic plane: a surrogate pair.
        assert_eq!(runs("𠀀")[0].1, vec![0xd8, 0x40, 0xdc, 0x00]);
    }

    #[test]
    fn lines_break_at_spaces_and_between_ideographs_and_keep_every_character() {
        let text = "Aerial of the Bund at dawn, slow push in over the river";
        let lines = wrap(text, 120.0, 11.5);
        assert!(lines.len() > 2, "{lines:?}");
        assert!(
            lines
                .iter()
                .all(|l| !l.starts_with(' ') && !l.ends_with(' '))
        );
        assert_eq!(lines.join(" "), text);
        let zh = "黎明时分外滩的航拍镜头缓缓推近江面";
        let lines = wrap(zh, 60.0, 11.5);
        assert!(lines.iter().all(|l| l.chars().count() <= 5), "{lines:?}");
        assert_eq!(lines.concat(), zh);
        let long = "x".repeat(300);
        assert_eq!(wrap(&long, 100.0, 10.0).concat(), long);
        assert_eq!(wrap("", 100.0, 10.0), vec![String::new()]);
        let lines = wrap("电视播出，CN，2027-01-01 至 2027-12-31", 80.0, 11.5);
        assert!(
            lines.iter().all(|l| !l.is_empty() && !l.starts_with(' ')),
            "{lines:?}"
        );
    }

    #[test]
    fn a_sheet_is_a_pdf_naming_its_fonts() {
        let bytes = render(&Sheet {
            header: "M-Station · Market".into(),
            title: "Licence certificate".into(),
            status: "This licence stands".into(),
            stands: true,
            facts: vec![("Listing".into(), vec!["Bund".into(), "外滩".into()])],
            verify: Some((
                "Verify".into(),
                "https://m-station.example/licences/verify/x".into(),
            )),
        });
        assert!(bytes.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("/STSong-Light") && text.contains("/UniGB-UTF16-H"));
        assert!(text.contains("/Helvetica"));
        assert!(text.trim_end().ends_with("%%EOF"));
    }
}
