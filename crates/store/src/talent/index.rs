//! The talent directory's search: every profile in one index held in memory by each server,
//! built from the database at start and kept from the outbox's profile events, serving words,
//! facets and meaning in one pass.
//!
//! - **Words** are cut as the storefront cuts them (Chinese by jieba, English stemmed) from a
//!   profile's name, crew roles (their names in English and Chinese), skills, headline, city and
//!   bio. Every word of a query must be found; a word also finds the words it begins (`comp` →
//!   compositor), below an exact find. A word weighs by where it was found (a name or a role
//!   over a bio) and by how rare it is.
//! - **Facets** (department, crew role, language, country) are counted over what the words
//!   find, each without its own filter, as a shop's sidebar counts them.
//! - **Meaning**: a profile's headline, roles, skills, bio and showreel's note are embedded by
//!   the sentence model (all-MiniLM-L6-v2); a query's vector ranks people by cosine, facets
//!   applied. Vectors are kept in the database by the text they were made from, so a start
//!   reads them rather than running the model on every profile.
//! - A profile is found by its own organisation and, when shown to the platform, by everyone;
//!   what is sensitive (birth date, e-mail address) is never indexed.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::RwLock;

use mstation_core::market::valid_territory;
use mstation_core::talent::{self, Visibility};
use mstation_core::validate::FieldError;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::Profile;
use crate::{Arg, DbError, FromRow, Millis, Platform, Result, Row, Tenant};

/// The length of a profile's vector (all-MiniLM-L6-v2).
pub const DIMS: usize = 384;
/// The most words of a query read.
pub const MAX_WORDS: usize = 8;
/// The least cosine at which a person is said to be near a query's meaning.
pub const MEANING_FLOOR: f32 = 0.2;
/// The most words a prefix stands for.
const MOST_EXPANSIONS: usize = 64;

/// One profile as the index knows it.
#[derive(Debug, Clone)]
pub struct Entry {
    pub id: Uuid,
    pub org_id: Uuid,
    /// Shown to every organisation (else to its own only).
    pub platform: bool,
    pub name: String,
    pub headline: String,
    pub bio: String,
    /// What its showreel shows, as its keeper wrote it; empty without one.
    pub reel: String,
    pub department: String,
    pub roles: Vec<String>,
    pub skills: Vec<String>,
    pub languages: Vec<String>,
    pub city: String,
    pub country: String,
    /// Minor units of `currency` a day, if said.
    pub day_rate: Option<i64>,
    pub currency: Option<String>,
    /// Milliseconds since the epoch: the newest first when nothing ranks.
    pub created_at: i64,
    /// The vector kept for it, with the digest of the text it was made from (it is made
    /// again when the text has changed since).
    pub vector: Option<(String, Vec<f32>)>,
}

/// The sentence model the vectors are made with.
pub const MODEL: &str = "all-MiniLM-L6-v2";

/// The text a profile's vector is made from: what it says of the work, not who or where.
fn meaning_text(e: &Entry, role_name: impl Fn(&str) -> String) -> String {
    let roles: Vec<String> = e.roles.iter().map(|r| role_name(r)).collect();
    let mut parts = vec![e.headline.trim().to_string()];
    if !roles.is_empty() {
        parts.push(roles.join(", "));
    }
    if !e.skills.is_empty() {
        parts.push(e.skills.join(", "));
    }
    parts.push(e.bio.trim().to_string());
    parts.push(e.reel.trim().to_string());
    parts.retain(|p| !p.is_empty());
    parts.join(". ")
}

/// The digest a vector is kept under: of its text and the model it was made with.
pub fn digest(text: &str) -> String {
    let mut h = blake3::Hasher::new();
    h.update(MODEL.as_bytes());
    h.update(&[0]);
    h.update(text.as_bytes());
    h.finalize().to_hex()[..32].to_string()
}

/// What a search asks.
#[derive(Debug, Clone, Default)]
pub struct Ask {
    pub words: String,
    /// The query's vector: ranks by meaning instead of words.
    pub meaning: Option<Vec<f32>>,
    pub department: Option<String>,
    pub role: Option<String>,
    pub language: Option<String>,
    pub country: Option<String>,
    pub offset: usize,
    pub limit: usize,
}

fn given(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|v| !v.is_empty())
}

/// The most people a search pages past.
pub const MOST_OFFSET: usize = 10_000;
/// The most people a page shows.
pub const MOST_LIMIT: usize = 100;

impl Ask {
    /// A search as asked, checked: the taxonomy's department and role keys, a language of the
    /// platform, a country; at most 200 characters of words; a page within reach.
    pub fn checked(
        words: &str,
        department: Option<&str>,
        role: Option<&str>,
        language: Option<&str>,
        country: Option<&str>,
        offset: usize,
        limit: usize,
    ) -> std::result::Result<Ask, FieldError> {
        if words.chars().count() > 200 {
            return Err(FieldError::new("q", "too_long"));
        }
        let department = match given(department) {
            Some(d) if !talent::is_department(d) => {
                return Err(FieldError::new("department", "not_a_department"));
            }
            d => d.map(str::to_string),
        };
        let role = match given(role) {
            Some(r) if talent::department_of(r).is_none() => {
                return Err(FieldError::new("role", "not_a_crew_role"));
            }
            r => r.map(str::to_string),
        };
        let language = match given(language).map(str::to_lowercase) {
            Some(l) if !talent::LANGUAGES.contains(&l.as_str()) => {
                return Err(FieldError::new("language", "not_a_language"));
            }
            l => l,
        };
        let country = match given(country).map(str::to_uppercase) {
            Some(c) if c == "WORLD" || !valid_territory(&c) => {
                return Err(FieldError::new("country", "not_a_country"));
            }
            c => c,
        };
        if offset > MOST_OFFSET {
            return Err(FieldError::new("offset", "out_of_range"));
        }
        if !(1..=MOST_LIMIT).contains(&limit) {
            return Err(FieldError::new("limit", "out_of_range"));
        }
        Ok(Ask {
            words: words.trim().to_string(),
            meaning: None,
            department,
            role,
            language,
            country,
            offset,
            limit,
        })
    }
}

/// A facet's value and how many found people have it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TalentFacetCount {
    pub value: String,
    pub count: usize,
}

/// The facets of a search, most common first.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct TalentFacets {
    pub department: Vec<TalentFacetCount>,
    pub role: Vec<TalentFacetCount>,
    pub language: Vec<TalentFacetCount>,
    pub country: Vec<TalentFacetCount>,
}

