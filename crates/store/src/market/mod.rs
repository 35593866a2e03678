//! The digital asset trading platform (context `market`): a contributor's listings of its media
//! with their licence offers, the public storefront, checkout, licences with their download
//! links, and refunds.
//!
//! A sale spans three organisations: the buyer's licence, the seller's listing and the money,
//! which the market keeps in the books of the platform's operator (a participant's wallet and
//! what the market owes a contributor are accounts there held for that organisation). So a
//! checkout or a refund is a write above organisations, here and only here: it locks the
//! listing first (a second buyer of an exclusive offer waits for the first and then finds it
//! sold), checks the terms against every licence standing on the listing, writes the licence
//! with the buyer's organisation and the transfers with the operator's, through the ledger's
//! own `write_batch`, all in one transaction.

pub mod cart;
pub mod payouts;
pub mod releases;
pub mod review;
pub mod search;

use mstation_core::ledger::{Currency, Kind, LedgerRule, Purpose};
use mstation_core::market::{
    self, Category, DEFAULT_SHARE_BP, LicenceKind, ListingStatus, MEDIA, Terms,
};
use mstation_core::media::probe::Probe;
use mstation_core::validate::{self, FieldError};
use mstation_core::{OrgKind, TenantScope};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::identity::{hash_secret, random_secret};
use crate::ledger::{TransferInput, apply_batch, write_batch};
use crate::{
    Actor, Change, DbError, FromRow, ListQuery, Millis, Page, Platform, Result, Row, StoreError,
    Tenant, WriteTx, new_id, now_ms,
};

/// The rules of the market a request can break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarketRule {
    /// The listing is not in the storefront, or the offer was taken off.
    NotForSale,
    /// An exclusive licence covering the same medium, place and days was sold already (or the
    /// offer is exclusive and a licence stands that it would overlap).
    ExclusiveTaken,
    /// The buyer's wallet in the offer's currency holds less than the price.
    WalletShort,
    /// An organisation does not buy its own listings.
    OwnListing,
    /// A listing goes on sale with at least one offer.
    NoOffers,
    /// The listing is not a draft, or is held for review: it cannot be published now.
    NotPublishable,
    /// The licence was refunded already, or its time for a refund has passed.
    RefundClosed,
    /// The checkout key was used before for another offer.
    KeyReused,
    /// Only the platform's operator keeps the market's books.
    OperatorOnly,
    /// The platform has no operator to keep the market's books.
    NoOperator,
    /// The organisation has these bytes on sale already, in another listing.
    AlreadyListed,
    /// The contributor has been paid for the sale already: its share is no longer the market's
    /// to give back.
    PaidOut,
    /// The month's sales may still be refunded (or the month is not over): it is paid out once
    /// the refund window has closed on its last day.
    PeriodOpen,
    /// The cart holds nothing to buy.
    CartEmpty,
    /// The cart holds as many offers as it can (`cart::CART_MAX`).
    CartFull,
    /// Licences were sold on the listing with the release on file: it stays.
    ReleaseReliedOn,
    /// The listing is not held for review.
    NotHeld,
}

impl MarketRule {
    pub const ALL: [MarketRule; 17] = [
        MarketRule::NotForSale,
        MarketRule::ExclusiveTaken,
        MarketRule::WalletShort,
        MarketRule::OwnListing,
        MarketRule::NoOffers,
        MarketRule::NotPublishable,
        MarketRule::RefundClosed,
        MarketRule::KeyReused,
        MarketRule::OperatorOnly,
        MarketRule::NoOperator,
        MarketRule::AlreadyListed,
        MarketRule::PaidOut,
        MarketRule::PeriodOpen,
        MarketRule::CartEmpty,
        MarketRule::CartFull,
        MarketRule::ReleaseReliedOn,
        MarketRule::NotHeld,
    ];

    pub const fn code(self) -> &'static str {
        match self {
            MarketRule::NotForSale => "market.not_for_sale",
            MarketRule::ExclusiveTaken => "market.exclusive_taken",
            MarketRule::WalletShort => "market.wallet_short",
            MarketRule::OwnListing => "market.own_listing",
            MarketRule::NoOffers => "market.no_offers",
            MarketRule::NotPublishable => "market.not_publishable",
            MarketRule::RefundClosed => "market.refund_closed",
            MarketRule::KeyReused => "market.key_reused",
            MarketRule::OperatorOnly => "market.operator_only",
            MarketRule::NoOperator => "market.no_operator",
            MarketRule::AlreadyListed => "market.already_listed",
            MarketRule::PaidOut => "market.paid_out",
            MarketRule::PeriodOpen => "market.period_open",
            MarketRule::CartEmpty => "market.cart_empty",
            MarketRule::CartFull => "market.cart_full",
            MarketRule::ReleaseReliedOn => "market.release_relied_on",
            MarketRule::NotHeld => "market.not_held",
        }
    }
}

impl From<MarketRule> for StoreError {
    fn from(r: MarketRule) -> Self {
        StoreError::Rule(crate::Rule::Market(r))
    }
}

/// How long after a sale its buyer may ask for the money back: 14 days.
pub const REFUND_WINDOW_MS: i64 = 14 * 86_400_000;
/// How long a download link works: one hour.
pub const DOWNLOAD_LIFE_MS: i64 = 3_600_000;

/// A licence offer on a listing.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Offer {
    pub id: Uuid,
    pub listing_id: Uuid,
    pub kind: LicenceKind,
    /// In minor units of `currency`.
    pub price: i64,
    #[schema(value_type = String)]
    pub currency: String,
    /// What a licence bought on it covers. A royalty-free offer's term starts on the day of
    /// the sale and never ends: its `starts_on` and `ends_on` are empty.
    pub media: String,
    pub territory: String,
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
    pub exclusive: bool,
    /// Whether the licence lets the buyer train AI models on the media: off unless the
    /// contributor chose it.
    pub ai_training: bool,
    pub active: bool,
    pub created_at: Millis,
}

const OFFER_COLS: &str = "id, listing_id, kind, price, currency, media, territory, starts_on, ends_on, exclusive, ai_training, active, created_at";

impl FromRow for Offer {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        let id = r.get()?;
        let listing_id = r.get()?;
        let kind: String = r.get()?;
        Ok(Offer {
            id,
            listing_id,
            // Written by this store from `LicenceKind::as_str`.
            kind: LicenceKind::parse(&kind).unwrap_or(LicenceKind::RfStandard),
            price: r.get()?,
            currency: r.get()?,
            media: r.get()?,
            territory: r.get()?,
            starts_on: r.get()?,
            ends_on: r.get()?,
            exclusive: r.get()?,
            ai_training: r.get()?,
            active: r.get()?,
            created_at: r.get()?,
        })
    }
}

impl Offer {
    /// What a licence sold on it on `today` (`sale_day`) covers.
    pub fn terms(&self, today: &str) -> Terms {
        match (&self.starts_on, &self.ends_on) {
            (Some(s), Some(e)) => Terms {
                media: self.media.clone(),
                territory: self.territory.clone(),
                starts_on: s.clone(),
                ends_on: e.clone(),
                exclusive: self.exclusive,
            },
            _ => Terms::royalty_free(today),
        }
    }
}

/// A listing of a contributor's media.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Listing {
    pub id: Uuid,
    /// The contributor.
    pub org_id: Uuid,
    pub media_file_id: Uuid,
    /// The BLAKE3 hash of its media's bytes.
    pub hash: String,
    pub category: Category,
    pub title_en: String,
    pub title_zh: String,
    pub description_en: String,
    pub description_zh: String,
    pub keywords: Vec<String>,
    pub status: ListingStatus,
    /// For a listing held for review: the other contributor's listing of the same bytes.
    pub duplicate_of: Option<Uuid>,
    pub created_by: Uuid,
    pub created_at: Millis,
    pub published_at: Option<Millis>,
    pub version: i64,
    pub offers: Vec<Offer>,
}

const LISTING_COLS: &str = "id, org_id, media_file_id, hash, category, title_en, title_zh, description_en, description_zh, keywords, status, duplicate_of, created_by, created_at, published_at, version";

impl FromRow for Listing {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        let id = r.get()?;
        let org_id = r.get()?;
        let media_file_id = r.get()?;
        let hash = r.get()?;
        let category: String = r.get()?;
        let title_en = r.get()?;
        let title_zh = r.get()?;
        let description_en = r.get()?;
        let description_zh = r.get()?;
        let keywords: String = r.get()?;
        let status: String = r.get()?;
        Ok(Listing {
            id,
            org_id,
            media_file_id,
            hash,
            // Both written by this store from `as_str`.
            category: Category::parse(&category).unwrap_or(Category::Footage),
            title_en,
            title_zh,
            description_en,
            description_zh,
            keywords: split_keywords(&keywords),
            status: ListingStatus::parse(&status).unwrap_or(ListingStatus::Draft),
            duplicate_of: r.get()?,
            created_by: r.get()?,
            created_at: r.get()?,
            published_at: r.get()?,
            version: r.get()?,
            offers: Vec::new(),
        })
    }
}

/// What the probe read from a listing's media, as the storefront shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Technical {
    /// In bytes.
    pub size: i64,
    pub container: Option<String>,
    pub codec: Option<String>,
    pub width: Option<i64>,
    pub height: Option<i64>,
    /// The frame rate as a rational, e.g. `[24000, 1001]`.
    pub fps: Option<[i64; 2]>,
    pub frames: Option<i64>,
    /// In seconds.
    pub duration: Option<f64>,
    /// How many sound streams it has.
    pub sound_streams: usize,
}

