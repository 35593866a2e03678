//! The digital asset trading platform's rules (context `market`): what a listing is, the licence
//! offers on it, when two licences of one listing collide, how a sale's price is split
//! between the contributor and the platform, and when two listings' pictures are near
//! duplicates. Pure: the store applies them under its locks.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a listing is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Footage,
    VfxElement,
    Model3d,
    Lut,
    Music,
    SoundEffect,
}

impl Category {
    pub const ALL: [Category; 6] = [
        Category::Footage,
        Category::VfxElement,
        Category::Model3d,
        Category::Lut,
        Category::Music,
        Category::SoundEffect,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Footage => "footage",
            Category::VfxElement => "vfx_element",
            Category::Model3d => "model_3d",
            Category::Lut => "lut",
            Category::Music => "music",
            Category::SoundEffect => "sound_effect",
        }
    }

    pub fn parse(s: &str) -> Option<Category> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// Where a listing stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ListingStatus {
    /// Its contributor is still writing it: nobody else sees it.
    Draft,
    /// In the storefront, for sale.
    Published,
    /// Held for review: its media is another contributor's listing's, byte for byte.
    Held,
    /// Taken off sale by its contributor; licences sold stay good.
    Withdrawn,
}

impl ListingStatus {
    pub const ALL: [ListingStatus; 4] = [
        ListingStatus::Draft,
        ListingStatus::Published,
        ListingStatus::Held,
        ListingStatus::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ListingStatus::Draft => "draft",
            ListingStatus::Published => "published",
            ListingStatus::Held => "held",
            ListingStatus::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<ListingStatus> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// The kind of licence an offer grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LicenceKind {
    /// Royalty-free, standard: any media, worldwide, for ever, not exclusive.
    RfStandard,
    /// Royalty-free, extended: as standard, with wider rights (large runs, merchandise).
    RfExtended,
    /// Rights-managed: one medium, one territory, a term, exclusive or not.
    RightsManaged,
}

impl LicenceKind {
    pub const ALL: [LicenceKind; 3] = [
        LicenceKind::RfStandard,
        LicenceKind::RfExtended,
        LicenceKind::RightsManaged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LicenceKind::RfStandard => "rf_standard",
            LicenceKind::RfExtended => "rf_extended",
            LicenceKind::RightsManaged => "rights_managed",
        }
    }

    pub fn parse(s: &str) -> Option<LicenceKind> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// The media a rights-managed licence covers; `All` overlaps every other.
pub const MEDIA: [&str; 7] = [
    "all",
    "theatrical",
    "broadcast",
    "streaming",
    "online",
    "advertising",
    "games",
];

/// The territory that covers every other.
pub const WORLDWIDE: &str = "WORLD";

/// The last day a perpetual licence covers.
pub const FOR_EVER: &str = "9999-12-31";

/// What a licence covers: a medium, a territory and a term of days (inclusive at both ends,
/// `YYYY-MM-DD`), exclusive or not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Terms {
    /// One of [`MEDIA`].
    pub media: String,
    /// An ISO 3166-1 alpha-2 code (`CN`), or `WORLD`.
    pub territory: String,
    pub starts_on: String,
    pub ends_on: String,
    pub exclusive: bool,
}

impl Terms {
    /// What a royalty-free licence sold on `today` covers.
    pub fn royalty_free(today: &str) -> Terms {
        Terms {
            media: "all".into(),
            territory: WORLDWIDE.into(),
            starts_on: today.into(),
            ends_on: FOR_EVER.into(),
            exclusive: false,
        }
    }

    /// Whether the two cover some medium, place and day in common.
    pub fn overlaps(&self, other: &Terms) -> bool {
        let media = self.media == other.media || self.media == "all" || other.media == "all";
        let place = self.territory == other.territory
            || self.territory == WORLDWIDE
            || other.territory == WORLDWIDE;
        // Dates as `YYYY-MM-DD` sort as the days do.
        let days = self.starts_on <= other.ends_on && other.starts_on <= self.ends_on;
        media && place && days
    }

    /// Whether a licence on `self` cannot be sold beside one on `other` of the same listing:
    /// they overlap and one of them is exclusive.
    pub fn collides(&self, other: &Terms) -> bool {
        (self.exclusive || other.exclusive) && self.overlaps(other)
    }
}

/// Whether `s` is a real day written `YYYY-MM-DD`.
pub fn valid_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else {
        return false;
    };
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

/// Whether `s` names a territory: two capital letters, or `WORLD`.
pub fn valid_territory(s: &str) -> bool {
    s == WORLDWIDE || (s.len() == 2 && s.bytes().all(|c| c.is_ascii_uppercase()))
}

/// The contributor's share of every sale unless their agreement says otherwise: 70 %, in basis
/// points.
pub const DEFAULT_SHARE_BP: i64 = 7_000;

