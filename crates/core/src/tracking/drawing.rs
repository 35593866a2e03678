//! Drawings on a frame under review: pen strokes, arrows, rectangles, ellipses and text, kept as
//! vectors in coordinates relative to the picture, so they stay put at every size and aspect.
//!
//! A point is `[x, y]`: x from the picture's left edge as a fraction of its width, y from its top
//! as a fraction of its height, both from 0 to 1. A line's width and a text's size are fractions
//! of the picture's height, so a drawing looks the same in a small window and in full screen.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A point on the picture, `[x, y]`, each from 0 to 1 (see the module's words).
pub type Point = [f64; 2];

/// The most shapes a drawing holds, points in a stroke and points in all its strokes.
pub const MAX_SHAPES: usize = 200;
pub const MAX_STROKE_POINTS: usize = 4_000;
pub const MAX_POINTS: usize = 20_000;
/// The most characters of a text on the picture.
pub const MAX_TEXT: usize = 500;
/// Line widths and text sizes, as fractions of the picture's height.
pub const WIDTHS: std::ops::RangeInclusive<f64> = 0.0005..=0.05;
pub const SIZES: std::ops::RangeInclusive<f64> = 0.01..=0.25;

/// Every reason a drawing is refused for (each has its words in the catalogs, `reason-…`).
pub const REASONS: [&str; 12] = [
    "drawing_empty",
    "drawing_too_many_shapes",
    "drawing_no_points",
    "drawing_too_many_points",
    "drawing_bad_colour",
    "drawing_bad_width",
    "drawing_bad_size",
    "drawing_off_picture",
    "drawing_no_length",
    "drawing_no_text",
    "drawing_text_too_long",
    "control_characters",
];

/// One shape of a drawing; `color` is `#rrggbb`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum Shape {
    /// A freehand stroke through `points`, in order.
    Pen {
        color: String,
        width: f64,
        #[schema(value_type = Vec<Vec<f64>>)]
        points: Vec<Point>,
    },
    /// A line from `from` with its head at `to`.
    Arrow {
        color: String,
        width: f64,
        #[schema(value_type = Vec<f64>)]
        from: Point,
        #[schema(value_type = Vec<f64>)]
        to: Point,
    },
    /// A rectangle with opposite corners `from` and `to`.
    Rect {
        color: String,
        width: f64,
        #[schema(value_type = Vec<f64>)]
        from: Point,
        #[schema(value_type = Vec<f64>)]
        to: Point,
    },
    /// An ellipse inside the rectangle with opposite corners `from` and `to`.
    Ellipse {
        color: String,
        width: f64,
        #[schema(value_type = Vec<f64>)]
        from: Point,
        #[schema(value_type = Vec<f64>)]
        to: Point,
    },
    /// `text` written from `at` (its first line's top left), `size` high.
    Text {
        color: String,
        size: f64,
        #[schema(value_type = Vec<f64>)]
        at: Point,
        text: String,
    },
}

/// Why a drawing was refused: the shape (from 0) and a stable reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("shape {index}: {reason}")]
pub struct DrawingError {
    pub index: usize,
    pub reason: &'static str,
}