impl Technical {
    fn of(size: i64, probe: Option<&str>) -> Technical {
        let probe: Option<Probe> = probe.and_then(|p| serde_json::from_str(p).ok());
        let video = probe.as_ref().and_then(|p| p.video.as_ref());
        Technical {
            size,
            container: probe.as_ref().map(|p| p.container.clone()),
            codec: video.map(|v| v.codec.clone()),
            width: video.map(|v| v.width),
            height: video.map(|v| v.height),
            fps: video.and_then(|v| v.fps),
            frames: video.and_then(|v| v.frames),
            duration: probe.as_ref().and_then(|p| p.duration),
            sound_streams: probe.as_ref().map_or(0, |p| p.audio.len()),
        }
    }
}

/// A listing as the storefront shows it to everyone: its words, its contributor's name, what
/// its media is and its live offers; never its file, its bytes' hash or who wrote it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicListing {
    pub id: Uuid,
    pub contributor_org_id: Uuid,
    pub contributor: String,
    pub category: Category,
    pub title_en: String,
    pub title_zh: String,
    pub description_en: String,
    pub description_zh: String,
    pub keywords: Vec<String>,
    pub published_at: Option<Millis>,
    pub technical: Technical,
    /// Whether its watermarked preview is made (`GET /api/v1/market/store/{id}/preview`).
    pub preview: bool,
    pub offers: Vec<Offer>,
    /// The model and property releases on file: whom or what, never the document.
    pub releases: Vec<releases::ReleaseOnFile>,
}

const PUBLIC_COLS: &str = "l.id, l.org_id, o.name, l.category, l.title_en, l.title_zh, l.description_en, l.description_zh, l.keywords, l.published_at, f.size, f.probe, CAST(CASE WHEN l.preview_hash IS NULL THEN 0 ELSE 1 END AS BIGINT)";
const PUBLIC_FROM: &str =
    "market_listings l JOIN orgs o ON o.id = l.org_id JOIN media_files f ON f.id = l.media_file_id";

impl FromRow for PublicListing {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        let id = r.get()?;
        let contributor_org_id = r.get()?;
        let contributor = r.get()?;
        let category: String = r.get()?;
        let title_en = r.get()?;
        let title_zh = r.get()?;
        let description_en = r.get()?;
        let description_zh = r.get()?;
        let keywords: String = r.get()?;
        let published_at = r.get()?;
        let size = r.get()?;
        let probe: Option<String> = r.get()?;
        let preview: i64 = r.get()?;
        Ok(PublicListing {
            id,
            contributor_org_id,
            contributor,
            category: Category::parse(&category).unwrap_or(Category::Footage),
            title_en,
            title_zh,
            description_en,
            description_zh,
            keywords: split_keywords(&keywords),
            published_at,
            technical: Technical::of(size, probe.as_deref()),
            preview: preview != 0,
            offers: Vec::new(),
            releases: Vec::new(),
        })
    }
}

impl PublicListing {
    /// The listing as the catalogue indexes it.
    fn entry(&self) -> search::Entry {
        search::Entry {
            id: self.id,
            contributor_org_id: self.contributor_org_id,
            contributor: self.contributor.clone(),
            category: self.category,
            title_en: self.title_en.clone(),
            title_zh: self.title_zh.clone(),
            description_en: self.description_en.clone(),
            description_zh: self.description_zh.clone(),
            keywords: self.keywords.clone(),
            published_at: self.published_at.map_or(0, |m| m.0),
            height: self.technical.height,
            fps: self.technical.fps,
            duration: self.technical.duration,
            kinds: self.offers.iter().map(|o| o.kind).collect(),
            price: self
                .offers
                .iter()
                .map(|o| {
                    let digits = Currency::parse(&o.currency).map_or(2, |c| c.minor_digits());
                    o.price / 10_i64.pow(digits)
                })
                .min(),
        }
    }
}

fn split_keywords(text: &str) -> Vec<String> {
    text.split('\n')
        .filter(|k| !k.is_empty())
        .map(str::to_string)
        .collect()
}

/// A listing as written by its contributor.
#[derive(Debug, Clone, Default)]
pub struct NewListing {
    pub media_file_id: Uuid,
    pub category: Option<Category>,
    pub title_en: String,
    pub title_zh: String,
    pub description_en: String,
    pub description_zh: String,
    pub keywords: Vec<String>,
}

/// An offer as written by its contributor.
#[derive(Debug, Clone, Default)]
pub struct NewOffer {
    pub kind: Option<LicenceKind>,
    /// As a person writes it in `currency` (`1200.00`).
    pub price: String,
    pub currency: String,
    /// Rights-managed only: the medium, the territory and the term.
    pub media: Option<String>,
    pub territory: Option<String>,
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
    pub exclusive: bool,
    pub ai_training: bool,
}

/// A licence: what its buyer may do with a listing's media, and what it paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Licence {
    pub id: Uuid,
    /// The buyer.
    pub org_id: Uuid,
    pub seller_org_id: Uuid,
    pub listing_id: Uuid,
    pub offer_id: Uuid,
    pub kind: LicenceKind,
    /// The listing's title at the sale, in English and in Chinese.
    pub title: String,
    pub title_zh: String,
    pub price: i64,
    #[schema(value_type = String)]
    pub currency: String,
    pub media: String,
    pub territory: String,
    pub starts_on: String,
    pub ends_on: String,
    pub exclusive: bool,
    pub ai_training: bool,
    /// The contributor's share at the sale, in basis points, and the price split by it: the
    /// contributor's business and the platform's, never shown to the buyer (the contributor
    /// reads it in its sales).
    #[serde(skip)]
    pub share_bp: i64,
    #[serde(skip)]
    pub contributor_amount: i64,
    #[serde(skip)]
    pub fee_amount: i64,
    /// The ledger batch that paid for it, and the one that gave the money back.
    pub batch_id: Uuid,
    pub refund_batch_id: Option<Uuid>,
    /// `active` or `refunded`.
    pub state: String,
    pub key: Option<String>,
    pub created_by: Uuid,
    pub created_at: Millis,
    pub refunded_at: Option<Millis>,
    /// Its certificate's public address ends with it: `/licences/verify/{verify_code}`.
    pub verify_code: Option<String>,
    /// The order that bought it with others from a cart, if one did.
    pub order_id: Option<Uuid>,
}

const LICENCE_COLS: &str = "id, org_id, seller_org_id, listing_id, offer_id, kind, title, title_zh, price, currency, media, territory, starts_on, ends_on, exclusive, ai_training, share_bp, contributor_amount, fee_amount, batch_id, refund_batch_id, state, key, created_by, created_at, refunded_at, verify_code, order_id";

impl FromRow for Licence {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        let id = r.get()?;
        let org_id = r.get()?;
        let seller_org_id = r.get()?;
        let listing_id = r.get()?;
        let offer_id = r.get()?;
        let kind: String = r.get()?;
        Ok(Licence {
            id,
            org_id,
            seller_org_id,
            listing_id,
            offer_id,
            kind: LicenceKind::parse(&kind).unwrap_or(LicenceKind::RfStandard),
            title: r.get()?,
            title_zh: r.get()?,
            price: r.get()?,
            currency: r.get()?,
            media: r.get()?,
            territory: r.get()?,
            starts_on: r.get()?,
            ends_on: r.get()?,
            exclusive: r.get()?,
            ai_training: r.get()?,
            share_bp: r.get()?,
            contributor_amount: r.get()?,
            fee_amount: r.get()?,
            batch_id: r.get()?,
            refund_batch_id: r.get()?,
            state: r.get()?,
            key: r.get()?,
            created_by: r.get()?,
            created_at: r.get()?,
            refunded_at: r.get()?,
            verify_code: r.get()?,
            order_id: r.get()?,
        })
    }
}

/// A licence's certificate: what it covers, between whom, and whether it stands.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Certificate {
    #[serde(flatten)]
    pub licence: Licence,
    /// The licensee's and the contributor's names.
    pub licensee: String,
    pub contributor: String,
}

const CERTIFICATE_FROM: &str =
    "market_licences l JOIN orgs b ON b.id = l.org_id JOIN orgs s ON s.id = l.seller_org_id";

impl FromRow for Certificate {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        let licence = Licence::from_row(r)?;
        Ok(Certificate {
            licence,
            licensee: r.get()?,
            contributor: r.get()?,
        })
    }
}

/// `LICENCE_COLS` of the licence `l` in a join.
fn licence_cols_of_l() -> String {
    LICENCE_COLS
        .split(", ")
        .map(|c| format!("l.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A sale as its contributor sees it: what was licensed and what it earned, not who bought it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Sale {
    pub licence_id: Uuid,
    pub listing_id: Uuid,
    pub title: String,
    pub title_zh: String,
    pub kind: LicenceKind,
    pub price: i64,
    #[schema(value_type = String)]
    pub currency: String,
    /// The contributor's share, in basis points, as its agreement (or the platform's standing
    /// share) gave it at the sale; what it earned by it, and the platform's fee.
    pub share_bp: i64,
    pub contributor_amount: i64,
    pub fee_amount: i64,
    /// The agreement the sale was made under; none for the platform's standing share.
    pub agreement_id: Option<Uuid>,
    pub state: String,
    pub created_at: Millis,
    pub refunded_at: Option<Millis>,
    /// The payout batch that paid the contributor its share, once one has.
    pub payout_id: Option<Uuid>,
}

const SALE_COLS: &str = "id, listing_id, title, title_zh, kind, price, currency, share_bp, contributor_amount, fee_amount, agreement_id, state, created_at, refunded_at, payout_id";

impl FromRow for Sale {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        let licence_id = r.get()?;
        let listing_id = r.get()?;
        let title = r.get()?;
        let title_zh = r.get()?;
        let kind: String = r.get()?;
        Ok(Sale {
            licence_id,
            listing_id,
            title,
            title_zh,
            kind: LicenceKind::parse(&kind).unwrap_or(LicenceKind::RfStandard),
            price: r.get()?,
            currency: r.get()?,
            share_bp: r.get()?,
            contributor_amount: r.get()?,
            fee_amount: r.get()?,
            agreement_id: r.get()?,
            state: r.get()?,
            created_at: r.get()?,
            refunded_at: r.get()?,
            payout_id: r.get()?,
        })
    }
}

/// An account the market keeps for an organisation: its wallet, or what it is owed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HeldAccount {
    pub id: Uuid,
    pub purpose: Purpose,
    #[schema(value_type = String)]
    pub currency: String,
    /// Credits less debits, posted.
    pub posted: i64,
    /// What can be spent now.
    pub available: i64,
}