/// What a search found: the page's people, best first, with their scores.
#[derive(Debug, Clone, Default)]
pub struct FoundPeople {
    pub hits: Vec<(Uuid, f32)>,
    pub total: usize,
    pub facets: TalentFacets,
}

/// Where a word was found, and what that weighs.
#[derive(Clone, Copy)]
enum Field {
    Name = 6,
    Role = 5,
    Skill = 4,
    Headline = 3,
    City = 2,
    Bio = 1,
}

/// A facet's value as the index counts it: its number in `Inner::values`.
type Value = u32;
/// The value no profile has (a filter for something never written).
const NO_VALUE: Value = Value::MAX;

struct Doc {
    id: Uuid,
    /// The terms it is posted under.
    terms: Vec<u32>,
    /// Without a vector for its text as it is: the text, and its digest.
    pending: Option<(String, String)>,
}

/// What a search reads of each profile it meets (who may find it, its facets, its age), kept
/// apart from the rest of it and close together: one cache line a profile.
#[derive(Clone, Copy)]
struct Card {
    org: Uuid,
    platform: bool,
    department: Value,
    /// A bit a crew role of the taxonomy, in its order (`role_bit`).
    roles: u128,
    /// A bit a language of the taxonomy, in its order (`language_bit`).
    languages: u32,
    /// None: not said.
    country: Option<Value>,
    created_at: i64,
}

impl Card {
    fn shown_to(&self, org: Uuid) -> bool {
        self.platform || self.org == org
    }
}

/// What matching weighs of a profile before it reads the database (`TalentIndex::candidates`):
/// kept by slot beside its card, read only by a match.
#[derive(Debug, Clone)]
pub struct Facts {
    pub id: Uuid,
    /// The main one first.
    pub roles: Vec<String>,
    pub skills: Vec<String>,
    pub languages: Vec<String>,
    pub country: String,
    pub day_rate: Option<i64>,
    pub currency: Option<String>,
}

/// Vectors in eight bits, for a first scan that reads a quarter of what the floats take: each
/// vector's numbers divided by its largest magnitude over 127 and rounded. The estimate of a
/// cosine this gives is within a bound worked out from the rounding (`Coded::bound`), so the
/// best of a search are found among those the bound lets near, and scored exactly from the
/// floats.
#[derive(Default)]
struct Coded {
    /// `DIMS` a slot.
    codes: Vec<i8>,
    /// A slot's scale: its number k stands for k × scale; 0: no vector.
    scales: Vec<f32>,
    /// A slot's share of the bound: scale × (½ Σ|k| + DIMS / 4).
    slack: Vec<f32>,
}

/// A query's vector in eight bits, with what its bound needs.
struct CodedQuery {
    codes: Vec<i8>,
    scale: f32,
    /// ½ Σ|k|.
    half_l1: f32,
}

/// `v` in eight bits: its codes, its scale, and ½ Σ|k| (0 scale for a vector of zeros).
fn code(v: &[f32]) -> (Vec<i8>, f32, f32) {
    let most = v.iter().fold(0f32, |m, x| m.max(x.abs()));
    if most == 0.0 || !most.is_finite() {
        return (vec![0; v.len()], 0.0, 0.0);
    }
    let scale = most / 127.0;
    let codes: Vec<i8> = v
        .iter()
        .map(|x| (x / scale).round().clamp(-127.0, 127.0) as i8)
        .collect();
    let half_l1 = codes
        .iter()
        .map(|k| f32::from(k.unsigned_abs()))
        .sum::<f32>()
        / 2.0;
    (codes, scale, half_l1)
}

impl Coded {
    fn grow(&mut self, slots: usize) {
        self.codes.resize(slots * DIMS, 0);
        self.scales.resize(slots, 0.0);
        self.slack.resize(slots, 0.0);
    }

    /// Keeps `v` (None: none) for `slot`.
    fn set(&mut self, slot: usize, v: Option<&[f32]>) {
        let (codes, scale, half_l1) = match v {
            Some(v) => code(v),
            None => (vec![0; DIMS], 0.0, 0.0),
        };
        self.codes[slot * DIMS..(slot + 1) * DIMS].copy_from_slice(&codes);
        self.scales[slot] = scale;
        self.slack[slot] = scale * (half_l1 + DIMS as f32 / 4.0);
    }

    fn query(q: &[f32]) -> CodedQuery {
        let (codes, scale, half_l1) = code(q);
        CodedQuery {
            codes,
            scale,
            half_l1,
        }
    }

    /// The estimated cosine of `q` and every slot's vector (0 for a slot without one), the
    /// slots shared out between the machine's cores: the scan is bound by the memory it reads.
    fn estimates(&self, q: &CodedQuery) -> Vec<f32> {
        let slots = self.scales.len();
        let mut out = vec![0f32; slots];
        let parts = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
        let per = slots.div_ceil(parts).max(4096);
        let work = |first: usize, out: &mut [f32]| {
            for (i, e) in out.iter_mut().enumerate() {
                let slot = first + i;
                let k = dot8(&q.codes, &self.codes[slot * DIMS..(slot + 1) * DIMS]);
                *e = q.scale * self.scales[slot] * k as f32;
            }
        };
        std::thread::scope(|s| {
            let mut chunks = out.chunks_mut(per).enumerate();
            let mine = chunks.next();
            for (i, chunk) in chunks {
                s.spawn(move || work(i * per, chunk));
            }
            if let Some((_, chunk)) = mine {
                work(0, chunk);
            }
        });
        out
    }

    /// How far the estimate may be from the cosine. With q = sq (a + α) and v = sv (b + β),
    /// a and b the codes and |α|, |β| ≤ ½ each: q·v − sq sv a·b = sq sv Σ (a β + α b + α β),
    /// at most sq sv (½ Σ|a| + ½ Σ|b| + DIMS / 4); and a little for the floats' own rounding.
    fn bound(&self, q: &CodedQuery, slot: usize) -> f32 {
        q.scale * (self.scales[slot] * q.half_l1 + self.slack[slot]) + 1e-5
    }
}

