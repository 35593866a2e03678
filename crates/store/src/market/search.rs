//! The storefront's catalogue: every listing on sale in a full-text index (tantivy) held in
//! memory by each server, built from the database at start and kept up to date from the
//! outbox's listing and offer events.
//!
//! - Words are cut by one analyzer for both languages: Chinese by jieba's search mode (a word
//!   and the shorter words inside it: 上海夜景 → 上海, 夜景), every other script by its letters and
//!   digits, lower-cased, English words reduced to their stem (cities → citi ← city).
//! - Every word of a query must be found (in a title, a description or the keywords, in either
//!   language); a Latin word of 4 letters or more also matches at one typo, 8 or more at two,
//!   below an exact match. Titles weigh three times a description, keywords twice (BM25).
//! - Facets (category, licence kind, resolution, frame rate, duration, price, contributor,
//!   language) are counted over everything the words find, each without its own filter, as a
//!   shop's sidebar counts them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use jieba_rs::Jieba;
use mstation_core::market::{Category, LicenceKind};
use serde::Serialize;
use tantivy::collector::{Collector, Count, SegmentCollector, TopDocs};
use tantivy::columnar::Column;
use tantivy::query::{AllQuery, BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing,
    TextOptions, Value,
};
use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, Stemmer, StopWordFilter, TextAnalyzer, Token,
    TokenStream, Tokenizer,
};
use tantivy::{DocAddress, DocId, Index, IndexReader, IndexWriter, ReloadPolicy, Score};
use tantivy::{SegmentReader, TantivyDocument, Term};
use utoipa::ToSchema;
use uuid::Uuid;

/// The analyzer's name in the index.
const WORDS: &str = "mstation_words";

/// The most words a query is read for.
pub const MAX_WORDS: usize = 12;

/// One listing as the catalogue knows it.
#[derive(Debug, Clone)]
pub struct Entry {
    pub id: Uuid,
    pub contributor_org_id: Uuid,
    pub contributor: String,
    pub category: Category,
    pub title_en: String,
    pub title_zh: String,
    pub description_en: String,
    pub description_zh: String,
    pub keywords: Vec<String>,
    /// Milliseconds since the epoch.
    pub published_at: i64,
    pub height: Option<i64>,
    /// Frames per second as a rational.
    pub fps: Option<[i64; 2]>,
    /// In seconds.
    pub duration: Option<f64>,
    /// The kinds of its live offers.
    pub kinds: Vec<LicenceKind>,
    /// Its lowest live price, in whole units of its offer's currency (¥120.50 is 120).
    pub price: Option<i64>,
}

/// What a shopper narrows the storefront to. Each bucket is one of its facet's keys.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub category: Option<Category>,
    pub kind: Option<LicenceKind>,
    pub resolution: Option<Resolution>,
    pub fps: Option<FpsBucket>,
    pub duration: Option<DurationBucket>,
    pub price: Option<PriceBucket>,
    pub contributor: Option<Uuid>,
    pub language: Option<Lang>,
}

impl Filters {
    /// Whether the facet whose field is `name` has a value chosen.
    fn has(&self, name: &str) -> bool {
        match name {
            "category" => self.category.is_some(),
            "kinds" => self.kind.is_some(),
            "resolution" => self.resolution.is_some(),
            "fps" => self.fps.is_some(),
            "duration" => self.duration.is_some(),
            "price" => self.price.is_some(),
            "langs" => self.language.is_some(),
            "contributor_n" => self.contributor.is_some(),
            _ => false,
        }
    }
}

macro_rules! buckets {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $key:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $key),+ }
            }

            pub fn parse(s: &str) -> Option<$name> {
                Self::ALL.iter().copied().find(|b| b.as_str() == s)
            }

            fn index(self) -> u64 {
                Self::ALL.iter().position(|b| *b == self).unwrap_or(0) as u64
            }
        }
    };
}