/// A drawing checked and made canonical: colours in lower case, coordinates and sizes rounded
/// to 1/100,000 (a tenth of a pixel of a 4K frame's width is 1/38,400). Refuses an empty
/// drawing, too many shapes or points, a point off the picture, a width or size out of range,
/// a colour that is not `#rrggbb`, a line or box of no length, and an empty or overlong text.
pub fn check(shapes: Vec<Shape>) -> Result<Vec<Shape>, DrawingError> {
    let whole = |reason| DrawingError { index: 0, reason };
    if shapes.is_empty() {
        return Err(whole("drawing_empty"));
    }
    if shapes.len() > MAX_SHAPES {
        return Err(DrawingError {
            index: MAX_SHAPES,
            reason: "drawing_too_many_shapes",
        });
    }
    let mut total = 0usize;
    shapes
        .into_iter()
        .enumerate()
        .map(|(index, shape)| {
            let fail = |reason| DrawingError { index, reason };
            let shape = match shape {
                Shape::Pen {
                    color,
                    width,
                    points,
                } => {
                    if points.is_empty() {
                        return Err(fail("drawing_no_points"));
                    }
                    total += points.len();
                    if points.len() > MAX_STROKE_POINTS || total > MAX_POINTS {
                        return Err(fail("drawing_too_many_points"));
                    }
                    Shape::Pen {
                        color: colour(&color).ok_or(fail("drawing_bad_colour"))?,
                        width: within(width, &WIDTHS).ok_or(fail("drawing_bad_width"))?,
                        points: points
                            .iter()
                            .map(|p| point(*p).ok_or(fail("drawing_off_picture")))
                            .collect::<Result<_, _>>()?,
                    }
                }
                Shape::Arrow {
                    color,
                    width,
                    from,
                    to,
                } => {
                    let (color, width, from, to) = line(color, width, from, to).map_err(fail)?;
                    if from == to {
                        return Err(fail("drawing_no_length"));
                    }
                    Shape::Arrow {
                        color,
                        width,
                        from,
                        to,
                    }
                }
                Shape::Rect {
                    color,
                    width,
                    from,
                    to,
                } => {
                    let (color, width, from, to) = boxed(color, width, from, to).map_err(fail)?;
                    Shape::Rect {
                        color,
                        width,
                        from,
                        to,
                    }
                }
                Shape::Ellipse {
                    color,
                    width,
                    from,
                    to,
                } => {
                    let (color, width, from, to) = boxed(color, width, from, to).map_err(fail)?;
                    Shape::Ellipse {
                        color,
                        width,
                        from,
                        to,
                    }
                }
                Shape::Text {
                    color,
                    size,
                    at,
                    text,
                } => {
                    let text = text.trim().to_string();
                    if text.is_empty() {
                        return Err(fail("drawing_no_text"));
                    }
                    if text.chars().count() > MAX_TEXT {
                        return Err(fail("drawing_text_too_long"));
                    }
                    if text.chars().any(|c| c.is_control() && c != '\n') {
                        return Err(fail("control_characters"));
                    }
                    Shape::Text {
                        color: colour(&color).ok_or(fail("drawing_bad_colour"))?,
                        size: within(size, &SIZES).ok_or(fail("drawing_bad_size"))?,
                        at: point(at).ok_or(fail("drawing_off_picture"))?,
                        text,
                    }
                }
            };
            Ok(shape)
        })
        .collect()
}

type Line = (String, f64, Point, Point);

fn line(color: String, width: f64, from: Point, to: Point) -> Result<Line, &'static str> {
    Ok((
        colour(&color).ok_or("drawing_bad_colour")?,
        within(width, &WIDTHS).ok_or("drawing_bad_width")?,
        point(from).ok_or("drawing_off_picture")?,
        point(to).ok_or("drawing_off_picture")?,
    ))
}

/// A rectangle's or an ellipse's: a box with some width and some height.
fn boxed(color: String, width: f64, from: Point, to: Point) -> Result<Line, &'static str> {
    let l = line(color, width, from, to)?;
    if l.2[0] == l.3[0] || l.2[1] == l.3[1] {
        return Err("drawing_no_length");
    }
    Ok(l)
}

fn round(v: f64) -> f64 {
    (v * 100_000.0).round() / 100_000.0
}

fn point([x, y]: Point) -> Option<Point> {
    let inside = |v: f64| (0.0..=1.0).contains(&v).then(|| round(v));
    Some([inside(x)?, inside(y)?])
}

fn within(v: f64, range: &std::ops::RangeInclusive<f64>) -> Option<f64> {
    range.contains(&v).then(|| round(v))
}