impl FromRow for HeldAccount {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        let id = r.get()?;
        let purpose: String = r.get()?;
        let currency = r.get()?;
        let (dp, cp, dpe): (i64, i64, i64) = (r.get()?, r.get()?, r.get()?);
        Ok(HeldAccount {
            id,
            purpose: Purpose::parse(&purpose).unwrap_or(Purpose::Wallet),
            currency,
            posted: cp - dp,
            available: cp - dp - dpe,
        })
    }
}

/// A link that downloads a licensed original until it expires.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DownloadLink {
    /// The path to fetch, secret included: `/market/downloads/msd_…`.
    pub url: String,
    pub expires_at: Millis,
}

/// What a live download link fetches.
#[derive(Debug, Clone)]
pub struct Download {
    pub hash: String,
    pub size: i64,
    pub name: String,
    pub content_type: Option<String>,
}

impl FromRow for Download {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(Download {
            hash: r.get()?,
            size: r.get()?,
            name: r.get()?,
            content_type: r.get()?,
        })
    }
}

/// Keywords as written: trimmed, each at most 60 characters, at most 50, without repeats.
fn keywords(words: &[String]) -> Result<Vec<String>> {
    if words.len() > 50 {
        return Err(FieldError::new("keywords", "too_many").into());
    }
    let mut out: Vec<String> = Vec::new();
    for w in words {
        let w = validate::name("keywords", w, 60)?;
        if !out.iter().any(|o| o.to_lowercase() == w.to_lowercase()) {
            out.push(w);
        }
    }
    if out.len() > 50 {
        return Err(FieldError::new("keywords", "too_many").into());
    }
    Ok(out)
}

/// What the storefront's words are matched against: the titles and keywords, lowered here (not
/// by the database, whose `LOWER` differs between backends beyond ASCII).
fn search_text(title_en: &str, title_zh: &str, keywords: &[String]) -> String {
    format!("{title_en}\n{title_zh}\n{}", keywords.join("\n")).to_lowercase()
}

/// The turn every write about the bytes `hash` takes (`WriteTx::take_turns`).
fn turn_of(hash: &str) -> i64 {
    let head = hash.get(..16).unwrap_or(hash);
    u64::from_str_radix(head, 16).map_or(0, |v| v as i64) ^ 0x6d61_726b_6574
}

/// Today by the server's clock, `YYYY-MM-DD` in UTC.
fn today(now: i64) -> String {
    Millis(now).rfc3339().chars().take(10).collect()
}

/// The day a sale made now is made on, as licences count it (UTC).
pub fn sale_day() -> String {
    today(now_ms())
}