buckets!(
    /// A picture's height: under 720 lines, HD, full HD, UHD and above.
    Resolution { Sd = "sd", Hd = "hd", FullHd = "full_hd", Uhd = "uhd" }
);
buckets!(
    /// The usual frame rates, and everything else.
    FpsBucket {
        F23976 = "23.976", F24 = "24", F25 = "25", F29970 = "29.97", F30 = "30",
        F48 = "48", F50 = "50", F59940 = "59.94", F60 = "60", Other = "other",
    }
);
buckets!(
    /// How long a clip runs: under 10 s, 10–30 s, 30–60 s, 1–5 min, longer.
    DurationBucket { Under10s = "under_10s", To30s = "10s_30s", To60s = "30s_60s", To5m = "1m_5m", Over5m = "over_5m" }
);
buckets!(
    /// The lowest price, in whole units of its currency: under 100, 100–499, 500–1,999, 2,000 and up.
    PriceBucket { Under100 = "under_100", To500 = "100_499", To2000 = "500_1999", From2000 = "2000_up" }
);
buckets!(
    /// The languages a listing is written in.
    Lang { En = "en", Zh = "zh" }
);

fn resolution_of(height: i64) -> Resolution {
    match height {
        ..720 => Resolution::Sd,
        720..1080 => Resolution::Hd,
        1080..2160 => Resolution::FullHd,
        _ => Resolution::Uhd,
    }
}

fn fps_of([n, d]: [i64; 2]) -> FpsBucket {
    if d <= 0 {
        return FpsBucket::Other;
    }
    // Thousandths of a frame per second, rounded: 24000/1001 → 23976.
    let milli = (n * 1000 + d / 2) / d;
    match milli {
        23976 => FpsBucket::F23976,
        24000 => FpsBucket::F24,
        25000 => FpsBucket::F25,
        29970 => FpsBucket::F29970,
        30000 => FpsBucket::F30,
        48000 => FpsBucket::F48,
        50000 => FpsBucket::F50,
        59940 => FpsBucket::F59940,
        60000 => FpsBucket::F60,
        _ => FpsBucket::Other,
    }
}

fn duration_of(seconds: f64) -> DurationBucket {
    match seconds {
        s if s < 10.0 => DurationBucket::Under10s,
        s if s < 30.0 => DurationBucket::To30s,
        s if s < 60.0 => DurationBucket::To60s,
        s if s < 300.0 => DurationBucket::To5m,
        _ => DurationBucket::Over5m,
    }
}

fn price_of(units: i64) -> PriceBucket {
    match units {
        ..100 => PriceBucket::Under100,
        100..500 => PriceBucket::To500,
        500..2000 => PriceBucket::To2000,
        _ => PriceBucket::From2000,
    }
}

/// A facet's value with how many listings found have it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FacetCount {
    pub key: String,
    pub count: u64,
}

/// A contributor with how many listings found are theirs.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ContributorCount {
    pub org_id: Uuid,
    pub name: String,
    pub count: u64,
}

/// The facets of a search: each counted over what the words and the other filters find.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Facets {
    pub category: Vec<FacetCount>,
    pub kind: Vec<FacetCount>,
    pub resolution: Vec<FacetCount>,
    pub fps: Vec<FacetCount>,
    pub duration: Vec<FacetCount>,
    pub price: Vec<FacetCount>,
    pub language: Vec<FacetCount>,
    /// The 20 contributors with most listings found.
    pub contributor: Vec<ContributorCount>,
}

/// A page of a search: the listings' ids best first, how many were found, and the facets.
#[derive(Debug, Clone, Default)]
pub struct Found {
    pub ids: Vec<Uuid>,
    pub total: u64,
    pub facets: Facets,
}

/// The order of a search's results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// The best match first (newest first without words).
    Relevance,
    Newest,
}

#[derive(Clone, Copy)]
struct Fields {
    id: Field,
    title: Field,
    description: Field,
    keywords: Field,
    category: Field,
    kinds: Field,
    resolution: Field,
    fps: Field,
    duration: Field,
    price: Field,
    langs: Field,
    /// Its keywords and titles, kept for finding listings like it.
    gist: Field,
    contributor: Field,
    contributor_n: Field,
    published: Field,
}

/// The facets' fields: each holds its bucket's index + 1 (0: unknown); a listing has one value
/// of each, but one per kind of its offers and one per language it is written in.
const FACET_FIELDS: [&str; 8] = [
    "category",
    "kinds",
    "resolution",
    "fps",
    "duration",
    "price",
    "langs",
    "contributor_n",
];