#[derive(Default)]
struct Inner {
    /// Facet values (departments, roles, languages, countries) by number, and their numbers.
    names: Vec<String>,
    values: HashMap<String, Value>,
    docs: Vec<Option<Doc>>,
    /// By slot, beside `docs`.
    cards: Vec<Option<Card>>,
    /// By slot, beside `docs`.
    facts: Vec<Option<Facts>>,
    slots: HashMap<Uuid, u32>,
    free: Vec<u32>,
    /// Term → its id, in order (for prefixes).
    dictionary: BTreeMap<String, u32>,
    /// By term id: (slot, weight), in slot order.
    postings: Vec<Vec<(u32, u8)>>,
    /// `DIMS` numbers a slot.
    vectors: Vec<f32>,
    /// The same vectors in eight bits (`Coded`), scanned first: a quarter of the memory to
    /// read.
    coded: Coded,
    /// The slots of the profiles waiting for a vector of their text.
    waiting: BTreeSet<u32>,
    live: usize,
    /// How many profiles are shown to the platform, and how many each organisation keeps to
    /// itself: what a caller may find, which alone a word's rarity is counted over.
    shown: usize,
    private: HashMap<Uuid, usize>,
}

/// The index. Reads share it; a change takes it a moment alone.
pub struct TalentIndex {
    inner: RwLock<Inner>,
    /// Crew-role key → its names (English, Chinese).
    role_names: HashMap<String, (String, String)>,
}

impl std::fmt::Debug for TalentIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TalentIndex")
            .field("profiles", &self.len())
            .finish()
    }
}

fn words(text: &str) -> Vec<String> {
    crate::market::search::words(text)
}

impl TalentIndex {
    /// An empty index; `role_names` gives each crew role's names (English, Chinese), by
    /// which it is also found; the English one tells the model what the role is.
    pub fn new(role_names: HashMap<String, (String, String)>) -> TalentIndex {
        TalentIndex {
            inner: RwLock::new(Inner::default()),
            role_names,
        }
    }

    /// How many of the profiles `org` may find still wait for a vector of their text.
    pub fn waiting(&self, org: Uuid) -> usize {
        let inner = self.read();
        inner
            .waiting
            .iter()
            .filter_map(|&slot| inner.cards[slot as usize].as_ref())
            .filter(|c| c.shown_to(org))
            .count()
    }

    /// Those of `ids` that wait for a vector of their text: id, text, digest.
    pub fn pending_of(&self, ids: &[Uuid]) -> Vec<(Uuid, String, String)> {
        let inner = self.read();
        ids.iter()
            .filter_map(|id| {
                let d = inner.docs[*inner.slots.get(id)? as usize].as_ref()?;
                let (t, g) = d.pending.as_ref()?;
                Some((d.id, t.clone(), g.clone()))
            })
            .collect()
    }