impl Tenant<'_> {
    /// Lists one of the organisation's media files, as a draft nobody else sees.
    pub async fn create_listing(&self, new: NewListing) -> Result<Listing> {
        let scope = self.scope().clone();
        let category = new
            .category
            .ok_or_else(|| FieldError::new("category", "required"))?;
        let title_en = validate::name("title_en", &new.title_en, 200)?;
        let title_zh = validate::name("title_zh", &new.title_zh, 200)?;
        let description_en = validate::text("description_en", &new.description_en, 5_000)?;
        let description_zh = validate::text("description_zh", &new.description_zh, 5_000)?;
        let words = keywords(&new.keywords)?;
        let file = self.media_file(new.media_file_id).await?;
        self.write(move |tx| {
            Box::pin(async move {
                let now = now_ms();
                let l = Listing {
                    id: new_id(),
                    org_id: scope.org_id,
                    media_file_id: file.id,
                    hash: file.hash,
                    category,
                    title_en,
                    title_zh,
                    description_en,
                    description_zh,
                    keywords: words,
                    status: ListingStatus::Draft,
                    duplicate_of: None,
                    created_by: scope.user_id,
                    created_at: Millis(now),
                    published_at: None,
                    version: 1,
                    offers: Vec::new(),
                };
                tx.execute(
                    &format!(
                        "INSERT INTO market_listings ({LISTING_COLS}, search_text)
                         VALUES ($2, $1, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL, $12, $13, NULL, 1, $14)"
                    ),
                    &[
                        l.org_id.into(),
                        l.id.into(),
                        l.media_file_id.into(),
                        (&l.hash).into(),
                        l.category.as_str().into(),
                        (&l.title_en).into(),
                        (&l.title_zh).into(),
                        (&l.description_en).into(),
                        (&l.description_zh).into(),
                        l.keywords.join("\n").into(),
                        l.status.as_str().into(),
                        l.created_by.into(),
                        l.created_at.into(),
                        search_text(&l.title_en, &l.title_zh, &l.keywords).into(),
                    ],
                )
                .await?;
                let change = Change::new(Some(l.org_id), "listing.created", "listing", l.id);
                tx.record(&Actor::of(&scope), change.after(&l)).await?;
                Ok(l)
            })
        })
        .await
    }

    /// The organisation's own listings, newest first, with their offers.
    pub async fn listings(&self, q: &ListQuery) -> Result<Page<Listing>> {
        let mut page: Page<Listing> = self
            .page(
                LISTING_COLS,
                "market_listings",
                "org_id = $1",
                vec![self.org_id().into()],
                q,
                |l: &Listing| l.id,
            )
            .await?;
        let offers: Vec<Offer> = self
            .read(
                &format!(
                    "SELECT {OFFER_COLS} FROM market_offers WHERE org_id = $1 ORDER BY listing_id, id LIMIT 10000"
                ),
                &[self.org_id().into()],
            )
            .await?;
        for l in &mut page.items {
            l.offers = offers
                .iter()
                .filter(|o| o.listing_id == l.id)
                .cloned()
                .collect();
        }
        Ok(page)
    }

    /// One of the organisation's own listings, with its offers.
    pub async fn listing(&self, id: Uuid) -> Result<Listing> {
        let mut l: Listing = self
            .one(LISTING_COLS, "market_listings", id, "listing")
            .await?;
        l.offers = self
            .read(
                &format!(
                    "SELECT {OFFER_COLS} FROM market_offers WHERE org_id = $1 AND listing_id = $2 ORDER BY id"
                ),
                &[self.org_id().into(), id.into()],
            )
            .await?;
        Ok(l)
    }

    /// Adds a licence offer to one of the organisation's listings.
    pub async fn add_offer(&self, listing_id: Uuid, new: NewOffer) -> Result<Offer> {
        let scope = self.scope().clone();
        // Another organisation's listing is not found, whatever the offer says.
        let found: Option<String> = self
            .scalar_opt(
                "SELECT status FROM market_listings WHERE org_id = $1 AND id = $2",
                &[self.org_id().into(), listing_id.into()],
            )
            .await?;
        if found.is_none() {
            return Err(StoreError::NotFound { entity: "listing" });
        }
        let kind = new
            .kind
            .ok_or_else(|| FieldError::new("kind", "required"))?;
        let currency = Currency::parse(&new.currency)
            .ok_or_else(|| FieldError::new("currency", "not_a_currency"))?;
        let price = currency
            .parse_amount(new.price.trim())
            .ok_or_else(|| FieldError::new("price", "not_an_amount"))?;
        if price <= 0 {
            return Err(FieldError::new("price", "must_be_positive").into());
        }
        let (media, territory, starts_on, ends_on, exclusive) = match kind {
            LicenceKind::RightsManaged => {
                let media = new.media.unwrap_or_default();
                if !MEDIA.contains(&media.as_str()) {
                    return Err(FieldError::new("media", "not_one_of_the_choices").into());
                }
                let territory = new.territory.unwrap_or_default().trim().to_uppercase();
                if !market::valid_territory(&territory) {
                    return Err(FieldError::new("territory", "not_a_territory").into());
                }
                let (Some(s), Some(e)) = (new.starts_on, new.ends_on) else {
                    return Err(FieldError::new("starts_on", "required").into());
                };
                if !market::valid_date(&s) {
                    return Err(FieldError::new("starts_on", "not_a_date").into());
                }
                if !market::valid_date(&e) {
                    return Err(FieldError::new("ends_on", "not_a_date").into());
                }
                if e < s {
                    return Err(FieldError::new("ends_on", "before_start").into());
                }
                if e < sale_day() {
                    return Err(FieldError::new("ends_on", "in_the_past").into());
                }
                (media, territory, Some(s), Some(e), new.exclusive)
            }
            _ => {
                if new.media.is_some()
                    || new.territory.is_some()
                    || new.starts_on.is_some()
                    || new.ends_on.is_some()
                {
                    return Err(FieldError::new("media", "not_for_royalty_free").into());
                }
                if new.exclusive {
                    return Err(FieldError::new("exclusive", "not_for_royalty_free").into());
                }
                (
                    "all".to_string(),
                    market::WORLDWIDE.to_string(),
                    None,
                    None,
                    false,
                )
            }
        };
        self.write(move |tx| {
            Box::pin(async move {
                let org = scope.org_id;
                let status: Option<String> = tx
                    .scalar_opt(
                        &format!(
                            "SELECT status FROM market_listings WHERE org_id = $1 AND id = $2{}",
                            tx.lock_rows()
                        ),
                        &[org.into(), listing_id.into()],
                    )
                    .await?;
                let status = status.ok_or(StoreError::NotFound { entity: "listing" })?;
                if status == ListingStatus::Withdrawn.as_str() {
                    return Err(MarketRule::NotForSale.into());
                }
                let o = Offer {
                    id: new_id(),
                    listing_id,
                    kind,
                    price,
                    currency: currency.to_string(),
                    media,
                    territory,
                    starts_on,
                    ends_on,
                    exclusive,
                    ai_training: new.ai_training,
                    active: true,
                    created_at: Millis(now_ms()),
                };
                tx.execute(
                    &format!(
                        "INSERT INTO market_offers (org_id, {OFFER_COLS})
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
                    ),
                    &[
                        org.into(),
                        o.id.into(),
                        o.listing_id.into(),
                        o.kind.as_str().into(),
                        o.price.into(),
                        (&o.currency).into(),
                        (&o.media).into(),
                        (&o.territory).into(),
                        o.starts_on.clone().into(),
                        o.ends_on.clone().into(),
                        o.exclusive.into(),
                        o.ai_training.into(),
                        o.active.into(),
                        o.created_at.into(),
                    ],
                )
                .await?;
                let change = Change::new(Some(org), "offer.created", "offer", o.id);
                tx.record(&Actor::of(&scope), change.after(&o)).await?;
                Ok(o)
            })
        })
        .await
    }

    /// Puts a draft listing on sale, or holds it for review when another contributor has the
    /// same bytes on sale (it learns only that it waits for review, and the listing it copies).
    /// A platform write: the listings of one file's bytes are compared across organisations, so
    /// publishing takes its turn on the bytes and two at once cannot both be first.
    pub async fn publish_listing(&self, id: Uuid) -> Result<Listing> {
        let scope = self.scope().clone();
        let listing = self.listing(id).await?;
        self.platform()
            .write(move |tx| {
                Box::pin(async move {
                    let org = scope.org_id;
                    tx.take_turns(turn_of(&listing.hash)).await?;
                    let row: Option<(String, i64)> = tx
                        .query_opt(
                            &format!(
                                "SELECT status, version FROM market_listings WHERE org_id = $1 AND id = $2{}",
                                tx.lock_rows()
                            ),
                            &[org.into(), id.into()],
                        )
                        .await?;
                    let (status, version) =
                        row.ok_or(StoreError::NotFound { entity: "listing" })?;
                    if status != ListingStatus::Draft.as_str() {
                        return Err(MarketRule::NotPublishable.into());
                    }
                    let offers: i64 = tx
                        .scalar(
                            "SELECT COUNT(*) FROM market_offers WHERE org_id = $1 AND listing_id = $2 AND active = $3",
                            &[org.into(), id.into(), true.into()],
                        )
                        .await?;
                    if offers == 0 {
                        return Err(MarketRule::NoOffers.into());
                    }
                    let first: Option<(Uuid, Uuid)> = tx
                        .query_opt(
                            "SELECT org_id, id FROM market_listings WHERE hash = $1 AND status = 'published'
                             ORDER BY published_at, id LIMIT 1",
                            &[(&listing.hash).into()],
                        )
                        .await?;
                    let duplicate_of = match first {
                        // One listing a file: its licences are weighed against each other there.
                        Some((o, _)) if o == org => return Err(MarketRule::AlreadyListed.into()),
                        Some((_, l)) => Some(l),
                        None => None,
                    };
                    let (status, published_at) = match duplicate_of {
                        Some(_) => (ListingStatus::Held, None),
                        None => (ListingStatus::Published, Some(Millis(now_ms()))),
                    };
                    tx.execute(
                        "UPDATE market_listings SET status = $3, duplicate_of = $4, published_at = $5, version = $6
                         WHERE org_id = $1 AND id = $2",
                        &[
                            org.into(),
                            id.into(),
                            status.as_str().into(),
                            duplicate_of.into(),
                            published_at.into(),
                            (version + 1).into(),
                        ],
                    )
                    .await?;
                    let mut after = listing;
                    after.status = status;
                    after.duplicate_of = duplicate_of;
                    after.published_at = published_at;
                    after.version = version + 1;
                    let action = match status {
                        ListingStatus::Held => "listing.held",
                        _ => "listing.published",
                    };
                    if status == ListingStatus::Published
                        && matches!(after.category, Category::Footage | Category::VfxElement)
                    {
                        queue_preview(tx, org, &after).await?;
                    }
                    let change = Change::new(Some(org), action, "listing", id);
                    tx.record(&Actor::of(&scope), change.after(&after)).await?;
                    Ok(after)
                })
            })
            .await
    }

    /// Takes one of a listing's offers off sale for good: nobody buys a licence on it any more
    /// (the licences sold on it stay good). It waits for a sale of the listing under way.
    pub async fn withdraw_offer(&self, listing_id: Uuid, offer_id: Uuid) -> Result<Offer> {
        let scope = self.scope().clone();
        self.write(move |tx| {
            Box::pin(async move {
                let org = scope.org_id;
                lock_listing(tx, org, listing_id).await?;
                let found: Option<Offer> = tx
                    .query_opt(
                        &format!(
                            "SELECT {OFFER_COLS} FROM market_offers WHERE org_id = $1 AND listing_id = $2 AND id = $3"
                        ),
                        &[org.into(), listing_id.into(), offer_id.into()],
                    )
                    .await?;
                let mut offer = found.ok_or(StoreError::NotFound { entity: "offer" })?;
                if !offer.active {
                    return Err(MarketRule::NotForSale.into());
                }
                tx.execute(
                    "UPDATE market_offers SET active = $3 WHERE org_id = $1 AND id = $2",
                    &[org.into(), offer_id.into(), false.into()],
                )
                .await?;
                offer.active = false;
                let change = Change::new(Some(org), "offer.withdrawn", "offer", offer_id);
                tx.record(&Actor::of(&scope), change.after(&offer)).await?;
                Ok(offer)
            })
        })
        .await
    }

    /// Takes one of the organisation's listings off sale for good (a draft or one held, too):
    /// nobody finds or buys it any more; the licences sold on it stay good.
    pub async fn withdraw_listing(&self, id: Uuid) -> Result<Listing> {
        let scope = self.scope().clone();
        let listing = self.listing(id).await?;
        self.write(move |tx| {
            Box::pin(async move {
                let org = scope.org_id;
                let row: Option<(String, i64)> = tx
                    .query_opt(
                        &format!(
                            "SELECT status, version FROM market_listings WHERE org_id = $1 AND id = $2{}",
                            tx.lock_rows()
                        ),
                        &[org.into(), id.into()],
                    )
                    .await?;
                let (status, version) = row.ok_or(StoreError::NotFound { entity: "listing" })?;
                if status == ListingStatus::Withdrawn.as_str() {
                    return Err(MarketRule::NotForSale.into());
                }
                tx.execute(
                    "UPDATE market_listings SET status = 'withdrawn', version = $3 WHERE org_id = $1 AND id = $2",
                    &[org.into(), id.into(), (version + 1).into()],
                )
                .await?;
                let mut after = listing;
                after.status = ListingStatus::Withdrawn;
                after.version = version + 1;
                let change = Change::new(Some(org), "listing.withdrawn", "listing", id);
                tx.record(&Actor::of(&scope), change.after(&after)).await?;
                Ok(after)
            })
        })
        .await
    }

    /// Buys a licence on `offer_id`: the price moves from the buyer's wallet to what the market
    /// owes the contributor and to the platform's fees, and the licence is granted, in one
    /// transaction, or nothing happens. The same `key` again answers the licence it bought.
    pub async fn checkout(&self, offer_id: Uuid, key: Option<String>) -> Result<Licence> {
        if let Some(k) = &key
            && (k.is_empty() || k.len() > 200 || k.chars().any(char::is_control))
        {
            return Err(FieldError::new("key", "invalid").into());
        }
        let mut attempt = 0;
        loop {
            let (scope, key) = (self.scope().clone(), key.clone());
            let done = self
                .platform()
                .write(move |tx| {
                    Box::pin(async move { sell(tx, &scope, offer_id, key, None).await })
                })
                .await;
            match done {
                // Two first sales in one currency opened the same account at once, or a retry
                // met its own first attempt: once more, which finds them.
                Err(StoreError::Duplicate { .. }) if attempt == 0 => attempt += 1,
                other => return other,
            }
        }
    }

    /// The organisation's licences, newest first.
    pub async fn licences(&self, q: &ListQuery) -> Result<Page<Licence>> {
        self.page(
            LICENCE_COLS,
            "market_licences",
            "org_id = $1",
            vec![self.org_id().into()],
            q,
            |l: &Licence| l.id,
        )
        .await
    }

    /// A licence of the organisation with both parties' names, for its certificate.
    pub async fn certificate(&self, id: Uuid) -> Result<Certificate> {
        let text = format!(
            "SELECT {}, COALESCE(l.licensee_name, b.name), COALESCE(l.contributor_name, s.name) FROM {CERTIFICATE_FROM} WHERE l.org_id = $1 AND l.id = $2",
            licence_cols_of_l()
        );
        self.read_opt(&text, &[self.org_id().into(), id.into()])
            .await?
            .ok_or(StoreError::NotFound { entity: "licence" })
    }

    pub async fn licence(&self, id: Uuid) -> Result<Licence> {
        self.one(LICENCE_COLS, "market_licences", id, "licence")
            .await
    }

    /// The organisation's sales as a contributor, newest first.
    pub async fn sales(&self, q: &ListQuery) -> Result<Page<Sale>> {
        self.page(
            SALE_COLS,
            "market_licences",
            "seller_org_id = $1",
            vec![self.org_id().into()],
            q,
            |s: &Sale| s.licence_id,
        )
        .await
    }

    /// The accounts the market keeps for the organisation: its wallets and what it is owed.
    pub async fn held_accounts(&self) -> Result<Vec<HeldAccount>> {
        self.read(
            "SELECT id, purpose, currency, debits_posted, credits_posted, debits_pending
             FROM ledger_accounts WHERE holder_org_id = $1 ORDER BY purpose, currency LIMIT 100",
            &[self.org_id().into()],
        )
        .await
    }

    /// Gives a licence's money back within the refund window: reversing transfers of the
    /// sale's, and its download links stop working.
    pub async fn refund(&self, licence_id: Uuid) -> Result<Licence> {
        let scope = self.scope().clone();
        self.platform()
            .write(move |tx| Box::pin(async move { refund(tx, &scope, licence_id).await }))
            .await
    }

    /// A link that downloads the licensed original for the next hour.
    pub async fn download_link(&self, licence_id: Uuid) -> Result<DownloadLink> {
        let scope = self.scope().clone();
        self.write(move |tx| {
            Box::pin(async move {
                let org = scope.org_id;
                let state: Option<String> = tx
                    .scalar_opt(
                        "SELECT state FROM market_licences WHERE org_id = $1 AND id = $2",
                        &[org.into(), licence_id.into()],
                    )
                    .await?;
                match state.as_deref() {
                    None => return Err(StoreError::NotFound { entity: "licence" }),
                    Some("active") => {}
                    Some(_) => return Err(MarketRule::RefundClosed.into()),
                }
                issue_link(tx, &scope, licence_id, None).await
            })
        })
        .await
    }

    /// Credits `amount` (in minor units of `currency`) to the wallet the market keeps for the
    /// organisation `holder`, as money received from outside (a bank transfer): the
    /// operator's finance, only. The same `key` again answers the credit it made.
    pub async fn credit_wallet(
        &self,
        holder: Uuid,
        currency: &str,
        amount: i64,
        reference: &str,
        key: Option<String>,
    ) -> Result<HeldAccount> {
        let currency = Currency::parse(currency)
            .ok_or_else(|| FieldError::new("currency", "not_a_currency"))?;
        if amount <= 0 {
            return Err(FieldError::new("amount", "must_be_positive").into());
        }
        let reference = validate::name("reference", reference, 200)?;
        if let Some(k) = &key
            && (k.is_empty() || k.len() > 200 || k.chars().any(char::is_control))
        {
            return Err(FieldError::new("key", "invalid").into());
        }
        let mut attempt = 0;
        loop {
            let (scope, reference, key) = (self.scope().clone(), reference.clone(), key.clone());
            let done = self
                .platform()
                .write(move |tx| {
                    Box::pin(async move {
                        credit(tx, &scope, holder, currency, amount, reference, key).await
                    })
                })
                .await;
            match done {
                // Two first credits opened the wallet at once, or a retry met its first
                // attempt: once more, which finds them.
                Err(StoreError::Duplicate { .. }) if attempt == 0 => attempt += 1,
                other => return other,
            }
        }
    }
}