/// The keys of a facet's buckets, in their index's order.
fn facet_keys(field: &str) -> Vec<&'static str> {
    match field {
        "category" => Category::ALL.iter().map(|c| c.as_str()).collect(),
        "kinds" => LicenceKind::ALL.iter().map(|k| k.as_str()).collect(),
        "resolution" => Resolution::ALL.iter().map(|b| b.as_str()).collect(),
        "fps" => FpsBucket::ALL.iter().map(|b| b.as_str()).collect(),
        "duration" => DurationBucket::ALL.iter().map(|b| b.as_str()).collect(),
        "price" => PriceBucket::ALL.iter().map(|b| b.as_str()).collect(),
        "langs" => Lang::ALL.iter().map(|b| b.as_str()).collect(),
        _ => Vec::new(),
    }
}

/// The catalogue of one server.
pub struct Catalogue {
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    f: Fields,
    /// Contributors by the dense number their listings carry, for the facet's names.
    contributors: Mutex<Contributors>,
}

#[derive(Default)]
struct Contributors {
    numbers: HashMap<Uuid, u64>,
    names: Vec<(Uuid, String)>,
}

impl Contributors {
    fn number(&mut self, id: Uuid, name: &str) -> u64 {
        if let Some(n) = self.numbers.get(&id) {
            self.names[*n as usize].1 = name.to_string();
            return *n;
        }
        let n = self.names.len() as u64;
        self.names.push((id, name.to_string()));
        self.numbers.insert(id, n);
        n
    }
}

/// Jieba's dictionary, loaded once per process (about 0.3 s).
fn jieba() -> &'static Arc<Jieba> {
    static JIEBA: OnceLock<Arc<Jieba>> = OnceLock::new();
    JIEBA.get_or_init(|| Arc::new(Jieba::new()))
}

/// Cuts text into words: jieba for Chinese (search mode), letters and digits for the rest.
#[derive(Clone)]
struct Cutter(Arc<Jieba>);

struct Cut {
    tokens: Vec<Token>,
    at: usize,
}

impl TokenStream for Cut {
    fn advance(&mut self) -> bool {
        self.at += 1;
        self.at <= self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.at - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.at - 1]
    }
}

impl Tokenizer for Cutter {
    type TokenStream<'a> = Cut;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Cut {
        let mut tokens = Vec::new();
        for (position, word) in self.0.cut_for_search(text, true).into_iter().enumerate() {
            if !word.word.chars().any(char::is_alphanumeric) {
                continue;
            }
            tokens.push(Token {
                offset_from: word.byte_start,
                offset_to: word.byte_end,
                position,
                text: word.word.to_string(),
                position_length: 1,
            });
        }
        Cut { tokens, at: 0 }
    }
}

/// Words too common to find anything by, in either language.
const STOP: [&str; 32] = [
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "in", "into", "is", "it", "of",
    "on", "or", "the", "to", "with", "的", "了", "和", "与", "在", "是", "之", "及", "或", "着",
    "地", "得",
];

fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(Cutter(jieba().clone()))
        .filter(RemoveLongFilter::limit(60))
        .filter(LowerCaser)
        .filter(StopWordFilter::remove(STOP.iter().map(|w| w.to_string())))
        .filter(Stemmer::new(Language::English))
        .build()
}

/// The words of `text` as the catalogue indexes them.
pub fn words(text: &str) -> Vec<String> {
    let mut a = analyzer();
    let mut stream = a.token_stream(text);
    let mut out = Vec::new();
    while let Some(t) = stream.next() {
        if !out.contains(&t.text) {
            out.push(t.text.clone());
        }
    }
    out
}