    /// Up to `most` profiles without a vector for their text as it is: id, text, digest.
    pub fn wanting_vectors(&self, most: usize) -> Vec<(Uuid, String, String)> {
        let inner = self.read();
        inner
            .waiting
            .iter()
            .filter_map(|&slot| inner.docs[slot as usize].as_ref())
            .filter_map(|d| {
                d.pending
                    .as_ref()
                    .map(|(t, g)| (d.id, t.clone(), g.clone()))
            })
            .take(most)
            .collect()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    /// How many profiles it holds.
    pub fn len(&self) -> usize {
        self.read().live
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many of its profiles have a vector.
    pub fn with_vectors(&self) -> usize {
        self.read()
            .coded
            .scales
            .iter()
            .filter(|s| **s > 0.0)
            .count()
    }

    /// Replaces everything with `entries`.
    pub fn rebuild(&self, entries: Vec<Entry>) {
        let mut fresh = Inner::default();
        for e in entries {
            self.put(&mut fresh, e);
        }
        *self.write() = fresh;
    }

    /// Puts (or puts again) `put` and takes out `gone`.
    pub fn apply(&self, put: Vec<Entry>, gone: &[Uuid]) {
        let mut inner = self.write();
        for id in gone {
            remove(&mut inner, *id);
        }
        for e in put {
            self.put(&mut inner, e);
        }
    }

    /// Gives a profile the vector made from the text of `digest`, if that is still its text.
    pub fn set_vector(&self, id: Uuid, digest: &str, vector: &[f32]) {
        if vector.len() != DIMS {
            return;
        }
        let mut inner = self.write();
        let Some(&slot) = inner.slots.get(&id) else {
            return;
        };
        let Some(Some(d)) = inner.docs.get_mut(slot as usize) else {
            return;
        };
        if d.pending.as_ref().is_none_or(|(_, g)| g != digest) {
            return;
        }
        d.pending = None;
        inner.waiting.remove(&slot);
        place(&mut inner, slot, Some(vector));
    }

    fn put(&self, inner: &mut Inner, e: Entry) {
        remove(inner, e.id);
        let slot = match inner.free.pop() {
            Some(s) => s,
            None => {
                inner.docs.push(None);
                inner.cards.push(None);
                inner.facts.push(None);
                inner.vectors.resize(inner.docs.len() * DIMS, 0.0);
                let slots = inner.docs.len();
                inner.coded.grow(slots);
                (inner.docs.len() - 1) as u32
            }
        };
        // Each term once, at the weight of the best place it was found.
        let mut found: HashMap<String, u8> = HashMap::new();
        let mut see = |text: &str, field: Field| {
            for w in words(text) {
                let weight = found.entry(w).or_insert(0);
                *weight = (*weight).max(field as u8);
            }
        };
        see(&e.name, Field::Name);
        for r in &e.roles {
            see(r, Field::Role);
            if let Some((en, zh)) = self.role_names.get(r) {
                see(en, Field::Role);
                see(zh, Field::Role);
            }
        }
        for s in &e.skills {
            see(s, Field::Skill);
        }
        see(&e.headline, Field::Headline);
        see(&e.city, Field::City);
        see(&e.bio, Field::Bio);
        see(&e.reel, Field::Bio);
        let mut terms = Vec::with_capacity(found.len());
        for (w, weight) in found {
            let next = inner.postings.len() as u32;
            let t = *inner.dictionary.entry(w).or_insert(next);
            if t == next {
                inner.postings.push(Vec::new());
            }
            let list = &mut inner.postings[t as usize];
            let at = list.partition_point(|(s, _)| *s < slot);
            list.insert(at, (slot, weight));
            terms.push(t);
        }
        let text = meaning_text(&e, |r| {
            self.role_names
                .get(r)
                .map(|(en, _)| en.clone())
                .unwrap_or_else(|| r.replace('_', " "))
        });
        let wanted = digest(&text);
        let pending = match &e.vector {
            Some((g, v)) if v.len() == DIMS && *g == wanted => {
                place(inner, slot, Some(v));
                None
            }
            // Nothing to mean: no vector, and none wanted.
            _ if text.is_empty() => None,
            _ => {
                inner.waiting.insert(slot);
                Some((text, wanted))
            }
        };
        inner.slots.insert(e.id, slot);
        let department = inner.value(&e.department);
        let roles = e.roles.iter().map(|r| role_bit(r)).fold(0, |a, b| a | b);
        let languages = e
            .languages
            .iter()
            .map(|l| language_bit(l))
            .fold(0, |a, b| a | b);
        let country = (!e.country.is_empty()).then(|| inner.value(&e.country));
        inner.docs[slot as usize] = Some(Doc {
            id: e.id,
            terms,
            pending,
        });
        inner.cards[slot as usize] = Some(Card {
            org: e.org_id,
            platform: e.platform,
            department,
            roles,
            languages,
            country,
            created_at: e.created_at,
        });
        inner.facts[slot as usize] = Some(Facts {
            id: e.id,
            roles: e.roles,
            skills: e.skills,
            languages: e.languages,
            country: e.country,
            day_rate: e.day_rate,
            currency: e.currency,
        });
        inner.live += 1;
        if e.platform {
            inner.shown += 1;
        } else {
            *inner.private.entry(e.org_id).or_default() += 1;
        }
    }

    /// Hands `each` the facts of every profile `org` may find that has one of the crew roles
    /// `roles` or, with none given, whose words (as a search finds them: a word also finds
    /// those it begins) hold every word of one of `skills` (a skill without a word a search
    /// would find, such as `IT`: whose skills name it). Called under the index's read lock:
    /// `each` only weighs.
    pub fn candidates(
        &self,
        org: Uuid,
        roles: &[&str],
        skills: &[String],
        mut each: impl FnMut(&Facts),
    ) {
        let inner = self.read();
        let slots = inner.docs.len();
        let mut take = |slot: usize| {
            if let (Some(Some(card)), Some(Some(facts))) =
                (inner.cards.get(slot), inner.facts.get(slot))
                && card.shown_to(org)
            {
                each(facts);
            }
        };
        if !roles.is_empty() {
            let bits = roles.iter().map(|r| role_bit(r)).fold(0, |a, b| a | b);
            for slot in 0..slots {
                if inner.cards[slot].is_some_and(|c| c.roles & bits != 0) {
                    take(slot);
                }
            }
            return;
        }
        let mut found = vec![false; slots];
        // For one skill, how many of its words each slot has so far.
        let mut has = vec![0u8; slots];
        for skill in skills {
            let words: Vec<String> = words(skill).into_iter().take(MAX_WORDS).collect();
            if words.is_empty() {
                // Nothing a search would find (`IT`, `C++`): those who name the skill itself.
                for (f, facts) in found.iter_mut().zip(&inner.facts) {
                    *f |= facts
                        .as_ref()
                        .is_some_and(|x| x.skills.iter().any(|t| same_word(t, skill)));
                }
                continue;
            }
            has.fill(0);
            for (i, w) in words.iter().enumerate() {
                let expansions = inner
                    .dictionary
                    .range(w.clone()..)
                    .take_while(|(t, _)| t.starts_with(w.as_str()))
                    .filter(|(_, t)| !inner.postings[**t as usize].is_empty())
                    .take(MOST_EXPANSIONS);
                for (_, &t) in expansions {
                    for &(slot, _) in &inner.postings[t as usize] {
                        let h = &mut has[slot as usize];
                        if usize::from(*h) == i {
                            *h += 1;
                        }
                    }
                }
            }
            for (f, h) in found.iter_mut().zip(&has) {
                *f |= usize::from(*h) == words.len();
            }
        }
        for (slot, f) in found.into_iter().enumerate() {
            if f {
                take(slot);
            }
        }
    }

    /// The people `org` may find who fit `ask`, best first, with the facets of all found.
    pub fn search(&self, org: Uuid, ask: &Ask) -> FoundPeople {
        let inner = self.read();
        let query: Vec<String> = words(&ask.words).into_iter().take(MAX_WORDS).collect();
        // The people the words find, with their scores; None: everyone (no words asked).
        let by_words: Option<Vec<f32>> = match (&ask.meaning, query.is_empty()) {
            (None, false) => Some(inner.find_words(&query, org)),
            _ => None,
        };
        let wanted = |v: &Option<String>| {
            v.as_deref()
                .map(|v| inner.values.get(v).copied().unwrap_or(NO_VALUE))
        };
        let (department, country) = (wanted(&ask.department), wanted(&ask.country));
        // A role or language outside the taxonomy: no bit, so nobody has it.
        let role = ask.role.as_deref().map(role_bit);
        let language = ask.language.as_deref().map(language_bit);
        let mut counts: [Vec<u32>; 4] = [
            vec![0; inner.names.len()],
            vec![0; 128],
            vec![0; 32],
            vec![0; inner.names.len()],
        ];
        let mut ranked: Vec<(f32, i64, u32)> = Vec::new();
        let mut consider = |slot: u32, score: f32| {
            let Some(Some(d)) = inner.cards.get(slot as usize) else {
                return;
            };
            if !d.shown_to(org) {
                return;
            }
            let fails = [
                department.is_some_and(|f| d.department != f),
                role.is_some_and(|bit| d.roles & bit == 0),
                language.is_some_and(|bit| d.languages & bit == 0),
                country.is_some_and(|f| d.country != Some(f)),
            ];
            let failed = fails.iter().filter(|f| **f).count();
            if failed > 1 {
                return;
            }
            for (i, c) in counts.iter_mut().enumerate() {
                // A facet counts what the other filters let through.
                if failed == 1 && !fails[i] {
                    continue;
                }
                match i {
                    0 => c[d.department as usize] += 1,
                    1 => {
                        let mut bits = d.roles;
                        while bits != 0 {
                            c[bits.trailing_zeros() as usize] += 1;
                            bits &= bits - 1;
                        }
                    }
                    2 => {
                        let mut bits = d.languages;
                        while bits != 0 {
                            c[bits.trailing_zeros() as usize] += 1;
                            bits &= bits - 1;
                        }
                    }
                    _ => {
                        if let Some(k) = d.country {
                            c[k as usize] += 1;
                        }
                    }
                }
            }
            if failed == 0 {
                ranked.push((score, d.created_at, slot));
            }
        };
        // By meaning, the floor is applied to the eight-bit estimates, and the best are scored
        // exactly below.
        let coded_query = ask
            .meaning
            .as_deref()
            .filter(|q| q.len() == DIMS)
            .map(Coded::query);
        match (&coded_query, by_words) {
            (Some(q), _) => {
                for (slot, estimate) in inner.coded.estimates(q).into_iter().enumerate() {
                    if estimate >= MEANING_FLOOR {
                        consider(slot as u32, estimate);
                    }
                }
            }
            (None, _) if ask.meaning.is_some() => {}
            (None, Some(found)) => {
                for (slot, score) in found.into_iter().enumerate() {
                    if score > 0.0 {
                        consider(slot as u32, score);
                    }
                }
            }
            (None, None) => {
                for slot in 0..inner.docs.len() {
                    consider(slot as u32, 0.0);
                }
            }
        }
        let total = ranked.len();
        // Best first; of equal scores the newest, then the slot (a stable order).
        let order = |a: &(f32, i64, u32), b: &(f32, i64, u32)| {
            b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2))
        };
        let want = (ask.offset + ask.limit).min(total);
        if let (Some(q), Some(exact)) = (&coded_query, ask.meaning.as_deref())
            && want > 0
        {
            // The `want` best by cosine are among those whose estimate, raised by its bound,
            // reaches the `want`-th best estimate lowered by its own: at least `want` people's
            // cosines reach that. Those alone are scored from the floats.
            let mut lows: Vec<f32> = ranked
                .iter()
                .map(|(e, _, slot)| e - inner.coded.bound(q, *slot as usize))
                .collect();
            let reach = if want < lows.len() {
                *lows
                    .select_nth_unstable_by(want - 1, |a, b| b.total_cmp(a))
                    .1
            } else {
                f32::NEG_INFINITY
            };
            ranked.retain(|(e, _, slot)| e + inner.coded.bound(q, *slot as usize) >= reach);
            for (score, _, slot) in ranked.iter_mut() {
                let at = *slot as usize * DIMS;
                *score = dot(exact, &inner.vectors[at..at + DIMS]);
            }
        }
        if want < total && want > 0 {
            ranked.select_nth_unstable_by(want - 1, order);
            ranked.truncate(want);
        }
        ranked.sort_unstable_by(order);
        let hits = ranked
            .iter()
            .skip(ask.offset)
            .take(ask.limit)
            .filter_map(|(score, _, slot)| {
                inner.docs[*slot as usize].as_ref().map(|d| (d.id, *score))
            })
            .collect();
        let named = |facet: usize, k: usize| -> String {
            match facet {
                1 => talent::all_roles().nth(k).unwrap_or_default().to_string(),
                2 => talent::LANGUAGES
                    .get(k)
                    .copied()
                    .unwrap_or_default()
                    .to_string(),
                _ => inner.names[k].clone(),
            }
        };
        let mut facet = 0;
        let [department, role, language, country] = counts.map(|c| {
            facet += 1;
            let mut v: Vec<TalentFacetCount> = c
                .into_iter()
                .enumerate()
                .filter(|(_, n)| *n > 0)
                .map(|(k, n)| TalentFacetCount {
                    value: named(facet - 1, k),
                    count: n as usize,
                })
                .collect();
            v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
            v
        });
        FoundPeople {
            hits,
            total,
            facets: TalentFacets {
                department,
                role,
                language,
                country,
            },
        }
    }
}