/// The credit's write: see [`Tenant::credit_wallet`].
async fn credit(
    tx: &mut WriteTx<'_>,
    scope: &TenantScope,
    holder: Uuid,
    currency: Currency,
    amount: i64,
    reference: String,
    key: Option<String>,
) -> Result<HeldAccount> {
    let operator = operator_of(tx).await?;
    if operator != scope.org_id {
        return Err(MarketRule::OperatorOnly.into());
    }
    let found: Option<String> = tx
        .scalar_opt("SELECT slug FROM orgs WHERE id = $1", &[holder.into()])
        .await?;
    if found.is_none() {
        return Err(StoreError::NotFound {
            entity: "organisation",
        });
    }
    let actor = Actor::of(scope);
    let cur = currency.as_str();
    let bank = held_account(tx, &actor, operator, operator, Purpose::Settlement, cur).await?;
    let wallet = held_account(tx, &actor, operator, holder, Purpose::Wallet, cur).await?;
    let t = TransferInput {
        key,
        kind: Some(Kind::Posted),
        debit_account_id: Some(bank),
        credit_account_id: Some(wallet),
        amount: Some(amount),
        description: reference,
        ..TransferInput::default()
    };
    write_batch(tx, operator, &actor, vec![t], Some(scope.user_id)).await?;
    let text = "SELECT id, purpose, currency, debits_posted, credits_posted, debits_pending
                FROM ledger_accounts WHERE org_id = $1 AND id = $2";
    tx.query_opt(text, &[operator.into(), wallet.into()])
        .await?
        .ok_or(StoreError::NotFound { entity: "account" })
}

impl Platform<'_> {
    /// Up to `limit` listings on sale after `after` in id order, as the catalogue indexes them.
    pub async fn catalogue_page(
        &self,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<search::Entry>> {
        let mut args: Vec<crate::Arg> = Vec::new();
        let mut filter = String::from("l.status = 'published'");
        if let Some(a) = after {
            args.push(a.into());
            filter.push_str(" AND l.id > $1");
        }
        args.push(i64::from(limit.clamp(1, 2000)).into());
        let text = format!(
            "SELECT {PUBLIC_COLS} FROM {PUBLIC_FROM} WHERE {filter} ORDER BY l.id LIMIT ${}",
            args.len()
        );
        let mut items: Vec<PublicListing> = self.read(&text, &args).await?;
        self.with_offers(&mut items).await?;
        Ok(items.iter().map(PublicListing::entry).collect())
    }

    /// Those of the listings `ids` that are on sale, as the catalogue indexes them: two reads
    /// for up to 500 listings, whatever their number.
    pub async fn catalogue_entries(&self, ids: &[Uuid]) -> Result<Vec<search::Entry>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            out.extend(
                self.listings_on_sale(chunk)
                    .await?
                    .iter()
                    .map(PublicListing::entry),
            );
        }
        Ok(out)
    }

    /// The listings on sale that show the media file `file` or are the organisation `org`'s:
    /// what the catalogue indexes again when a probe or a name changes.
    pub async fn listings_touching(
        &self,
        file: Option<Uuid>,
        org: Option<Uuid>,
    ) -> Result<Vec<Uuid>> {
        let (text, arg) = match (file, org) {
            (Some(f), _) => (
                "SELECT id FROM market_listings WHERE media_file_id = $1 AND status = 'published'",
                f,
            ),
            (None, Some(o)) => (
                "SELECT id FROM market_listings WHERE org_id = $1 AND status = 'published'",
                o,
            ),
            (None, None) => return Ok(Vec::new()),
        };
        let rows: Vec<(Uuid,)> = self.read(text, &[arg.into()]).await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// The listings `ids` that are on sale, in that order, with their live offers.
    pub async fn listings_on_sale(&self, ids: &[Uuid]) -> Result<Vec<PublicListing>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let marks: Vec<String> = (1..=ids.len()).map(|k| format!("${k}")).collect();
        let text = format!(
            "SELECT {PUBLIC_COLS} FROM {PUBLIC_FROM} WHERE l.status = 'published' AND l.id IN ({})",
            marks.join(", ")
        );
        let args: Vec<crate::Arg> = ids.iter().map(|id| (*id).into()).collect();
        let mut found: Vec<PublicListing> = self.read(&text, &args).await?;
        self.with_offers(&mut found).await?;
        found.sort_by_key(|l| ids.iter().position(|id| *id == l.id));
        Ok(found)
    }

    /// A listing on sale, with its live offers.
    pub async fn listing_on_sale(&self, id: Uuid) -> Result<PublicListing> {
        let text = format!(
            "SELECT {PUBLIC_COLS} FROM {PUBLIC_FROM} WHERE l.id = $1 AND l.status = 'published'"
        );
        let mut found: Vec<PublicListing> = self.read(&text, &[id.into()]).await?;
        self.with_offers(&mut found).await?;
        found
            .pop()
            .ok_or(StoreError::NotFound { entity: "listing" })
    }

    async fn with_offers(&self, items: &mut [PublicListing]) -> Result<()> {
        if items.is_empty() {
            return Ok(());
        }
        let marks: Vec<String> = (1..=items.len()).map(|k| format!("${k}")).collect();
        let text = format!(
            "SELECT {OFFER_COLS} FROM market_offers WHERE active = {} AND listing_id IN ({}) ORDER BY price, id",
            "TRUE",
            marks.join(", ")
        );
        let args: Vec<crate::Arg> = items.iter().map(|l| l.id.into()).collect();
        let offers: Vec<Offer> = self.read(&text, &args).await?;
        let ids: Vec<Uuid> = items.iter().map(|l| l.id).collect();
        let on_file = self.releases_on_file(&ids).await?;
        for l in items.iter_mut() {
            l.offers = offers
                .iter()
                .filter(|o| o.listing_id == l.id)
                .cloned()
                .collect();
            l.releases = on_file
                .iter()
                .filter(|(listing, _)| *listing == l.id)
                .map(|(_, r)| r.clone())
                .collect();
        }
        Ok(())
    }

    /// What the licences standing on a listing cover: what its offers are weighed against
    /// (`Terms::collides`), without who holds them.
    pub async fn standing_terms(&self, listing_id: Uuid) -> Result<Vec<Terms>> {
        let rows: Vec<Standing> = self
            .read(
                "SELECT DISTINCT media, territory, starts_on, ends_on, exclusive FROM market_licences
                 WHERE listing_id = $1 AND state = 'active' LIMIT 10000",
                &[listing_id.into()],
            )
            .await?;
        Ok(rows.into_iter().map(|s| s.0).collect())
    }

    /// The certificate whose public address ends with `code`, whatever its licence's state.
    pub async fn certificate_by_code(&self, code: &str) -> Result<Option<Certificate>> {
        // Codes are 28 characters (`verify_code`), or 16 of base64url or hex for licences sold
        // before them: anything else is no code, and never reaches the database.
        if !matches!(code.len(), 16 | 28)
            || !code
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Ok(None);
        }
        let text = format!(
            "SELECT {}, COALESCE(l.licensee_name, b.name), COALESCE(l.contributor_name, s.name) FROM {CERTIFICATE_FROM} WHERE l.verify_code = $1",
            licence_cols_of_l()
        );
        self.read_opt(&text, &[code.into()]).await
    }

    /// The watermarked preview of a listing on sale, once made: its blob's hash and size.
    pub async fn listing_preview(&self, listing_id: Uuid) -> Result<Option<(String, i64)>> {
        self.read_opt(
            "SELECT b.hash, b.size FROM market_listings l JOIN blobs b ON b.hash = l.preview_hash
             WHERE l.id = $1 AND l.status = 'published'",
            &[listing_id.into()],
        )
        .await
    }

    /// The listing an offer is on, whatever the listing's state.
    pub async fn offer_listing(&self, offer_id: Uuid) -> Result<Option<Uuid>> {
        self.scalar_opt(
            "SELECT listing_id FROM market_offers WHERE id = $1",
            &[offer_id.into()],
        )
        .await
    }

    /// What the download link `token` fetches, while it lives and its licence stands.
    pub async fn market_download(&self, token: &str) -> Result<Option<Download>> {
        self.read_opt(
            "SELECT f.hash, f.size, f.name, f.content_type
             FROM market_downloads d
             JOIN market_licences l ON l.id = d.licence_id AND l.org_id = d.org_id
             JOIN market_listings s ON s.id = l.listing_id
             LEFT JOIN market_releases r ON r.id = d.release_id AND r.listing_id = s.id
             JOIN media_files f ON f.id = COALESCE(r.media_file_id, s.media_file_id) AND f.org_id = s.org_id
             WHERE d.token_hash = $1 AND d.expires_at > $2 AND l.state = 'active'
               AND (d.release_id IS NULL OR r.id IS NOT NULL)",
            &[hash_secret(token).into(), now_ms().into()],
        )
        .await
    }
}