impl Catalogue {
    /// An empty catalogue.
    pub fn new() -> tantivy::Result<Catalogue> {
        let mut schema = Schema::builder();
        let text = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(WORDS)
                .set_index_option(IndexRecordOption::WithFreqs),
        );
        let f = Fields {
            id: schema.add_text_field("id", STRING | STORED),
            title: schema.add_text_field("title", text.clone()),
            description: schema.add_text_field("description", text.clone()),
            keywords: schema.add_text_field("keywords", text),
            category: schema.add_u64_field("category", INDEXED | FAST),
            kinds: schema.add_u64_field("kinds", INDEXED | FAST),
            resolution: schema.add_u64_field("resolution", INDEXED | FAST),
            fps: schema.add_u64_field("fps", INDEXED | FAST),
            duration: schema.add_u64_field("duration", INDEXED | FAST),
            price: schema.add_u64_field("price", INDEXED | FAST),
            langs: schema.add_u64_field("langs", INDEXED | FAST),
            gist: schema.add_text_field("gist", STORED),
            contributor: schema.add_text_field("contributor", STRING),
            contributor_n: schema.add_u64_field("contributor_n", FAST),
            published: schema.add_i64_field("published", FAST),
        };
        let index = Index::create_in_ram(schema.build());
        index.tokenizers().register(WORDS, analyzer());
        let writer = index.writer_with_num_threads(1, 30_000_000)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(Catalogue {
            reader,
            writer: Mutex::new(writer),
            f,
            contributors: Mutex::default(),
        })
    }

    fn document(&self, e: &Entry) -> TantivyDocument {
        let f = self.f;
        let mut doc = TantivyDocument::default();
        doc.add_text(f.id, e.id.to_string());
        for t in [&e.title_en, &e.title_zh] {
            doc.add_text(f.title, t);
        }
        for t in [&e.description_en, &e.description_zh] {
            doc.add_text(f.description, t);
        }
        for k in &e.keywords {
            doc.add_text(f.keywords, k);
        }
        let slot = |b: Option<u64>| b.map_or(0, |i| i + 1);
        doc.add_u64(f.category, category_index(e.category) + 1);
        let mut kinds: Vec<u64> = e.kinds.iter().map(|k| kind_index(*k) + 1).collect();
        kinds.sort_unstable();
        kinds.dedup();
        for k in kinds {
            doc.add_u64(f.kinds, k);
        }
        doc.add_u64(
            f.resolution,
            slot(e.height.map(|h| resolution_of(h).index())),
        );
        doc.add_u64(f.fps, slot(e.fps.map(|r| fps_of(r).index())));
        doc.add_u64(f.duration, slot(e.duration.map(|d| duration_of(d).index())));
        doc.add_u64(f.price, slot(e.price.map(|p| price_of(p).index())));
        // Every listing has a title in both languages; it is written in those its
        // descriptions are (in both when it has none).
        let (en, zh) = (
            !e.description_en.trim().is_empty(),
            !e.description_zh.trim().is_empty(),
        );
        if en || !zh {
            doc.add_u64(f.langs, Lang::En.index() + 1);
        }
        if zh || !en {
            doc.add_u64(f.langs, Lang::Zh.index() + 1);
        }
        let mut gist = e.keywords.join("\n");
        for t in [&e.title_en, &e.title_zh] {
            gist.push('\n');
            gist.push_str(t);
        }
        doc.add_text(f.gist, gist);
        doc.add_text(f.contributor, e.contributor_org_id.to_string());
        let n = self
            .contributors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .number(e.contributor_org_id, &e.contributor);
        doc.add_u64(f.contributor_n, n + 1);
        doc.add_i64(f.published, e.published_at);
        doc
    }

    /// Replaces the whole catalogue with `entries`.
    pub fn rebuild(&self, entries: &[Entry]) -> tantivy::Result<()> {
        let mut w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        w.delete_all_documents()?;
        for e in entries {
            w.add_document(self.document(e))?;
        }
        w.commit()?;
        self.reader.reload()
    }

    /// Puts the listings in `put` (replacing what was there) and takes out those in `gone`.
    pub fn apply(&self, put: &[Entry], gone: &[Uuid]) -> tantivy::Result<()> {
        let mut w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        for id in gone.iter().chain(put.iter().map(|e| &e.id)) {
            w.delete_term(Term::from_field_text(self.f.id, &id.to_string()));
        }
        for e in put {
            w.add_document(self.document(e))?;
        }
        w.commit()?;
        self.reader.reload()
    }

    /// How many listings the catalogue holds.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// What `query` (words in either language) and `filters` find: `limit` ids from `offset`.
    pub fn search(
        &self,
        query: &str,
        filters: &Filters,
        order: Order,
        offset: usize,
        limit: usize,
    ) -> tantivy::Result<Found> {
        let searcher = self.reader.searcher();
        let words = self.words_query(query);
        let all = self.narrowed(words.as_deref(), filters, None);
        // A facet whose filter is not chosen is counted over the page's own documents, in the
        // same pass; one that is chosen is counted again without its filter, so that choosing
        // a value keeps its siblings.
        let (chosen, plain): (Vec<&'static str>, Vec<&'static str>) =
            FACET_FIELDS.iter().partition(|name| filters.has(name));
        let tallies = Tallies(plain.clone());
        let (ids, total, tallied) = if words.is_some() && order == Order::Relevance {
            let top = TopDocs::with_limit(limit)
                .and_offset(offset)
                .order_by_score();
            let (top, total, tallied) = searcher.search(&*all, &(top, Count, tallies))?;
            let ids = self.ids(&searcher, top.into_iter().map(|(_, d)| d))?;
            (ids, total, tallied)
        } else {
            let top = TopDocs::with_limit(limit)
                .and_offset(offset)
                .order_by_fast_field::<i64>("published", tantivy::Order::Desc);
            let (top, total, tallied) = searcher.search(&*all, &(top, Count, tallies))?;
            let ids = self.ids(&searcher, top.into_iter().map(|(_, d)| d))?;
            (ids, total, tallied)
        };
        let mut counts: HashMap<&'static str, Vec<u64>> = plain.into_iter().zip(tallied).collect();
        for name in chosen {
            let q = self.narrowed(words.as_deref(), filters, Some(name));
            let mut got = searcher.search(&*q, &Tallies(vec![name]))?;
            counts.insert(name, got.pop().unwrap_or_default());
        }
        let keyed = |name: &'static str| -> Vec<FacetCount> {
            let c = &counts[name];
            facet_keys(name)
                .into_iter()
                .enumerate()
                .filter_map(|(i, key)| {
                    let count = c.get(i + 1).copied().unwrap_or(0);
                    (count > 0).then(|| FacetCount {
                        key: key.to_string(),
                        count,
                    })
                })
                .collect()
        };
        let mut facets = Facets {
            category: keyed("category"),
            kind: keyed("kinds"),
            resolution: keyed("resolution"),
            fps: keyed("fps"),
            duration: keyed("duration"),
            price: keyed("price"),
            language: keyed("langs"),
            contributor: Vec::new(),
        };
        let names = self.contributors.lock().unwrap_or_else(|p| p.into_inner());
        let mut people: Vec<ContributorCount> = counts["contributor_n"]
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .filter_map(|(i, n)| {
                // Contributor numbers are stored + 1, as every facet's.
                let (org_id, name) = names.names.get(i.checked_sub(1)?)?;
                Some(ContributorCount {
                    org_id: *org_id,
                    name: name.clone(),
                    count: *n,
                })
            })
            .collect();
        people.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
        people.truncate(20);
        facets.contributor = people;
        Ok(Found {
            ids,
            total: total as u64,
            facets,
        })
    }

    /// Listings like `id`: sharing its words (keywords and titles weigh most), in its category
    /// first; never itself.
    pub fn similar(&self, id: Uuid, limit: usize) -> tantivy::Result<Vec<Uuid>> {
        let searcher = self.reader.searcher();
        let me = Term::from_field_text(self.f.id, &id.to_string());
        let found = searcher.search(
            &TermQuery::new(me.clone(), IndexRecordOption::Basic),
            &TopDocs::with_limit(1).order_by_score(),
        )?;
        let Some((_, address)) = found.first() else {
            return Ok(Vec::new());
        };
        let doc: TantivyDocument = searcher.doc(*address)?;
        let gist = doc
            .get_first(self.f.gist)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string();
        let seg = searcher.segment_reader(address.segment_ord);
        let category = seg
            .fast_fields()
            .u64("category")?
            .first(address.doc_id)
            .unwrap_or(0);
        // Its keywords' and titles' words, wherever another listing has them.
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for w in words(&gist).into_iter().take(40) {
            for (field, boost) in [
                (self.f.keywords, 2.0),
                (self.f.title, 3.0),
                (self.f.description, 1.0),
            ] {
                clauses.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(
                        Box::new(TermQuery::new(
                            Term::from_field_text(field, &w),
                            IndexRecordOption::WithFreqs,
                        )),
                        boost,
                    )),
                ));
            }
        }
        if clauses.is_empty() {
            return Ok(Vec::new());
        }
        let words = BooleanQuery::new(clauses);
        let same_kind = BoostQuery::new(
            Box::new(TermQuery::new(
                Term::from_field_u64(self.f.category, category),
                IndexRecordOption::Basic,
            )),
            0.5,
        );
        let q = BooleanQuery::new(vec![
            (Occur::Must, Box::new(words) as Box<dyn Query>),
            (Occur::Should, Box::new(same_kind)),
            (
                Occur::MustNot,
                Box::new(TermQuery::new(me, IndexRecordOption::Basic)),
            ),
        ]);
        let top = searcher.search(&q, &TopDocs::with_limit(limit).order_by_score())?;
        self.ids(&searcher, top.into_iter().map(|(_, d)| d))
    }

    fn ids(
        &self,
        searcher: &tantivy::Searcher,
        docs: impl Iterator<Item = DocAddress>,
    ) -> tantivy::Result<Vec<Uuid>> {
        let mut out = Vec::new();
        for d in docs {
            let doc: TantivyDocument = searcher.doc(d)?;
            if let Some(id) = doc
                .get_first(self.f.id)
                .and_then(|v| v.as_str())
                .and_then(|s| Uuid::parse_str(s).ok())
            {
                out.push(id);
            }
        }
        Ok(out)
    }

    /// The words of `query` as one query every word of which must match, or none for no words.
    fn words_query(&self, query: &str) -> Option<Box<dyn Query>> {
        let f = self.f;
        let mut musts: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for w in words(query).into_iter().take(MAX_WORDS) {
            let mut any: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            for (field, boost) in [(f.title, 3.0), (f.keywords, 2.0), (f.description, 1.0)] {
                let term = Term::from_field_text(field, &w);
                any.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(
                        Box::new(TermQuery::new(term.clone(), IndexRecordOption::WithFreqs)),
                        boost,
                    )),
                ));
                // A typo in a Latin word: one in 4 letters or more, two in 8 or more, below
                // an exact match.
                let n = w.chars().count();
                if n >= 4 && w.chars().all(|c| c.is_ascii_alphanumeric()) {
                    let distance = if n >= 8 { 2 } else { 1 };
                    any.push((
                        Occur::Should,
                        Box::new(BoostQuery::new(
                            Box::new(FuzzyTermQuery::new(term, distance, true)),
                            boost * 0.3,
                        )),
                    ));
                }
            }
            musts.push((Occur::Must, Box::new(BooleanQuery::new(any))));
        }
        (!musts.is_empty()).then(|| Box::new(BooleanQuery::new(musts)) as Box<dyn Query>)
    }

    /// `words` narrowed by `filters`, all but the facet `skip`'s own.
    fn narrowed(
        &self,
        words: Option<&dyn Query>,
        filters: &Filters,
        skip: Option<&str>,
    ) -> Box<dyn Query> {
        let f = self.f;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        if let Some(w) = words {
            clauses.push((Occur::Must, w.box_clone()));
        }
        let exact = |field: Field, v: u64| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_u64(field, v),
                IndexRecordOption::Basic,
            ))
        };
        let keep = |name: &str| skip != Some(name);
        if let Some(c) = filters.category.filter(|_| keep("category")) {
            clauses.push((Occur::Must, exact(f.category, category_index(c) + 1)));
        }
        if let Some(r) = filters.resolution.filter(|_| keep("resolution")) {
            clauses.push((Occur::Must, exact(f.resolution, r.index() + 1)));
        }
        if let Some(b) = filters.fps.filter(|_| keep("fps")) {
            clauses.push((Occur::Must, exact(f.fps, b.index() + 1)));
        }
        if let Some(b) = filters.duration.filter(|_| keep("duration")) {
            clauses.push((Occur::Must, exact(f.duration, b.index() + 1)));
        }
        if let Some(b) = filters.price.filter(|_| keep("price")) {
            clauses.push((Occur::Must, exact(f.price, b.index() + 1)));
        }
        if let Some(c) = filters.contributor.filter(|_| keep("contributor_n")) {
            clauses.push((
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_text(f.contributor, &c.to_string()),
                    IndexRecordOption::Basic,
                )),
            ));
        }
        if let Some(k) = filters.kind.filter(|_| keep("kinds")) {
            clauses.push((Occur::Must, exact(f.kinds, kind_index(k) + 1)));
        }
        if let Some(l) = filters.language.filter(|_| keep("langs")) {
            clauses.push((Occur::Must, exact(f.langs, l.index() + 1)));
        }
        if clauses.is_empty() {
            clauses.push((Occur::Must, Box::new(AllQuery)));
        }
        Box::new(BooleanQuery::new(clauses))
    }
}