impl Inner {
    /// The number of a facet's value, given one if new.
    fn value(&mut self, v: &str) -> Value {
        if let Some(&k) = self.values.get(v) {
            return k;
        }
        let k = self.names.len() as Value;
        self.names.push(v.to_string());
        self.values.insert(v.to_string(), k);
        k
    }

    /// Each slot's score for `query`, 0 where not every word of it is found: each word
    /// scored by where and how rare it is; a word also finds the words it begins, at less.
    /// A word's rarity is counted over the profiles `org` may find, so that neither a score
    /// nor an order tells of another organisation's private profiles.
    fn find_words(&self, query: &[String], org: Uuid) -> Vec<f32> {
        let n = (self.shown + self.private.get(&org).copied().unwrap_or(0)).max(1) as f32;
        let mut found: Option<Vec<f32>> = None;
        let mut word = vec![0f32; self.docs.len()];
        for w in query {
            word.fill(0.0);
            self.one_word(w, n, org, &mut word);
            found = Some(match found {
                None => word.clone(),
                Some(mut so_far) => {
                    for (acc, s) in so_far.iter_mut().zip(&word) {
                        *acc = if *acc > 0.0 && *s > 0.0 {
                            *acc + s
                        } else {
                            0.0
                        };
                    }
                    so_far
                }
            });
        }
        found.unwrap_or_default()
    }

    /// Marks in `best` (one number a slot) the best score of each slot one word finds.
    fn one_word(&self, word: &str, n: f32, org: Uuid, best: &mut [f32]) {
        let may_see = |slot: u32| {
            self.cards[slot as usize]
                .as_ref()
                .is_some_and(|c| c.shown_to(org))
        };
        // Terms no profile holds any more are passed over before the most are counted.
        let expansions = self
            .dictionary
            .range(word.to_string()..)
            .take_while(|(t, _)| t.starts_with(word))
            .filter(|(_, t)| !self.postings[**t as usize].is_empty())
            .take(MOST_EXPANSIONS);
        for (term, &t) in expansions {
            let list = &self.postings[t as usize];
            let seen = list.iter().filter(|(slot, _)| may_see(*slot)).count();
            if seen == 0 {
                continue;
            }
            let idf = (1.0 + n / seen as f32).ln();
            let exact = if term == word { 1.0 } else { 0.6 };
            for &(slot, weight) in list {
                let s = f32::from(weight) * idf * exact;
                let b = &mut best[slot as usize];
                if s > *b {
                    *b = s;
                }
            }
        }
    }
}