/// An account of the operator's books as a sale reads it: id, holder, purpose and the sums
/// that say what it can spend.
struct HeldRow(Uuid, Uuid, String, i64, i64, i64);

impl FromRow for HeldRow {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(HeldRow(
            r.get()?,
            r.get()?,
            r.get()?,
            r.get()?,
            r.get()?,
            r.get()?,
        ))
    }
}

/// An offer with its seller.
struct SellerOffer(Uuid, Offer);

impl FromRow for SellerOffer {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        let seller = r.get()?;
        Ok(SellerOffer(seller, Offer::from_row(r)?))
    }
}

/// What a licence standing covers.
struct Standing(Terms);

impl FromRow for Standing {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        Ok(Standing(Terms {
            media: r.get()?,
            territory: r.get()?,
            starts_on: r.get()?,
            ends_on: r.get()?,
            exclusive: r.get()?,
        }))
    }
}

/// Inside a write: the `media.watermark` job making the listing's preview from its original.
async fn queue_preview(tx: &mut WriteTx<'_>, org: Uuid, l: &Listing) -> Result<()> {
    let job = crate::jobs::insert_job(
        tx,
        &crate::jobs::NewJob {
            org_id: Some(org),
            kind: crate::media::WATERMARK_JOB.into(),
            payload: serde_json::json!({"media_file_id": l.media_file_id, "hash": l.hash,
                "listing_id": l.id}),
            priority: 0,
            max_attempts: 3,
            run_after: None,
        },
    )
    .await?;
    tx.execute(
        "UPDATE market_listings SET preview_job_id = $3 WHERE org_id = $1 AND id = $2",
        &[org.into(), l.id.into(), job.into()],
    )
    .await?;
    Ok(())
}

/// Inside the end of a `media.watermark` job for a listing: its preview, made.
pub(crate) async fn preview_tx(
    tx: &mut WriteTx<'_>,
    org_id: Uuid,
    payload: &serde_json::Value,
    hash: &str,
    likeness: &[u64],
) -> Result<()> {
    let listing = payload["listing_id"]
        .as_str()
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or(StoreError::NotFound { entity: "listing" })?;
    let kept = (!likeness.is_empty()).then(|| market::signature_text(likeness));
    let n = tx
        .execute(
            "UPDATE market_listings SET preview_hash = $3, likeness = $4 WHERE org_id = $1 AND id = $2",
            &[org_id.into(), listing.into(), hash.into(), kept.into()],
        )
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound { entity: "listing" });
    }
    if !likeness.is_empty() {
        // One comparison at a time across the platform: two copies whose jobs end together
        // each see the other's likeness.
        tx.take_turns(LIKENESS_TURN).await?;
        hold_near_duplicates(tx, org_id, listing, likeness).await?;
    }
    Ok(())
}

/// The turn every comparison of likenesses takes (`WriteTx::take_turns`).
const LIKENESS_TURN: i64 = 0x6c69_6b65_6e65_7373;

/// Compares the picture of the listing `id` (on sale) with every other contributor's listing
/// on sale whose likeness is known, and holds for review the later of each near-duplicate
/// pair: this listing, when another went on sale before it (held as a copy of the first), or
/// else each that went on sale after it. Known once a listing's preview job has ended, so a
/// copy is on sale for the minutes its job takes; the licences sold meanwhile stand.
async fn hold_near_duplicates(
    tx: &mut WriteTx<'_>,
    org_id: Uuid,
    id: Uuid,
    likeness: &[u64],
) -> Result<()> {
    let me: Option<(String, Option<Millis>, Option<Millis>)> = tx
        .query_opt(
            &format!(
                "SELECT status, published_at, reviewed_at FROM market_listings WHERE org_id = $1 AND id = $2{}",
                tx.lock_rows()
            ),
            &[org_id.into(), id.into()],
        )
        .await?;
    let Some((status, Some(at), reviewed)) = me else {
        return Ok(());
    };
    if status != ListingStatus::Published.as_str() {
        return Ok(());
    }
    // One the operator's team put on sale after a review is held by no likeness; it is still
    // the first that later copies are held against.
    let others: Vec<(Uuid, Uuid, String, Option<Millis>)> = tx
        .query(
            "SELECT org_id, id, likeness, published_at FROM market_listings
             WHERE status = 'published' AND likeness IS NOT NULL AND org_id <> $1",
            &[org_id.into()],
        )
        .await?;
    let reviewed_ones: Vec<(Uuid,)> = tx
        .query(
            "SELECT id FROM market_listings
             WHERE status = 'published' AND likeness IS NOT NULL AND org_id <> $1 AND reviewed_at IS NOT NULL",
            &[org_id.into()],
        )
        .await?;
    let mine = (at.0, id);
    let mut first: Option<(i64, Uuid)> = None;
    let mut later = Vec::new();
    for (org, other, text, when) in others {
        let Some(sig) = market::parse_signature(&text) else {
            continue;
        };
        if !market::near_duplicate(likeness, &sig) {
            continue;
        }
        let theirs = (when.map_or(i64::MAX, |m| m.0), other);
        if theirs < mine {
            first = Some(first.map_or(theirs, |f| f.min(theirs)));
        } else {
            later.push((org, other));
        }
    }
    match first {
        Some(_) if reviewed.is_some() => Ok(()),
        Some((_, original)) => hold(tx, org_id, id, original).await,
        None => {
            later.sort_by_key(|(_, other)| *other);
            for (org, other) in later {
                if !reviewed_ones.iter().any(|(r,)| *r == other) {
                    hold(tx, org, other, id).await?;
                }
            }
            Ok(())
        }
    }
}

/// Takes the listing `id` of `org` off sale and holds it for review as a copy of `original`.
async fn hold(tx: &mut WriteTx<'_>, org: Uuid, id: Uuid, original: Uuid) -> Result<()> {
    let n = tx
        .execute(
            "UPDATE market_listings SET status = 'held', duplicate_of = $3, version = version + 1
             WHERE org_id = $1 AND id = $2 AND status = 'published'",
            &[org.into(), id.into(), original.into()],
        )
        .await?;
    if n == 0 {
        return Ok(());
    }
    let after: Option<Listing> = tx
        .query_opt(
            &format!("SELECT {LISTING_COLS} FROM market_listings WHERE org_id = $1 AND id = $2"),
            &[org.into(), id.into()],
        )
        .await?;
    if let Some(after) = after {
        let change = Change::new(Some(org), "listing.held", "listing", id);
        tx.record(&Actor::system(), change.after(&after)).await?;
    }
    Ok(())
}

