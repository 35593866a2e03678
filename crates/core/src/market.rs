//! The digital asset trading platform's rules (context `market`): what a listing is, the licence
//! offers on it, when two licences of one listing collide, and how a sale's price is split
//! between the contributor and the platform. Pure: the store applies them under its locks.

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