fn colour(c: &str) -> Option<String> {
    let hex = c.strip_prefix('#')?;
    (hex.len() == 6 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then(|| c.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pen(points: Vec<Point>) -> Shape {
        Shape::Pen {
            color: "#FF3B30".into(),
            width: 0.004,
            points,
        }
    }

    #[test]
    fn reads_the_shapes_the_player_writes() {
        let json = r##"[
            {"kind":"pen","color":"#ff3b30","width":0.004,"points":[[0.1,0.2],[0.15,0.25]]},
            {"kind":"arrow","color":"#ffcc00","width":0.006,"from":[0.5,0.5],"to":[0.6,0.4]},
            {"kind":"rect","color":"#34c759","width":0.003,"from":[0.2,0.2],"to":[0.4,0.5]},
            {"kind":"ellipse","color":"#0a84ff","width":0.003,"from":[0.6,0.6],"to":[0.9,0.8]},
            {"kind":"text","color":"#ffffff","size":0.04,"at":[0.05,0.9],"text":"roto edge 抠像边缘"}
        ]"##;
        let shapes: Vec<Shape> = serde_json::from_str(json).unwrap();
        let checked = check(shapes.clone()).unwrap();
        assert_eq!(checked, shapes);
        // What is stored reads back the same.
        let again: Vec<Shape> =
            serde_json::from_str(&serde_json::to_string(&checked).unwrap()).unwrap();
        assert_eq!(again, checked);
    }

    #[test]
    fn refuses_what_is_not_a_shape() {
        for bad in [
            r##"[{"kind":"star","color":"#ffffff","width":0.01}]"##,
            r##"[{"kind":"pen","color":"#ffffff","width":0.01,"points":[[0.1]]}]"##,
            r##"[{"kind":"arrow","color":"#ffffff","width":0.01,"from":[0,0]}]"##,
            r##"[{"kind":"rect","color":"#ffffff","width":0.01,"from":[0,0],"to":[1,1],"fill":true}]"##,
            r##"[{"kind":"text","color":"#ffffff","size":"big","at":[0,0],"text":"a"}]"##,
        ] {
            assert!(serde_json::from_str::<Vec<Shape>>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn refuses_shapes_off_the_picture_or_out_of_range() {
        let cases: Vec<(Vec<Shape>, DrawingError)> = vec![
            (
                vec![],
                DrawingError {
                    index: 0,
                    reason: "drawing_empty",
                },
            ),
            (
                vec![pen(vec![[0.1, 0.1]]), pen(vec![[1.2, 0.1]])],
                DrawingError {
                    index: 1,
                    reason: "drawing_off_picture",
                },
            ),
            (
                vec![pen(vec![])],
                DrawingError {
                    index: 0,
                    reason: "drawing_no_points",
                },
            ),
            (
                vec![pen(vec![[0.5, 0.5]; MAX_STROKE_POINTS + 1])],
                DrawingError {
                    index: 0,
                    reason: "drawing_too_many_points",
                },
            ),
            (
                vec![pen(vec![[0.5, 0.5]]); MAX_SHAPES + 1],
                DrawingError {
                    index: MAX_SHAPES,
                    reason: "drawing_too_many_shapes",
                },
            ),
            (
                vec![Shape::Pen {
                    color: "red".into(),
                    width: 0.01,
                    points: vec![[0.0, 0.0]],
                }],
                DrawingError {
                    index: 0,
                    reason: "drawing_bad_colour",
                },
            ),
            (
                vec![Shape::Arrow {
                    color: "#ffffff".into(),
                    width: 0.2,
                    from: [0.0, 0.0],
                    to: [1.0, 1.0],
                }],
                DrawingError {
                    index: 0,
                    reason: "drawing_bad_width",
                },
            ),
            (
                vec![Shape::Arrow {
                    color: "#ffffff".into(),
                    width: 0.01,
                    from: [0.3, 0.3],
                    to: [0.3, 0.3],
                }],
                DrawingError {
                    index: 0,
                    reason: "drawing_no_length",
                },
            ),
            (
                vec![Shape::Rect {
                    color: "#ffffff".into(),
                    width: 0.01,
                    from: [0.3, 0.3],
                    to: [0.3, 0.9],
                }],
                DrawingError {
                    index: 0,
                    reason: "drawing_no_length",
                },
            ),
            (
                vec![Shape::Ellipse {
                    color: "#ffffff".into(),
                    width: 0.01,
                    from: [0.0, f64::NAN],
                    to: [0.3, 0.9],
                }],
                DrawingError {
                    index: 0,
                    reason: "drawing_off_picture",
                },
            ),
            (
                vec![Shape::Text {
                    color: "#ffffff".into(),
                    size: 0.04,
                    at: [0.1, 0.1],
                    text: "  ".into(),
                }],
                DrawingError {
                    index: 0,
                    reason: "drawing_no_text",
                },
            ),
            (
                vec![Shape::Text {
                    color: "#ffffff".into(),
                    size: 0.9,
                    at: [0.1, 0.1],
                    text: "a".into(),
                }],
                DrawingError {
                    index: 0,
                    reason: "drawing_bad_size",
                },
            ),
            (
                vec![Shape::Text {
                    color: "#ffffff".into(),
                    size: 0.04,
                    at: [0.1, 0.1],
                    text: "a\u{7}".into(),
                }],
                DrawingError {
                    index: 0,
                    reason: "control_characters",
                },
            ),
        ];
        for (shapes, want) in cases {
            assert!(REASONS.contains(&want.reason), "{}", want.reason);
            assert_eq!(check(shapes), Err(want));
        }
    }

    proptest! {
        // Whatever is accepted stays on the picture, and checking it again changes nothing.
        #[test]
        fn checked_drawings_are_canonical(
            points in prop::collection::vec((-0.2f64..1.2, -0.2f64..1.2), 1..50),
            width in 0.0f64..0.06,
        ) {
            let shapes = vec![Shape::Pen {
                color: "#AbCdEf".into(),
                width,
                points: points.iter().map(|&(x, y)| [x, y]).collect(),
            }];
            if let Ok(ok) = check(shapes) {
                let Shape::Pen { points, color, .. } = &ok[0] else { unreachable!() };
                prop_assert_eq!(color.as_str(), "#abcdef");
                prop_assert!(points.iter().flatten().all(|v| (0.0..=1.0).contains(v)));
                prop_assert_eq!(check(ok.clone()), Ok(ok));
            }
        }
    }
}