/// Locks the organisation's listing `listing_id` as a sale locks it (every sale of it, and
/// every change of what it sells, takes its turn there); nothing when it is not there.
async fn lock_listing(tx: &mut WriteTx<'_>, org: Uuid, listing_id: Uuid) -> Result<()> {
    let text = format!(
        "SELECT id FROM market_listings WHERE org_id = $1 AND id = $2{}",
        tx.lock_rows()
    );
    tx.query::<(Uuid,)>(&text, &[org.into(), listing_id.into()])
        .await?;
    Ok(())
}

/// A link of the member's that downloads the licence's original (or, with `release`, a release
/// on file for it) for the next hour: the SHA-256 of its secret is kept, the secret is in the
/// address.
async fn issue_link(
    tx: &mut WriteTx<'_>,
    scope: &TenantScope,
    licence_id: Uuid,
    release: Option<Uuid>,
) -> Result<DownloadLink> {
    let token = format!("msd_{}", random_secret(24));
    let now = now_ms();
    let expires_at = Millis(now + DOWNLOAD_LIFE_MS);
    tx.execute(
        "INSERT INTO market_downloads (token_hash, org_id, licence_id, release_id, expires_at, created_by, created_at)
         VALUES ($2, $1, $3, $4, $5, $6, $7)",
        &[
            scope.org_id.into(),
            hash_secret(&token).into(),
            licence_id.into(),
            release.into(),
            expires_at.into(),
            scope.user_id.into(),
            Millis(now).into(),
        ],
    )
    .await?;
    Ok(DownloadLink {
        url: format!("/market/downloads/{token}"),
        expires_at,
    })
}

/// A licence's public verification code: the sale's instant in hex, which keeps a group of
/// sales' codes side by side in their index (a random code put every sale's entry on a page of
/// its own), then 96 random bits, which make it unguessable.
fn verify_code(now: i64) -> String {
    format!(
        "{:012x}{}",
        now.clamp(0, 0xffff_ffff_ffff),
        random_secret(12)
    )
}

/// The platform operator's organisation, which keeps the market's books.
pub(crate) async fn operator_of(tx: &mut WriteTx<'_>) -> Result<Uuid> {
    let found: Option<Uuid> = tx
        .scalar_opt(
            "SELECT id FROM orgs WHERE kind = $1 ORDER BY created_at, id LIMIT 1",
            &[OrgKind::PlatformOperator.as_str().into()],
        )
        .await?;
    found.ok_or_else(|| MarketRule::NoOperator.into())
}

/// The account of `purpose` in `currency` the operator keeps for `holder`, opened if it is
/// not there yet.
pub(crate) async fn held_account(
    tx: &mut WriteTx<'_>,
    actor: &Actor,
    operator: Uuid,
    holder: Uuid,
    purpose: Purpose,
    currency: &str,
) -> Result<Uuid> {
    let found: Option<Uuid> = tx
        .scalar_opt(
            "SELECT id FROM ledger_accounts WHERE org_id = $1 AND holder_org_id = $2 AND purpose = $3 AND currency = $4",
            &[operator.into(), holder.into(), purpose.as_str().into(), currency.into()],
        )
        .await?;
    if let Some(id) = found {
        return Ok(id);
    }
    let slug: String = tx
        .scalar("SELECT slug FROM orgs WHERE id = $1", &[holder.into()])
        .await?;
    let name = match purpose {
        Purpose::Wallet => format!("Market wallet · {slug} · {currency}"),
        Purpose::RoyaltiesPayable => format!("Royalties owed · {slug} · {currency}"),
        Purpose::PlatformFees => format!("Market fees · {currency}"),
        _ => format!("Market settlement · {currency}"),
    };
    let id = new_id();
    let flags = purpose.default_flags();
    tx.execute(
        "INSERT INTO ledger_accounts (id, org_id, name, purpose, currency, flags, holder_org_id, created_at)
         VALUES ($2, $1, $3, $4, $5, $6, $7, $8)",
        &[
            operator.into(),
            id.into(),
            name.clone().into(),
            purpose.as_str().into(),
            currency.into(),
            flags.bits().into(),
            holder.into(),
            Millis(now_ms()).into(),
        ],
    )
    .await?;
    let change = Change::new(Some(operator), "account.opened", "account", id);
    let after = serde_json::json!({
        "id": id, "name": name, "purpose": purpose, "currency": currency, "holder_org_id": holder,
    });
    tx.record(actor, change.after(&after)).await?;
    Ok(id)
}

/// A party to a sale as the checkout reads it, with the agreement in force for it today.
struct Party {
    id: Uuid,
    name: String,
    kind: String,
    agreement: Option<(Uuid, i64)>,
}

impl FromRow for Party {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        let (id, name, kind) = (r.get()?, r.get()?, r.get()?);
        let (agreement, share): (Option<Uuid>, Option<i64>) = (r.get()?, r.get()?);
        Ok(Party {
            id,
            name,
            kind,
            agreement: agreement.zip(share),
        })
    }
}