fn category_index(c: Category) -> u64 {
    Category::ALL.iter().position(|x| *x == c).unwrap_or(0) as u64
}

fn kind_index(k: LicenceKind) -> u64 {
    LicenceKind::ALL.iter().position(|x| *x == k).unwrap_or(0) as u64
}

/// Counts the values of facet fields over the documents found: for each field, how many
/// documents have each value (a listing with two kinds counts once for each).
struct Tallies(Vec<&'static str>);

struct SegmentTallies {
    columns: Vec<Column<u64>>,
    counts: Vec<Vec<u64>>,
}

impl Collector for Tallies {
    type Fruit = Vec<Vec<u64>>;
    type Child = SegmentTallies;

    fn for_segment(&self, _: u32, segment: &SegmentReader) -> tantivy::Result<SegmentTallies> {
        let columns = self
            .0
            .iter()
            .map(|name| segment.fast_fields().u64(name))
            .collect::<tantivy::Result<Vec<_>>>()?;
        Ok(SegmentTallies {
            counts: vec![Vec::new(); columns.len()],
            columns,
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Vec<Vec<u64>>>) -> tantivy::Result<Vec<Vec<u64>>> {
        let mut out: Vec<Vec<u64>> = vec![Vec::new(); self.0.len()];
        for fruit in fruits {
            for (into, from) in out.iter_mut().zip(fruit) {
                if into.len() < from.len() {
                    into.resize(from.len(), 0);
                }
                for (i, n) in from.into_iter().enumerate() {
                    into[i] += n;
                }
            }
        }
        Ok(out)
    }
}

impl SegmentCollector for SegmentTallies {
    type Fruit = Vec<Vec<u64>>;

    fn collect(&mut self, doc: DocId, _: Score) {
        for (column, counts) in self.columns.iter().zip(self.counts.iter_mut()) {
            for v in column.values_for_doc(doc) {
                // Values are bucket numbers and contributor numbers: small, dense.
                let i = usize::try_from(v).unwrap_or(usize::MAX).min(1 << 20);
                if counts.len() <= i {
                    counts.resize(i + 1, 0);
                }
                counts[i] += 1;
            }
        }
    }

    fn harvest(self) -> Vec<Vec<u64>> {
        self.counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: u128, title_en: &str, title_zh: &str, keywords: &[&str]) -> Entry {
        Entry {
            id: Uuid::from_u128(n),
            contributor_org_id: Uuid::from_u128(1000 + n % 2),
            contributor: format!("Stock {}", n % 2),
            category: Category::Footage,
            title_en: title_en.into(),
            title_zh: title_zh.into(),
            description_en: String::new(),
            description_zh: String::new(),
            keywords: keywords.iter().map(|k| k.to_string()).collect(),
            published_at: n as i64,
            height: Some(1080),
            fps: Some([24000, 1001]),
            duration: Some(12.0),
            kinds: vec![LicenceKind::RfStandard],
            price: Some(120),
        }
    }

    fn ids(c: &Catalogue, q: &str, f: &Filters) -> Vec<u128> {
        c.search(q, f, Order::Relevance, 0, 50)
            .unwrap()
            .ids
            .iter()
            .map(|id| id.as_u128())
            .collect()
    }

    fn catalogue() -> Catalogue {
        let c = Catalogue::new().unwrap();
        let mut night = entry(3, "Shanghai skyline at night", "上海夜景", &["cities"]);
        night.category = Category::VfxElement;
        night.height = Some(2160);
        night.kinds.push(LicenceKind::RightsManaged);
        c.rebuild(&[
            entry(1, "Harbour at dawn", "黎明的港口", &["boats", "港口"]),
            entry(2, "Desert wind", "沙漠的风", &["sand"]),
            night,
        ])
        .unwrap();
        c
    }

    #[test]
    fn chinese_is_cut_into_words_and_every_word_must_be_found() {
        let c = catalogue();
        let none = Filters::default();
        assert_eq!(ids(&c, "港口", &none), vec![1]);
        // One phrase typed without spaces finds a title holding both its words.
        assert_eq!(ids(&c, "上海夜景", &none), vec![3]);
        assert_eq!(ids(&c, "夜景", &none), vec![3]);
        assert_eq!(ids(&c, "上海 港口", &none), Vec::<u128>::new());
        assert_eq!(ids(&c, "HARBOUR Dawn", &none), vec![1]);
        assert!(
            words("上海夜景").contains(&"夜景".to_string()),
            "{:?}",
            words("上海夜景")
        );
    }

    #[test]
    fn a_typo_or_another_form_of_a_word_still_finds_it_below_an_exact_match() {
        let c = catalogue();
        let none = Filters::default();
        assert_eq!(ids(&c, "harbuor", &none), vec![1], "two letters swapped");
        assert_eq!(ids(&c, "deserts", &none), vec![2], "a plural");
        assert_eq!(ids(&c, "city", &none), vec![3], "the keyword 'cities'");
        assert_eq!(
            ids(&c, "sky", &none),
            Vec::<u128>::new(),
            "short words are exact"
        );
        // An exact match outranks one at a typo.
        c.apply(&[entry(4, "Harbor lights", "", &[])], &[]).unwrap();
        assert_eq!(ids(&c, "harbor", &none)[0], 4);
    }

    #[test]
    fn facets_count_what_is_found_each_without_its_own_filter() {
        let c = catalogue();
        let all = c
            .search("", &Filters::default(), Order::Relevance, 0, 10)
            .unwrap();
        assert_eq!(all.total, 3);
        assert_eq!(all.ids[0].as_u128(), 3, "newest first without words");
        let count =
            |v: &[FacetCount], k: &str| v.iter().find(|f| f.key == k).map_or(0, |f| f.count);
        assert_eq!(count(&all.facets.category, "footage"), 2);
        assert_eq!(count(&all.facets.resolution, "uhd"), 1);
        assert_eq!(count(&all.facets.resolution, "full_hd"), 2);
        assert_eq!(count(&all.facets.kind, "rf_standard"), 3);
        assert_eq!(count(&all.facets.kind, "rights_managed"), 1);
        assert_eq!(count(&all.facets.fps, "23.976"), 3);
        assert_eq!(count(&all.facets.duration, "10s_30s"), 3);
        assert_eq!(count(&all.facets.price, "100_499"), 3);
        assert_eq!(count(&all.facets.language, "zh"), 3);
        assert_eq!(
            all.facets.contributor.iter().map(|c| c.count).sum::<u64>(),
            3
        );
        let uhd = Filters {
            resolution: Some(Resolution::Uhd),
            ..Filters::default()
        };
        let found = c.search("", &uhd, Order::Relevance, 0, 10).unwrap();
        assert_eq!(found.total, 1);
        // The resolution facet still offers the others; the category counts only the UHD one.
        assert_eq!(count(&found.facets.resolution, "full_hd"), 2);
        assert_eq!(count(&found.facets.category, "footage"), 0);
        assert_eq!(count(&found.facets.category, "vfx_element"), 1);
        let rm = Filters {
            kind: Some(LicenceKind::RightsManaged),
            ..Filters::default()
        };
        assert_eq!(ids(&c, "", &rm), vec![3]);
    }

    #[test]
    fn a_listing_taken_off_sale_is_gone_and_similar_ones_share_its_words() {
        let c = catalogue();
        c.apply(
            &[entry(5, "Boats in the harbour", "港口的船", &["boats"])],
            &[Uuid::from_u128(2)],
        )
        .unwrap();
        assert_eq!(ids(&c, "desert", &Filters::default()), Vec::<u128>::new());
        let like = c.similar(Uuid::from_u128(1), 10).unwrap();
        assert_eq!(
            like,
            vec![Uuid::from_u128(5)],
            "never itself, nothing unrelated"
        );
        assert_eq!(
            c.similar(Uuid::from_u128(99), 10).unwrap(),
            Vec::<Uuid>::new()
        );
        // Putting a listing again replaces it.
        c.apply(&[entry(5, "Boats", "", &[])], &[]).unwrap();
        assert_eq!(c.len(), 3);
    }
}