/// Whether two words are the same in any case.
pub(crate) fn same_word(a: &str, b: &str) -> bool {
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

/// A crew role's bit: its place in the taxonomy (none for a key outside it).
fn role_bit(role: &str) -> u128 {
    talent::all_roles()
        .position(|r| r == role)
        .filter(|k| *k < 128)
        .map_or(0, |k| 1 << k)
}

/// A language's bit: its place in the taxonomy (none for a code outside it).
fn language_bit(language: &str) -> u32 {
    talent::LANGUAGES
        .iter()
        .position(|l| *l == language)
        .filter(|k| *k < 32)
        .map_or(0, |k| 1 << k)
}

fn remove(inner: &mut Inner, id: Uuid) {
    let Some(slot) = inner.slots.remove(&id) else {
        return;
    };
    inner.facts[slot as usize] = None;
    if let Some(card) = inner.cards[slot as usize].take() {
        if card.platform {
            inner.shown -= 1;
        } else if let Some(n) = inner.private.get_mut(&card.org) {
            *n -= 1;
            if *n == 0 {
                inner.private.remove(&card.org);
            }
        }
    }
    if let Some(doc) = inner.docs[slot as usize].take() {
        for t in doc.terms {
            let list = &mut inner.postings[t as usize];
            if let Ok(at) = list.binary_search_by_key(&slot, |(s, _)| *s) {
                list.remove(at);
            }
        }
        inner.live -= 1;
    }
    inner.waiting.remove(&slot);
    place(inner, slot, None);
    inner.free.push(slot);
}

/// Keeps `v` (None: none) as `slot`'s vector, in floats and in eight bits.
fn place(inner: &mut Inner, slot: u32, v: Option<&[f32]>) {
    let at = slot as usize * DIMS;
    match v {
        Some(v) => inner.vectors[at..at + DIMS].copy_from_slice(v),
        None => inner.vectors[at..at + DIMS].fill(0.0),
    }
    inner.coded.set(slot as usize, v);
}

/// The dot product of two vectors, sixteen lanes at a time (what the compiler turns into
/// SIMD, with sums independent enough to keep it busy).
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0f32; 16];
    for (x, y) in a.chunks_exact(16).zip(b.chunks_exact(16)) {
        let (x, y): (&[f32; 16], &[f32; 16]) = match (x.try_into(), y.try_into()) {
            (Ok(x), Ok(y)) => (x, y),
            _ => continue,
        };
        for i in 0..16 {
            lanes[i] += x[i] * y[i];
        }
    }
    lanes.iter().sum()
}

/// The dot product of two vectors in eight bits, thirty-two lanes at a time.
fn dot8(a: &[i8], b: &[i8]) -> i32 {
    let mut lanes = [0i32; 32];
    for (x, y) in a.chunks_exact(32).zip(b.chunks_exact(32)) {
        let (x, y): (&[i8; 32], &[i8; 32]) = match (x.try_into(), y.try_into()) {
            (Ok(x), Ok(y)) => (x, y),
            _ => continue,
        };
        for i in 0..32 {
            lanes[i] += i32::from(i16::from(x[i]) * i16::from(y[i]));
        }
    }
    lanes.iter().sum()
}

/// The columns an entry is read from.
const ENTRY_COLS: &str = "p.id, p.org_id, p.visibility, p.name, p.headline, p.bio, p.department, p.roles, p.skills, p.languages, p.city, p.country, p.day_rate, p.currency, p.created_at, v.digest, v.vector, COALESCE(s.note, '')";
const ENTRY_FROM: &str = "talent_profiles p LEFT JOIN talent_vectors v ON v.profile_id = p.id LEFT JOIN talent_showreels s ON s.profile_id = p.id";

/// A vector as it is kept: its numbers as little-endian f32, in base64.
fn encode(vector: &[f32]) -> String {
    use base64::Engine;
    let bytes: Vec<u8> = vector.iter().flat_map(|x| x.to_le_bytes()).collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn decode(text: &str) -> Option<Vec<f32>> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .ok()?;
    (bytes.len() == DIMS * 4).then(|| {
        bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()
    })
}

impl FromRow for Entry {
    fn from_row(r: &mut Row<'_>) -> Result<Self, DbError> {
        let (id, org_id, visibility): (Uuid, Uuid, String) = (r.get()?, r.get()?, r.get()?);
        let (name, headline, bio, department) = (r.get()?, r.get()?, r.get()?, r.get()?);
        let (roles, skills, languages): (String, String, String) = (r.get()?, r.get()?, r.get()?);
        let (city, country, day_rate, currency) = (r.get()?, r.get()?, r.get()?, r.get()?);
        let created_at: Millis = r.get()?;
        let (digest, vector): (Option<String>, Option<String>) = (r.get()?, r.get()?);
        let reel: String = r.get()?;
        Ok(Entry {
            id,
            org_id,
            platform: visibility == Visibility::Platform.as_str(),
            name,
            headline,
            bio,
            reel,
            department,
            roles: super::lines(&roles),
            skills: super::lines(&skills),
            languages: super::lines(&languages),
            city,
            country,
            day_rate,
            currency,
            created_at: created_at.0,
            vector: digest.zip(vector.as_deref().and_then(decode)),
        })
    }
}

impl Platform<'_> {
    /// Up to `limit` profiles after `after` in id order, as the talent index reads them.
    pub async fn talent_index_page(&self, after: Option<Uuid>, limit: u32) -> Result<Vec<Entry>> {
        let mut args: Vec<Arg> = vec![i64::from(limit.clamp(1, 5000)).into()];
        let mut filter = String::from("TRUE");
        if let Some(a) = after {
            args.push(a.into());
            filter = String::from("p.id > $2");
        }
        self.read(
            &format!("SELECT {ENTRY_COLS} FROM {ENTRY_FROM} WHERE {filter} ORDER BY p.id LIMIT $1"),
            &args,
        )
        .await
    }

    /// Those of the profiles `ids` that are there, as the talent index reads them.
    pub async fn talent_index_entries(&self, ids: &[Uuid]) -> Result<Vec<Entry>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let marks: Vec<String> = (1..=chunk.len()).map(|k| format!("${k}")).collect();
            let args: Vec<Arg> = chunk.iter().map(|id| (*id).into()).collect();
            out.extend(
                self.read::<Entry>(
                    &format!(
                        "SELECT {ENTRY_COLS} FROM {ENTRY_FROM} WHERE p.id IN ({})",
                        marks.join(", ")
                    ),
                    &args,
                )
                .await?,
            );
        }
        Ok(out)
    }

    /// Keeps profiles' vectors, each with the digest of the text it was made from; a profile
    /// removed meanwhile keeps none.
    pub async fn keep_talent_vectors(&self, vectors: Vec<(Uuid, String, Vec<f32>)>) -> Result<()> {
        if vectors.is_empty() {
            return Ok(());
        }
        self.write(move |tx| {
            Box::pin(async move {
                for (id, digest, vector) in &vectors {
                    tx.execute(
                        "INSERT INTO talent_vectors (profile_id, digest, vector)
                         SELECT p.id, $2, $3 FROM talent_profiles p WHERE p.id = $1
                         ON CONFLICT (profile_id) DO UPDATE SET digest = excluded.digest, vector = excluded.vector",
                        &[(*id).into(), digest.clone().into(), encode(vector).into()],
                    )
                    .await?;
                }
                Ok(())
            })
        })
        .await
    }
}