/// The checkout's write (see [`Tenant::checkout`]), and each sale of a cart's order.
async fn sell(
    tx: &mut WriteTx<'_>,
    scope: &TenantScope,
    offer_id: Uuid,
    key: Option<String>,
    order_id: Option<Uuid>,
) -> Result<Licence> {
    let buyer = scope.org_id;
    let fingerprint = blake3::hash(offer_id.as_bytes()).to_hex().to_string();
    // The offer's listing locked first: every sale of it takes its turn here (and so does
    // taking one of its offers off sale), and a retry of a sale finds the first one written
    // once its turn comes. The offer is read after, as it stands under that lock.
    let listing: Option<Listing> = tx
        .query_opt(
            &format!(
                "SELECT {LISTING_COLS} FROM market_listings
                 WHERE id = (SELECT listing_id FROM market_offers WHERE id = $1){}",
                tx.lock_rows()
            ),
            &[offer_id.into()],
        )
        .await?;
    let offer: Option<SellerOffer> = tx
        .query_opt(
            &format!("SELECT org_id, {OFFER_COLS} FROM market_offers WHERE id = $1"),
            &[offer_id.into()],
        )
        .await?;
    let SellerOffer(seller, offer) = offer.ok_or(StoreError::NotFound { entity: "offer" })?;
    let listing_id = offer.listing_id;
    if let Some(k) = &key {
        let found: Option<(Uuid, String)> = tx
            .query_opt(
                "SELECT id, fingerprint FROM market_licences WHERE org_id = $1 AND key = $2",
                &[buyer.into(), k.into()],
            )
            .await?;
        if let Some((id, f)) = found {
            if f != fingerprint {
                return Err(MarketRule::KeyReused.into());
            }
            return tx
                .query_opt(
                    &format!(
                        "SELECT {LICENCE_COLS} FROM market_licences WHERE org_id = $1 AND id = $2"
                    ),
                    &[buyer.into(), id.into()],
                )
                .await?
                .ok_or(StoreError::NotFound { entity: "licence" });
        }
    }
    let listing = listing.ok_or(StoreError::NotFound { entity: "offer" })?;
    // The parties' names as they are now, for the certificate to say for ever, and the
    // platform's operator (the first, as `operator_of` finds it), whose books take the money.
    // With each, the agreement in force today (the seller's is the one that counts).
    let now = now_ms();
    let day = today(now);
    let orgs: Vec<Party> = tx
        .query(
            "SELECT o.id, o.name, o.kind, a.id, a.share_bp FROM orgs o
             LEFT JOIN market_agreements a ON a.id = (
                 SELECT g.id FROM market_agreements g WHERE g.org_id = o.id AND g.effective_from <= $4
                 ORDER BY g.effective_from DESC, g.created_at DESC LIMIT 1)
             WHERE o.id IN ($1, $2, (SELECT id FROM orgs WHERE kind = $3 ORDER BY created_at, id LIMIT 1))
             ORDER BY o.created_at, o.id",
            &[
                buyer.into(),
                seller.into(),
                OrgKind::PlatformOperator.as_str().into(),
                (&day).into(),
            ],
        )
        .await?;
    let party = |org: Uuid| orgs.iter().find(|p| p.id == org);
    let name_of = |org: Uuid| party(org).map(|p| p.name.clone()).unwrap_or_default();
    let operator = orgs
        .iter()
        .find(|p| p.kind == OrgKind::PlatformOperator.as_str())
        .map(|p| p.id);
    if listing.status != ListingStatus::Published {
        return Err(StoreError::NotFound { entity: "offer" });
    }
    if seller == buyer {
        return Err(MarketRule::OwnListing.into());
    }
    if !offer.active {
        return Err(MarketRule::NotForSale.into());
    }
    let terms = offer.terms(&day);
    if terms.ends_on < day {
        return Err(MarketRule::NotForSale.into());
    }
    // What stands in the way: any licence standing, for exclusive terms; only an exclusive
    // one otherwise. Their distinct terms: royalty-free sales of one day are one line.
    let text = format!(
        "SELECT DISTINCT media, territory, starts_on, ends_on, exclusive FROM market_licences
         WHERE seller_org_id = $1 AND listing_id = $2 AND state = 'active'{}",
        if terms.exclusive {
            ""
        } else {
            " AND exclusive = $3"
        }
    );
    let mut args: Vec<crate::Arg> = vec![seller.into(), listing_id.into()];
    if !terms.exclusive {
        args.push(true.into());
    }
    let standing: Vec<Standing> = tx.query(&text, &args).await?;
    if standing.iter().any(|s| s.0.collides(&terms)) {
        return Err(MarketRule::ExclusiveTaken.into());
    }

    // The money, in the operator's books. The wallet is read here for a clear refusal; the
    // ledger's batch locks it with the other accounts, in their one order, and checks again.
    let operator = operator.ok_or(MarketRule::NoOperator)?;
    let actor = Actor::of(scope);
    let cur = offer.currency.clone();
    // The buyer's wallet, what is owed to the seller and the platform's fees, in one read;
    // the last two are opened on the first sale in the currency.
    let found: Vec<HeldRow> = tx
        .query(
            "SELECT id, holder_org_id, purpose, debits_posted, credits_posted, debits_pending FROM ledger_accounts
             WHERE org_id = $1 AND currency = $2 AND holder_org_id IN ($3, $4, $1)
               AND purpose IN ('wallet', 'royalties_payable', 'platform_fees')",
            &[operator.into(), (&cur).into(), buyer.into(), seller.into()],
        )
        .await?;
    let held = |holder: Uuid, purpose: Purpose| {
        found
            .iter()
            .find(|a| a.1 == holder && a.2 == purpose.as_str())
    };
    let Some(&HeldRow(wallet, _, _, dp, cp, dpe)) = held(buyer, Purpose::Wallet) else {
        return Err(MarketRule::WalletShort.into());
    };
    if i128::from(cp) - i128::from(dp) - i128::from(dpe) < i128::from(offer.price) {
        return Err(MarketRule::WalletShort.into());
    }
    let owed = match held(seller, Purpose::RoyaltiesPayable) {
        Some(a) => a.0,
        None => {
            held_account(
                tx,
                &actor,
                operator,
                seller,
                Purpose::RoyaltiesPayable,
                &cur,
            )
            .await?
        }
    };
    let fees = match held(operator, Purpose::PlatformFees) {
        Some(a) => a.0,
        None => held_account(tx, &actor, operator, operator, Purpose::PlatformFees, &cur).await?,
    };
    // The seller's agreement in force today, snapshotted on the licence: a change announced
    // later never reaches this sale.
    let (agreement_id, share_bp) = match party(seller).and_then(|p| p.agreement) {
        Some((id, bp)) => (Some(id), bp),
        None => (None, DEFAULT_SHARE_BP),
    };
    let (contributor, fee) = market::split(offer.price, share_bp);
    let id = new_id();
    let mut batch = Vec::new();
    for (to, amount, what) in [(owed, contributor, "royalty"), (fees, fee, "fee")] {
        if amount > 0 {
            batch.push(TransferInput {
                kind: Some(Kind::Posted),
                debit_account_id: Some(wallet),
                credit_account_id: Some(to),
                amount: Some(amount),
                description: format!("licence {id} · {what}"),
                ..TransferInput::default()
            });
        }
    }
    // Recorded below with the licence, in one statement.
    let (written, mut changes) = apply_batch(tx, operator, batch, Some(scope.user_id))
        .await
        .map_err(|e| match e {
            StoreError::Rule(crate::Rule::Ledger(LedgerRule::ExceedsCredits)) => {
                MarketRule::WalletShort.into()
            }
            e => e,
        })?;
    let batch_id = written.first().map_or_else(new_id, |t| t.batch_id);
    let licence = Licence {
        id,
        org_id: buyer,
        seller_org_id: seller,
        listing_id,
        offer_id,
        kind: offer.kind,
        title: listing.title_en.clone(),
        title_zh: listing.title_zh.clone(),
        price: offer.price,
        currency: cur,
        media: terms.media,
        territory: terms.territory,
        starts_on: terms.starts_on,
        ends_on: terms.ends_on,
        exclusive: terms.exclusive,
        ai_training: offer.ai_training,
        share_bp,
        contributor_amount: contributor,
        fee_amount: fee,
        batch_id,
        refund_batch_id: None,
        state: "active".into(),
        key,
        created_by: scope.user_id,
        created_at: Millis(now),
        refunded_at: None,
        verify_code: Some(verify_code(now)),
        order_id,
    };
    tx.execute(
        &format!(
            "INSERT INTO market_licences ({LICENCE_COLS}, fingerprint, licensee_name, contributor_name, agreement_id)
             VALUES ($2, $1, $3, $4, $5, $6, $7, $24, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, NULL, 'active', $20, $21, $22, NULL, $25, $29, $23, $26, $27, $28)"
        ),
        &[
            buyer.into(),
            licence.id.into(),
            seller.into(),
            listing_id.into(),
            offer_id.into(),
            licence.kind.as_str().into(),
            (&licence.title).into(),
            licence.price.into(),
            (&licence.currency).into(),
            (&licence.media).into(),
            (&licence.territory).into(),
            (&licence.starts_on).into(),
            (&licence.ends_on).into(),
            licence.exclusive.into(),
            licence.ai_training.into(),
            share_bp.into(),
            contributor.into(),
            fee.into(),
            batch_id.into(),
            licence.key.clone().into(),
            licence.created_by.into(),
            licence.created_at.into(),
            fingerprint.into(),
            (&licence.title_zh).into(),
            licence.verify_code.clone().into(),
            name_of(buyer).into(),
            name_of(seller).into(),
            agreement_id.into(),
            order_id.into(),
        ],
    )
    .await?;
    let granted = Change::new(Some(buyer), "licence.granted", "licence", licence.id);
    changes.push(granted.after(&licence));
    let sale = Sale {
        licence_id: licence.id,
        listing_id,
        title: licence.title.clone(),
        title_zh: licence.title_zh.clone(),
        kind: licence.kind,
        price: licence.price,
        currency: licence.currency.clone(),
        share_bp,
        contributor_amount: contributor,
        fee_amount: fee,
        agreement_id,
        state: licence.state.clone(),
        created_at: licence.created_at,
        refunded_at: None,
        payout_id: None,
    };
    // The contributor hears of the sale, not of who bought.
    let news = Change::new(Some(seller), "sale.made", "sale", licence.id).after(&sale);
    tx.record_and_announce(&actor, changes, vec![news]).await?;
    Ok(licence)
}

/// The refund's write: see [`Tenant::refund`].
async fn refund(tx: &mut WriteTx<'_>, scope: &TenantScope, licence_id: Uuid) -> Result<Licence> {
    let buyer = scope.org_id;
    let mut licence: Licence = tx
        .query_opt(
            &format!(
                "SELECT {LICENCE_COLS} FROM market_licences WHERE org_id = $1 AND id = $2{}",
                tx.lock_rows()
            ),
            &[buyer.into(), licence_id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound { entity: "licence" })?;
    let now = now_ms();
    if licence.state != "active" || now - licence.created_at.0 > REFUND_WINDOW_MS {
        return Err(MarketRule::RefundClosed.into());
    }
    // Once a payout has paid the contributor its share, the market no longer holds it: refused
    // whatever else the contributor is owed.
    let paid: Option<Option<Uuid>> = tx
        .scalar_opt(
            "SELECT payout_id FROM market_licences WHERE org_id = $1 AND id = $2",
            &[buyer.into(), licence.id.into()],
        )
        .await?;
    if paid.flatten().is_some() {
        return Err(MarketRule::PaidOut.into());
    }
    let operator = operator_of(tx).await?;
    let actor = Actor::of(scope);
    let cur = licence.currency.clone();
    let wallet = held_account(tx, &actor, operator, buyer, Purpose::Wallet, &cur).await?;
    let owed = held_account(
        tx,
        &actor,
        operator,
        licence.seller_org_id,
        Purpose::RoyaltiesPayable,
        &cur,
    )
    .await?;
    let fees = held_account(tx, &actor, operator, operator, Purpose::PlatformFees, &cur).await?;
    let mut batch = Vec::new();
    for (from, amount, what) in [
        (owed, licence.contributor_amount, "royalty"),
        (fees, licence.fee_amount, "fee"),
    ] {
        if amount > 0 {
            batch.push(TransferInput {
                kind: Some(Kind::Posted),
                debit_account_id: Some(from),
                credit_account_id: Some(wallet),
                amount: Some(amount),
                description: format!("refund of licence {} · {what}", licence.id),
                ..TransferInput::default()
            });
        }
    }
    let written = write_batch(tx, operator, &actor, batch, Some(scope.user_id))
        .await
        .map_err(|e| match e {
            StoreError::Rule(crate::Rule::Ledger(LedgerRule::ExceedsCredits)) => {
                MarketRule::PaidOut.into()
            }
            e => e,
        })?;
    licence.refund_batch_id = written.first().map(|t| t.batch_id);
    licence.state = "refunded".into();
    licence.refunded_at = Some(Millis(now));
    tx.execute(
        "UPDATE market_licences SET state = 'refunded', refund_batch_id = $3, refunded_at = $4
         WHERE org_id = $1 AND id = $2",
        &[
            buyer.into(),
            licence.id.into(),
            licence.refund_batch_id.into(),
            Millis(now).into(),
        ],
    )
    .await?;
    tx.record(
        &actor,
        Change::new(Some(buyer), "licence.refunded", "licence", licence.id).after(&licence),
    )
    .await?;
    tx.announce(
        Change::new(
            Some(licence.seller_org_id),
            "sale.refunded",
            "sale",
            licence.id,
        )
        .after(&serde_json::json!({ "licence_id": licence.id, "listing_id": licence.listing_id })),
    )
    .await?;
    Ok(licence)
}

#[cfg(test)]
mod tests {
    #[test]
    fn verification_codes_sort_by_their_sale_and_are_never_alike() {
        let (a, b) = (
            super::verify_code(1_796_000_000_000),
            super::verify_code(1_796_000_000_001),
        );
        assert_eq!((a.len(), b.len()), (28, 28));
        assert!(a < b, "{a} {b}");
        assert_ne!(a[12..], super::verify_code(1_796_000_000_000)[12..]);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
    }
}