/// A price split into what the contributor earns (`share_bp` basis points of it, rounded
/// down) and the platform's fee (the rest): the two always make the price.
pub fn split(price: i64, share_bp: i64) -> (i64, i64) {
    let share_bp = share_bp.clamp(0, 10_000);
    let contributor =
        i64::try_from(i128::from(price) * i128::from(share_bp) / 10_000).unwrap_or(price);
    (contributor, price - contributor)
}

/// How a listing's picture is sampled for its likeness to others: frames spread evenly over
/// its length (`SIGNATURE_FRAMES` of them), each shrunk to 9 × 8 grey pixels.
pub const SIGNATURE_FRAMES: usize = 16;
/// The bytes of one sampled frame: 9 × 8 grey pixels, row by row.
pub const SIGNATURE_FRAME_BYTES: usize = 72;
/// Two pictures are near duplicates when their frames differ in at most this many of their 64
/// bits, on average.
pub const NEAR_BITS: u32 = 10;

/// A frame's difference hash (dHash): for each of its 8 rows, whether each pixel is brighter than
/// the one to its right, 64 bits in all. It survives re-encoding, rescaling, a changed frame rate
/// and mild grading; a flat frame (black, a fade's end: less than 10 levels between its darkest
/// and brightest pixel) says nothing of the picture and has none.
pub fn dhash(px: &[u8]) -> Option<u64> {
    if px.len() != SIGNATURE_FRAME_BYTES {
        return None;
    }
    let (lo, hi) = px
        .iter()
        .fold((u8::MAX, u8::MIN), |(lo, hi), &p| (lo.min(p), hi.max(p)));
    if hi - lo < 10 {
        return None;
    }
    let mut bits = 0u64;
    for row in px.chunks_exact(9) {
        for pair in row.windows(2) {
            bits = (bits << 1) | u64::from(pair[0] > pair[1]);
        }
    }
    Some(bits)
}

/// A picture's signature: the difference hashes of the frames sampled from it (`raw`, 72
/// bytes each, as ffmpeg wrote them), flat frames left out, at most 64.
pub fn signature(raw: &[u8]) -> Vec<u64> {
    raw.chunks_exact(SIGNATURE_FRAME_BYTES)
        .filter_map(dhash)
        .take(64)
        .collect()
}

/// A signature as it is kept: 16 hexadecimal digits a frame.
pub fn signature_text(sig: &[u64]) -> String {
    sig.iter().map(|h| format!("{h:016x}")).collect()
}

/// A kept signature read back; `None` for text that is not one.
pub fn parse_signature(text: &str) -> Option<Vec<u64>> {
    if text.is_empty() || !text.len().is_multiple_of(16) || text.len() > 64 * 16 || !text.is_ascii()
    {
        return None;
    }
    (0..text.len())
        .step_by(16)
        .map(|i| u64::from_str_radix(&text[i..i + 16], 16).ok())
        .collect()
}

/// Whether two signatures are of the same picture: each frame of the shorter matched with the
/// closest of the longer's frames at about the same place (two either side, for a frame sampled
/// a little earlier or later), the bits that differ averaging at most `NEAR_BITS`. Pictures of
/// very different lengths in frames are not compared.
pub fn near_duplicate(a: &[u64], b: &[u64]) -> bool {
    // In one order whichever way they are given: the shorter first, or the smaller of two
    // of a length.
    let (short, long) = if (a.len(), a) <= (b.len(), b) {
        (a, b)
    } else {
        (b, a)
    };
    if short.is_empty() || long.len() > 2 * short.len() + 2 {
        return false;
    }
    let total: u32 = short
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let at = i * long.len() / short.len();
            let from = at.saturating_sub(2);
            let to = (at + 3).min(long.len());
            long[from..to]
                .iter()
                .map(|o| (h ^ o).count_ones())
                .min()
                .unwrap_or(64)
        })
        .sum();
    total <= NEAR_BITS * short.len() as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn terms(media: &str, territory: &str, from: &str, to: &str, exclusive: bool) -> Terms {
        Terms {
            media: media.into(),
            territory: territory.into(),
            starts_on: from.into(),
            ends_on: to.into(),
            exclusive,
        }
    }

    #[test]
    fn an_exclusive_licence_bars_what_it_overlaps_and_nothing_else() {
        let cn_tv_2027 = terms("broadcast", "CN", "2027-01-01", "2027-12-31", true);
        // Another medium, another place, or days after it: free.
        assert!(!cn_tv_2027.collides(&terms("online", "CN", "2027-01-01", "2027-12-31", true)));
        assert!(!cn_tv_2027.collides(&terms("broadcast", "FR", "2027-01-01", "2027-12-31", true)));
        assert!(!cn_tv_2027.collides(&terms("broadcast", "CN", "2028-01-01", "2028-12-31", true)));
        // The last day shared, all media, worldwide, or a royalty-free sale: barred.
        assert!(cn_tv_2027.collides(&terms("broadcast", "CN", "2027-12-31", "2028-12-31", false)));
        assert!(cn_tv_2027.collides(&terms("all", "CN", "2027-06-01", "2027-06-01", false)));
        assert!(cn_tv_2027.collides(&terms(
            "broadcast",
            WORLDWIDE,
            "2026-01-01",
            FOR_EVER,
            false
        )));
        assert!(cn_tv_2027.collides(&Terms::royalty_free("2026-12-06")));
        // Two licences that are not exclusive never collide.
        let rf = Terms::royalty_free("2026-12-06");
        assert!(!rf.collides(&Terms::royalty_free("2026-12-07")));
    }

    #[test]
    fn dates_are_real_days() {
        for ok in ["2026-12-06", "2024-02-29", "2000-02-29", "9999-12-31"] {
            assert!(valid_date(ok), "{ok}");
        }
        for bad in [
            "2026-13-01",
            "2026-02-29",
            "1900-02-29",
            "2026-04-31",
            "2026-1-01",
            "2026/01/01",
            "２０２６-01-01",
            "",
        ] {
            assert!(!valid_date(bad), "{bad}");
        }
        assert!(valid_territory("CN") && valid_territory(WORLDWIDE));
        assert!(!valid_territory("cn") && !valid_territory("CHN") && !valid_territory(""));
    }

    proptest! {
        #[test]
        fn a_split_always_makes_the_price(price in 0i64..=i64::MAX, bp in -10i64..20_000) {
            let (c, f) = split(price, bp);
            prop_assert_eq!(c.checked_add(f), Some(price));
            prop_assert!(c >= 0 && f >= 0);
        }

        #[test]
        fn collisions_are_symmetric(
            a in (0usize..MEDIA.len(), 0usize..3, 0u32..6, 0u32..6, any::<bool>()),
            b in (0usize..MEDIA.len(), 0usize..3, 0u32..6, 0u32..6, any::<bool>()),
        ) {
            let places = ["CN", "FR", WORLDWIDE];
            let make = |(m, p, s, l, x): (usize, usize, u32, u32, bool)| {
                terms(MEDIA[m], places[p], &format!("2027-0{}-01", s + 1),
                      &format!("2027-0{}-28", (s + l).min(8) + 1), x)
            };
            let (a, b) = (make(a), make(b));
            prop_assert_eq!(a.collides(&b), b.collides(&a));
            prop_assert_eq!(a.overlaps(&b), b.overlaps(&a));
            // Every term covers at least its first day.
            prop_assert!(a.overlaps(&a));
        }
    }
}