impl Tenant<'_> {
    /// The profiles `ids` the organisation may find, in that order, as the directory lists
    /// them (without what is sensitive).
    pub async fn listed_profiles(&self, ids: &[Uuid]) -> Result<Vec<Profile>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let org = self.org_id();
        let marks: Vec<String> = (2..ids.len() + 2).map(|k| format!("${k}")).collect();
        let mut args: Vec<Arg> = vec![org.into()];
        args.extend(ids.iter().map(|id| Arg::from(*id)));
        let mut found: Vec<Profile> = self
            .read(
                &format!(
                    "SELECT {} FROM talent_profiles p WHERE (p.org_id = $1 OR p.visibility = 'platform') AND p.id IN ({})",
                    super::profile_cols("CASE WHEN p.org_id = $1 THEN p.user_id END", "NULL, NULL"),
                    marks.join(", ")
                ),
                &args,
            )
            .await?;
        for p in &mut found {
            p.own = p.org_id == org;
        }
        found.sort_by_key(|p| ids.iter().position(|id| *id == p.id));
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, roles: &[&str], skills: &[&str], platform: bool, org: Uuid) -> Entry {
        Entry {
            id: Uuid::now_v7(),
            org_id: org,
            platform,
            name: name.into(),
            headline: String::new(),
            bio: String::new(),
            reel: String::new(),
            department: "vfx".into(),
            roles: roles.iter().map(|s| s.to_string()).collect(),
            skills: skills.iter().map(|s| s.to_string()).collect(),
            languages: vec!["en".into()],
            city: "Shanghai".into(),
            country: "CN".into(),
            day_rate: None,
            currency: None,
            created_at: 0,
            vector: None,
        }
    }

    fn index() -> TalentIndex {
        TalentIndex::new(HashMap::from([(
            "compositor".to_string(),
            ("Compositor".to_string(), "合成师".to_string()),
        )]))
    }

    #[test]
    fn words_prefixes_roles_names_and_who_may_see() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let ix = index();
        let nuke = entry("Li Wei", &["compositor"], &["Nuke"], true, a);
        let private = entry("Wang Fang", &["compositor"], &["Nuke", "Houdini"], false, a);
        ix.rebuild(vec![nuke.clone(), private.clone()]);
        let ask = |w: &str| Ask {
            words: w.into(),
            limit: 10,
            ..Default::default()
        };
        let ids = |f: FoundPeople| f.hits.into_iter().map(|h| h.0).collect::<Vec<_>>();
        // Another organisation sees the platform's profile only.
        assert_eq!(ids(ix.search(b, &ask("nuke"))), vec![nuke.id]);
        assert_eq!(ix.search(a, &ask("nuke")).total, 2);
        // A beginning, and the role's Chinese name.
        assert_eq!(ids(ix.search(b, &ask("comp"))), vec![nuke.id]);
        assert_eq!(ids(ix.search(b, &ask("合成师"))), vec![nuke.id]);
        // Every word must be found.
        assert_eq!(ix.search(a, &ask("nuke houdini")).total, 1);
        assert_eq!(ix.search(b, &ask("nuke houdini")).total, 0);
        // A change and a removal are seen at once.
        let mut renamed = nuke.clone();
        renamed.skills = vec!["Fusion".into()];
        ix.apply(vec![renamed], &[private.id]);
        assert_eq!(ix.search(a, &ask("nuke")).total, 0);
        assert_eq!(ids(ix.search(a, &ask("fusion"))), vec![nuke.id]);
        assert_eq!(ix.len(), 1);
    }

    #[test]
    fn a_score_tells_nothing_of_another_organisations_private_profiles() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let ix = index();
        let mine = entry("Zqxj Wei", &["compositor"], &[], false, b);
        ix.rebuild(vec![mine.clone()]);
        let ask = Ask {
            words: "zqxj".into(),
            limit: 10,
            ..Default::default()
        };
        let alone = ix.search(b, &ask).hits[0].1;
        // A keeps fifteen private profiles, five holding the same word: B's score does not
        // move (it would, were the word's rarity counted over them).
        let theirs: Vec<Entry> = (0..15)
            .map(|i| {
                let name = if i < 5 { "Zqxj Other" } else { "Someone Else" };
                entry(name, &["compositor"], &[], false, a)
            })
            .collect();
        ix.apply(theirs, &[]);
        assert_eq!(ix.search(b, &ask).hits[0].1, alone);
        assert_eq!(ix.search(b, &ask).total, 1);
    }

    #[test]
    fn candidates_are_found_by_role_or_by_every_word_of_a_skill_and_only_where_shown() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let ix = index();
        let comp = entry("Lin", &["roto_artist"], &["Nuke", "After Effects"], true, a);
        let it = entry("Wei", &["producer"], &["IT"], true, a);
        let kept = entry("Kept", &["compositor"], &["Nuke"], false, a);
        ix.rebuild(vec![comp.clone(), it.clone(), kept.clone()]);
        let found = |org: Uuid, roles: &[&str], skills: &[&str]| {
            let skills: Vec<String> = skills.iter().map(|s| s.to_string()).collect();
            let mut names = Vec::new();
            ix.candidates(org, roles, &skills, |f| {
                names.push(if f.id == comp.id {
                    "Lin"
                } else if f.id == it.id {
                    "Wei"
                } else {
                    "Kept"
                })
            });
            names.sort();
            names
        };
        assert_eq!(found(b, &["compositor", "roto_artist"], &[]), ["Lin"]);
        assert_eq!(found(a, &["compositor"], &[]), ["Kept"]);
        // Every word of a skill, a word also finding those it begins; any of the skills.
        assert_eq!(found(b, &[], &["after effect"]), ["Lin"]);
        assert_eq!(found(b, &[], &["after nuke houdini"]), Vec::<&str>::new());
        assert_eq!(found(b, &[], &["houdini", "nuk"]), ["Lin"]);
        // A skill of no word a search finds is compared with their skills.
        assert_eq!(found(b, &[], &["it"]), ["Wei"]);
        assert_eq!(found(a, &[], &["Nuke"]), ["Kept", "Lin"]);
    }

    #[test]
    fn facets_count_without_their_own_filter() {
        let org = Uuid::now_v7();
        let ix = index();
        let mut de = entry("Anna", &["compositor"], &[], true, org);
        de.country = "DE".into();
        let cn = entry("Li", &["compositor"], &[], true, org);
        ix.rebuild(vec![de, cn]);
        let found = ix.search(
            org,
            &Ask {
                country: Some("DE".into()),
                limit: 10,
                ..Default::default()
            },
        );
        assert_eq!(found.total, 1);
        let countries: Vec<(String, usize)> = found
            .facets
            .country
            .iter()
            .map(|c| (c.value.clone(), c.count))
            .collect();
        assert_eq!(countries, vec![("CN".into(), 1), ("DE".into(), 1)]);
        assert_eq!(found.facets.role[0].count, 1);
    }

    #[test]
    fn a_showreels_words_are_found_and_part_of_what_is_meant() {
        let org = Uuid::now_v7();
        let ix = index();
        let mut e = entry("Reel Person", &["compositor"], &[], true, org);
        e.headline = "Compositor".into();
        // A vector made when the profile had no reel: its text as it was then.
        let before = meaning_text(&e, |_| "Compositor".to_string());
        e.vector = Some((digest(&before), vec![0.5; DIMS]));
        ix.rebuild(vec![e.clone()]);
        assert!(
            ix.wanting_vectors(10).is_empty(),
            "the vector fits its text"
        );
        // With a reel, its words are found, and the vector is made again from a text that
        // holds them.
        e.reel = "Sky replacements and set extensions".into();
        ix.apply(vec![e.clone()], &[]);
        let wanting = ix.wanting_vectors(10);
        assert_eq!(wanting.len(), 1);
        assert!(
            wanting[0].1.contains("Sky replacements and set extensions"),
            "{}",
            wanting[0].1
        );
        let found = ix.search(
            org,
            &Ask {
                words: "extensions".into(),
                limit: 10,
                ..Default::default()
            },
        );
        assert_eq!(
            found.hits.iter().map(|h| h.0).collect::<Vec<_>>(),
            vec![e.id]
        );
    }

    #[test]
    fn the_eight_bit_scan_finds_what_the_floats_would() {
        let org = Uuid::now_v7();
        let ix = index();
        let mut seed = 7u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        };
        let unit = |v: Vec<f32>| -> Vec<f32> {
            let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            v.into_iter().map(|x| x / n).collect()
        };
        let q = unit((0..DIMS).map(|_| next()).collect());
        // Cosines with the query spread from about 0 to 0.8, many near the floor.
        let mut entries = Vec::new();
        for i in 0..3000 {
            let lean = (i % 12) as f32 * 0.8;
            let v = unit(q.iter().map(|x| x * lean + next()).collect());
            let mut e = entry(&format!("P{i}"), &[], &[], true, org);
            e.headline = format!("P{i} at work");
            e.vector = Some((digest(&e.headline), v));
            entries.push(e);
        }
        ix.rebuild(entries.clone());
        // What the floats say: the cosine of each, and those the estimate lets past the floor.
        let coded = Coded::query(&q);
        let mut want: Vec<(f32, Uuid)> = Vec::new();
        for e in &entries {
            let v = &e.vector.as_ref().unwrap().1;
            let exact = dot(&q, v);
            let (codes, scale, half_l1) = code(v);
            let estimate = coded.scale * scale * dot8(&coded.codes, &codes) as f32;
            let bound =
                coded.scale * (scale * coded.half_l1 + scale * (half_l1 + DIMS as f32 / 4.0));
            assert!(
                (estimate - exact).abs() <= bound,
                "{estimate} {exact} {bound}"
            );
            if estimate >= MEANING_FLOOR {
                want.push((exact, e.id));
            }
        }
        want.sort_by(|a, b| b.0.total_cmp(&a.0));
        assert!(want.len() > 1000 && want.len() < 2900, "{}", want.len());
        for (offset, limit) in [(0, 10), (0, 100), (37, 24), (1000, 50)] {
            let found = ix.search(
                org,
                &Ask {
                    meaning: Some(q.clone()),
                    offset,
                    limit,
                    ..Default::default()
                },
            );
            assert_eq!(found.total, want.len());
            let expected: Vec<(Uuid, f32)> = want
                .iter()
                .skip(offset)
                .take(limit)
                .map(|(s, id)| (*id, *s))
                .collect();
            assert_eq!(found.hits, expected, "page {offset}+{limit}");
        }
    }

    #[test]
    fn meaning_ranks_by_cosine_above_a_floor() {
        let org = Uuid::now_v7();
        let ix = index();
        let axis = |i: usize, w: f32| {
            let mut v = vec![0f32; DIMS];
            v[i] = w;
            v[i + 1] = (1.0 - w * w).sqrt();
            v
        };
        // Each made from its text as it is (the digest of the text the index reads).
        let with = |name: &str, v: Vec<f32>| {
            let mut e = entry(name, &[], &[], true, org);
            e.headline = format!("{name} at work");
            e.vector = Some((digest(&format!("{name} at work")), v));
            e
        };
        let near = with("Near", axis(0, 0.9));
        let nearer = with("Nearer", axis(0, 0.99));
        let far = with("Far", axis(5, 1.0));
        let mut stale = with("Stale", axis(0, 1.0));
        stale.headline = "changed since".into();
        ix.rebuild(vec![near.clone(), far, nearer.clone(), stale.clone()]);
        // The stale one waits for a vector of its new text; one of its old text is refused.
        let wanting = ix.wanting_vectors(10);
        assert_eq!(wanting.len(), 1);
        assert_eq!(wanting[0].0, stale.id);
        ix.set_vector(stale.id, &digest("Stale at work"), &axis(0, 1.0));
        assert_eq!(ix.with_vectors(), 3);
        let mut q = vec![0f32; DIMS];
        q[0] = 1.0;
        let found = ix.search(
            org,
            &Ask {
                meaning: Some(q),
                limit: 10,
                ..Default::default()
            },
        );
        let ids: Vec<Uuid> = found.hits.iter().map(|h| h.0).collect();
        assert_eq!(ids, vec![nearer.id, near.id]);
        assert!((found.hits[0].1 - 0.99).abs() < 1e-5);
    }
}