#[cfg(test)]
mod likeness {
    use super::*;
    use proptest::prelude::*;

    /// A 9 × 8 frame of a gradient bent by `seed`, the way a picture has structure.
    fn frame(seed: u64) -> Vec<u8> {
        (0..72u64)
            .map(|i| {
                let (x, y) = (i % 9, i / 9);
                ((x * 29 + y * 13 + (seed.wrapping_mul(2_654_435_761) >> (x + y)) % 97) % 256) as u8
            })
            .collect()
    }

    #[test]
    fn a_flat_frame_has_no_hash_and_a_picture_has_one() {
        assert_eq!(dhash(&[40; 72]), None);
        assert_eq!(dhash(&[0; 71]), None, "not a 9 × 8 frame");
        let mut ramp: Vec<u8> = (0..72).map(|i| (i % 9) as u8 * 20).collect();
        assert_eq!(
            dhash(&ramp),
            Some(0),
            "brighter to the right everywhere: no bit set"
        );
        ramp.reverse();
        assert_eq!(dhash(&ramp), Some(u64::MAX));
    }

    #[test]
    fn signatures_are_kept_and_read_back() {
        let raw: Vec<u8> = (0..5).flat_map(frame).chain([7u8; 72]).collect();
        let sig = signature(&raw);
        assert_eq!(sig.len(), 5, "the flat frame is left out");
        assert_eq!(parse_signature(&signature_text(&sig)), Some(sig));
        for bad in ["", "abc", "zzzzzzzzzzzzzzzz", "é123456789abcde"] {
            assert_eq!(parse_signature(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_same_picture_slightly_changed_is_near_and_another_is_not() {
        let a: Vec<u64> = (0..16).map(|s| dhash(&frame(s)).unwrap()).collect();
        // A few bits flipped in every frame (re-encoding), and one frame sampled a step later.
        let mut b: Vec<u64> = a.iter().map(|h| h ^ 0b1010_0001).collect();
        b.rotate_left(1);
        assert!(near_duplicate(&a, &b));
        let other: Vec<u64> = (100..116).map(|s| dhash(&frame(s)).unwrap()).collect();
        assert!(!near_duplicate(&a, &other));
        assert!(!near_duplicate(&a, &[]));
        assert!(!near_duplicate(&a[..3], &a), "lengths too far apart");
    }

    proptest! {
        #[test]
        fn likeness_is_symmetric_and_a_signature_is_its_own_duplicate(
            a in proptest::collection::vec(any::<u64>(), 1..20),
            b in proptest::collection::vec(any::<u64>(), 1..20),
        ) {
            prop_assert!(near_duplicate(&a, &a));
            prop_assert_eq!(near_duplicate(&a, &b), near_duplicate(&b, &a));
        }
    }
}
