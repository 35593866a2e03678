//! Money and the rules of the double-entry ledger: amounts in whole minor units of one currency
//! (never floating point), accounts that may be barred from going below zero, transfers posted
//! at once or in two phases, and the invariants every state of a ledger keeps. The store applies
//! these rules to locked rows inside its transactions; `Model` applies the same rules in memory,
//! the reference a test holds the store to.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// An ISO 4217 currency code: three capital letters (`CNY`, `USD`, `EUR`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

impl Currency {
    /// `text` as a currency code, in any case; `None` unless it is three ASCII letters.
    pub fn parse(text: &str) -> Option<Currency> {
        let b = text.trim().as_bytes();
        if b.len() != 3 || !b.iter().all(u8::is_ascii_alphabetic) {
            return None;
        }
        Some(Currency([
            b[0].to_ascii_uppercase(),
            b[1].to_ascii_uppercase(),
            b[2].to_ascii_uppercase(),
        ]))
    }

    pub fn as_str(&self) -> &str {
        // Three ASCII letters, checked by `parse`.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }

    /// How many digits of an amount are after the decimal point (ISO 4217): 2 for most, 0 for
    /// the yen and the won, 3 for the dinars of Bahrain, Jordan, Kuwait, Libya, Iraq and Tunisia
    /// and for the rial of Oman.
    pub fn minor_digits(&self) -> u32 {
        match self.as_str() {
            "JPY" | "KRW" | "VND" | "CLP" | "ISK" | "UGX" | "XAF" | "XOF" | "PYG" | "RWF" => 0,
            "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
            _ => 2,
        }
    }

    /// `minor` units of this currency written as a person reads them: `1250` CNY is `12.50`.
    pub fn format(&self, minor: i128) -> String {
        let digits = self.minor_digits();
        let sign = if minor < 0 { "-" } else { "" };
        let abs = minor.unsigned_abs();
        if digits == 0 {
            return format!("{sign}{abs}");
        }
        let unit = 10u128.pow(digits);
        format!(
            "{sign}{}.{:0width$}",
            abs / unit,
            abs % unit,
            width = digits as usize
        )
    }

    /// An amount as a person writes it (`12.5`, `12.50`, `1200`) in minor units, exactly: more
    /// decimals than the currency has, a sign, or anything but digits and one point is refused.
    pub fn parse_amount(&self, text: &str) -> Option<i64> {
        let text = text.trim();
        let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
        let digits = self.minor_digits() as usize;
        if whole.is_empty()
            || frac.len() > digits
            || (text.contains('.') && frac.is_empty())
            || !whole
                .bytes()
                .chain(frac.bytes())
                .all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let mut minor: i64 = whole.parse().ok()?;
        for _ in 0..digits {
            minor = minor.checked_mul(10)?;
        }
        let frac_value: i64 = if frac.is_empty() {
            0
        } else {
            format!("{frac:0<digits$}").parse().ok()?
        };
        minor.checked_add(frac_value)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an account is for. Each organisation has its own; the purpose sets which side may
/// not outgrow the other unless the account is opened otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Money the organisation holds on the platform, to spend.
    Wallet,
    /// Money held for a deal until it is delivered (a work order, a booking).
    Escrow,
    /// What the organisation earned from sales.
    Revenue,
    /// What is owed to contributors from sales, until paid out.
    RoyaltiesPayable,
    /// The platform's fees.
    PlatformFees,
    /// Tax collected, until paid over.
    Tax,
    /// Money crossing the platform's edge (a bank): the one purpose whose balance may be of
    /// either sign.
    Settlement,
}

impl Purpose {
    pub const ALL: [Purpose; 7] = [
        Purpose::Wallet,
        Purpose::Escrow,
        Purpose::Revenue,
        Purpose::RoyaltiesPayable,
        Purpose::PlatformFees,
        Purpose::Tax,
        Purpose::Settlement,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Wallet => "wallet",
            Purpose::Escrow => "escrow",
            Purpose::Revenue => "revenue",
            Purpose::RoyaltiesPayable => "royalties_payable",
            Purpose::PlatformFees => "platform_fees",
            Purpose::Tax => "tax",
            Purpose::Settlement => "settlement",
        }
    }

    pub fn parse(s: &str) -> Option<Purpose> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// The constraint an account of this purpose has unless opened otherwise: every account
    /// holds money for someone (its credits are what it was given), so its debits may not
    /// exceed its credits; a settlement account is the outside world and may go either way.
    pub fn default_flags(self) -> Flags {
        Flags {
            debits_must_not_exceed_credits: self != Purpose::Settlement,
            credits_must_not_exceed_debits: false,
        }
    }
}

/// What an account may not do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
pub struct Flags {
    /// Its debits, posted and pending, may never be more than its posted credits: it cannot be
    /// overdrawn, even by money promised but not yet moved.
    pub debits_must_not_exceed_credits: bool,
    /// Its credits, posted and pending, may never be more than its posted debits.
    pub credits_must_not_exceed_debits: bool,
}

impl Flags {
    /// As stored: bit 0 and bit 1.
    pub fn bits(self) -> i64 {
        i64::from(self.debits_must_not_exceed_credits)
            | i64::from(self.credits_must_not_exceed_debits) << 1
    }

    pub fn from_bits(bits: i64) -> Flags {
        Flags {
            debits_must_not_exceed_credits: bits & 1 != 0,
            credits_must_not_exceed_debits: bits & 2 != 0,
        }
    }
}

/// The four sums of an account, in minor units: what was moved out of it (debits) and into it
/// (credits), posted and pending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
pub struct Balance {
    pub debits_posted: i64,
    pub credits_posted: i64,
    pub debits_pending: i64,
    pub credits_pending: i64,
}

/// A change to one account's sums.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Delta {
    pub debits_posted: i64,
    pub credits_posted: i64,
    pub debits_pending: i64,
    pub credits_pending: i64,
}

impl Balance {
    /// Credits less debits, posted: what the account holds.
    pub fn posted(&self) -> i128 {
        i128::from(self.credits_posted) - i128::from(self.debits_posted)
    }

    /// What can be moved out of the account now: what it holds less what is held for its
    /// pending debits (money coming in counts once it is posted), as its flags count it.
    pub fn available(&self) -> i128 {
        self.posted() - i128::from(self.debits_pending)
    }

    /// The sums after `d`, if no sum overflows or goes below zero and the account's `flags`
    /// still hold.
    pub fn apply(self, d: Delta, flags: Flags) -> Result<Balance, LedgerRule> {
        let add = |a: i64, b: i64| {
            a.checked_add(b)
                .filter(|v| *v >= 0)
                .ok_or(LedgerRule::Overflow)
        };
        let next = Balance {
            debits_posted: add(self.debits_posted, d.debits_posted)?,
            credits_posted: add(self.credits_posted, d.credits_posted)?,
            debits_pending: add(self.debits_pending, d.debits_pending)?,
            credits_pending: add(self.credits_pending, d.credits_pending)?,
        };
        next.check(flags)?;
        Ok(next)
    }

    /// Whether the sums keep the account's `flags`.
    pub fn check(&self, flags: Flags) -> Result<(), LedgerRule> {
        let debits = i128::from(self.debits_posted) + i128::from(self.debits_pending);
        let credits = i128::from(self.credits_posted) + i128::from(self.credits_pending);
        if flags.debits_must_not_exceed_credits && debits > i128::from(self.credits_posted) {
            return Err(LedgerRule::ExceedsCredits);
        }
        if flags.credits_must_not_exceed_debits && credits > i128::from(self.debits_posted) {
            return Err(LedgerRule::ExceedsDebits);
        }
        Ok(())
    }
}

/// The rules of the ledger a request can break.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LedgerRule {
    /// A transfer's two accounts are one.
    #[error("ledger.same_account")]
    SameAccount,
    /// A transfer's accounts (or the transfer and its accounts) are in different currencies.
    #[error("ledger.currency_mismatch")]
    CurrencyMismatch,
    /// The debit would take the account past its credits.
    #[error("ledger.exceeds_credits")]
    ExceedsCredits,
    /// The credit would take the account past its debits.
    #[error("ledger.exceeds_debits")]
    ExceedsDebits,
    /// A sum would leave what 64 bits hold.
    #[error("ledger.overflow")]
    Overflow,
    /// The pending transfer was posted, voided or expired already.
    #[error("ledger.pending_closed")]
    PendingClosed,
    /// More would be posted than the pending transfer holds.
    #[error("ledger.exceeds_pending")]
    ExceedsPending,
    /// A key already names a transfer with other parameters.
    #[error("ledger.key_reused")]
    KeyReused,
}

impl LedgerRule {
    pub const ALL: [LedgerRule; 8] = [
        LedgerRule::SameAccount,
        LedgerRule::CurrencyMismatch,
        LedgerRule::ExceedsCredits,
        LedgerRule::ExceedsDebits,
        LedgerRule::Overflow,
        LedgerRule::PendingClosed,
        LedgerRule::ExceedsPending,
        LedgerRule::KeyReused,
    ];

    pub const fn code(self) -> &'static str {
        match self {
            LedgerRule::SameAccount => "ledger.same_account",
            LedgerRule::CurrencyMismatch => "ledger.currency_mismatch",
            LedgerRule::ExceedsCredits => "ledger.exceeds_credits",
            LedgerRule::ExceedsDebits => "ledger.exceeds_debits",
            LedgerRule::Overflow => "ledger.overflow",
            LedgerRule::PendingClosed => "ledger.pending_closed",
            LedgerRule::ExceedsPending => "ledger.exceeds_pending",
            LedgerRule::KeyReused => "ledger.key_reused",
        }
    }
}

/// What a transfer does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Moves `amount` at once.
    Posted,
    /// Holds `amount` on both accounts until posted, voided or expired.
    Pending,
    /// Posts a pending transfer, in full or in part (the rest goes back).
    Post,
    /// Gives a pending transfer's amount back.
    Void,
    /// Gives back a pending transfer whose time ran out, by the server's clock.
    Expire,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Posted,
        Kind::Pending,
        Kind::Post,
        Kind::Void,
        Kind::Expire,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Posted => "posted",
            Kind::Pending => "pending",
            Kind::Post => "post",
            Kind::Void => "void",
            Kind::Expire => "expire",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether the transfer closes a pending one.
    pub fn closes(self) -> bool {
        matches!(self, Kind::Post | Kind::Void | Kind::Expire)
    }
}

/// Where a pending transfer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PendingState {
    Pending,
    Posted,
    Voided,
    Expired,
}

impl PendingState {
    pub fn as_str(self) -> &'static str {
        match self {
            PendingState::Pending => "pending",
            PendingState::Posted => "posted",
            PendingState::Voided => "voided",
            PendingState::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<PendingState> {
        [
            PendingState::Pending,
            PendingState::Posted,
            PendingState::Voided,
            PendingState::Expired,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }

    /// What closing a pending transfer with `kind` leaves it as.
    pub fn after(kind: Kind) -> PendingState {
        match kind {
            Kind::Post => PendingState::Posted,
            Kind::Void => PendingState::Voided,
            Kind::Expire => PendingState::Expired,
            Kind::Posted | Kind::Pending => PendingState::Pending,
        }
    }
}

/// What a transfer of `kind` does to its debit and its credit account: `amount` is what it
/// moves (for a post, what is posted), `held` what the pending transfer it closes holds.
pub fn deltas(kind: Kind, amount: i64, held: i64) -> (Delta, Delta) {
    match kind {
        Kind::Posted => (
            Delta {
                debits_posted: amount,
                ..Delta::default()
            },
            Delta {
                credits_posted: amount,
                ..Delta::default()
            },
        ),
        Kind::Pending => (
            Delta {
                debits_pending: amount,
                ..Delta::default()
            },
            Delta {
                credits_pending: amount,
                ..Delta::default()
            },
        ),
        Kind::Post => (
            Delta {
                debits_pending: -held,
                debits_posted: amount,
                ..Delta::default()
            },
            Delta {
                credits_pending: -held,
                credits_posted: amount,
                ..Delta::default()
            },
        ),
        Kind::Void | Kind::Expire => (
            Delta {
                debits_pending: -held,
                ..Delta::default()
            },
            Delta {
                credits_pending: -held,
                ..Delta::default()
            },
        ),
    }
}

/// An account as the invariants see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountState {
    pub currency: Currency,
    pub flags: Flags,
    pub balance: Balance,
}

/// What is wrong with a ledger: the invariant broken and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Broken {
    /// In a currency, the debits and the credits (posted, or pending) do not sum to the same.
    Unbalanced {
        currency: Currency,
        pending: bool,
        debits: i128,
        credits: i128,
    },
    /// An account is past what its flags allow.
    Overdrawn { account: Uuid, rule: LedgerRule },
    /// An account's sums are not what its transfers make them.
    Mismatch { account: Uuid },
}

impl fmt::Display for Broken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Broken::Unbalanced {
                currency,
                pending,
                debits,
                credits,
            } => write!(
                f,
                "{currency}: {} debits {debits} and credits {credits} differ",
                if *pending { "pending" } else { "posted" }
            ),
            Broken::Overdrawn { account, rule } => {
                write!(f, "account {account}: {}", rule.code())
            }
            Broken::Mismatch { account } => {
                write!(f, "account {account}: its sums are not its transfers'")
            }
        }
    }
}

/// Checks the invariants of every account of a ledger: in each currency the debits equal the
/// credits, posted and pending alike (every transfer has two sides of one amount), and no
/// account is past what its flags allow.
pub fn check(accounts: &HashMap<Uuid, AccountState>) -> Vec<Broken> {
    let mut sums: BTreeMap<Currency, [i128; 4]> = BTreeMap::new();
    let mut broken = Vec::new();
    let mut ids: Vec<&Uuid> = accounts.keys().collect();
    ids.sort();
    for id in ids {
        let a = &accounts[id];
        let s = sums.entry(a.currency).or_default();
        s[0] += i128::from(a.balance.debits_posted);
        s[1] += i128::from(a.balance.credits_posted);
        s[2] += i128::from(a.balance.debits_pending);
        s[3] += i128::from(a.balance.credits_pending);
        if let Err(rule) = a.balance.check(a.flags) {
            broken.push(Broken::Overdrawn { account: *id, rule });
        }
    }
    for (currency, [dp, cp, dq, cq]) in sums {
        if dp != cp {
            broken.push(Broken::Unbalanced {
                currency,
                pending: false,
                debits: dp,
                credits: cp,
            });
        }
        if dq != cq {
            broken.push(Broken::Unbalanced {
                currency,
                pending: true,
                debits: dq,
                credits: cq,
            });
        }
    }
    broken
}

/// A transfer asked of the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ask {
    pub id: Uuid,
    pub kind: Kind,
    pub debit: Uuid,
    pub credit: Uuid,
    /// For a post, what is posted (`None`: all of it); ignored by a void and an expiry.
    pub amount: Option<i64>,
    /// The pending transfer a post, a void or an expiry closes.
    pub pending: Option<Uuid>,
}

/// A pending transfer the model holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    pub debit: Uuid,
    pub credit: Uuid,
    pub amount: i64,
    pub state: PendingState,
}

/// Why the model refused a transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Rule(LedgerRule),
    UnknownAccount,
    UnknownPending,
    BadAmount,
}

/// The ledger in memory: the reference the store is held to in tests. A batch of transfers is
/// applied whole or not at all, as linked transfers are.
#[derive(Debug, Clone, Default)]
pub struct Model {
    pub accounts: HashMap<Uuid, AccountState>,
    pub pending: HashMap<Uuid, Held>,
}

impl Model {
    pub fn open(&mut self, id: Uuid, currency: Currency, flags: Flags) {
        self.accounts.insert(
            id,
            AccountState {
                currency,
                flags,
                balance: Balance::default(),
            },
        );
    }

    /// Applies `batch` in order, all or none; on a refusal, the index of the transfer refused.
    pub fn apply(&mut self, batch: &[Ask]) -> Result<(), (usize, Refusal)> {
        let mut next = self.clone();
        for (i, ask) in batch.iter().enumerate() {
            next.one(ask).map_err(|r| (i, r))?;
        }
        *self = next;
        Ok(())
    }

    fn one(&mut self, ask: &Ask) -> Result<(), Refusal> {
        let (debit, credit, amount, held) = if ask.kind.closes() {
            let p = ask
                .pending
                .and_then(|p| self.pending.get(&p).copied())
                .ok_or(Refusal::UnknownPending)?;
            if p.state != PendingState::Pending {
                return Err(Refusal::Rule(LedgerRule::PendingClosed));
            }
            let amount = match ask.kind {
                Kind::Post => ask.amount.unwrap_or(p.amount),
                _ => 0,
            };
            if amount < 0 || (ask.kind == Kind::Post && amount == 0) {
                return Err(Refusal::BadAmount);
            }
            if amount > p.amount {
                return Err(Refusal::Rule(LedgerRule::ExceedsPending));
            }
            (p.debit, p.credit, amount, p.amount)
        } else {
            let amount = ask.amount.filter(|a| *a > 0).ok_or(Refusal::BadAmount)?;
            (ask.debit, ask.credit, amount, 0)
        };
        if debit == credit {
            return Err(Refusal::Rule(LedgerRule::SameAccount));
        }
        let d = *self.accounts.get(&debit).ok_or(Refusal::UnknownAccount)?;
        let c = *self.accounts.get(&credit).ok_or(Refusal::UnknownAccount)?;
        if d.currency != c.currency {
            return Err(Refusal::Rule(LedgerRule::CurrencyMismatch));
        }
        let (dd, cd) = deltas(ask.kind, amount, held);
        let db = d.balance.apply(dd, d.flags).map_err(Refusal::Rule)?;
        let cb = c.balance.apply(cd, c.flags).map_err(Refusal::Rule)?;
        self.accounts
            .insert(debit, AccountState { balance: db, ..d });
        self.accounts
            .insert(credit, AccountState { balance: cb, ..c });
        match ask.kind {
            Kind::Pending => {
                self.pending.insert(
                    ask.id,
                    Held {
                        debit,
                        credit,
                        amount,
                        state: PendingState::Pending,
                    },
                );
            }
            k if k.closes() => {
                if let Some(p) = ask.pending.and_then(|p| self.pending.get_mut(&p)) {
                    p.state = PendingState::after(k);
                }
            }
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cny() -> Currency {
        Currency::parse("cny").unwrap()
    }

    #[test]
    fn currencies_and_amounts_read_and_write_exactly() {
        assert_eq!(cny().as_str(), "CNY");
        for bad in ["", "CN", "CNYY", "C1Y", "人民币"] {
            assert_eq!(Currency::parse(bad), None, "{bad}");
        }
        let jpy = Currency::parse("JPY").unwrap();
        let kwd = Currency::parse("KWD").unwrap();
        assert_eq!(cny().parse_amount("12.5"), Some(1250));
        assert_eq!(cny().parse_amount("12.50"), Some(1250));
        assert_eq!(cny().parse_amount("1200"), Some(120_000));
        assert_eq!(cny().parse_amount("0.07"), Some(7));
        assert_eq!(jpy.parse_amount("1200"), Some(1200));
        assert_eq!(kwd.parse_amount("1.005"), Some(1005));
        for bad in [
            "12.505",
            "-1",
            "1,2",
            "12.",
            ".5",
            "",
            "1e3",
            "92233720368547758.08",
        ] {
            assert_eq!(cny().parse_amount(bad), None, "{bad}");
        }
        assert_eq!(jpy.parse_amount("1.5"), None);
        assert_eq!(cny().format(1250), "12.50");
        assert_eq!(cny().format(-7), "-0.07");
        assert_eq!(jpy.format(1200), "1200");
        assert_eq!(kwd.format(1005), "1.005");
    }

    #[test]
    fn an_account_with_flags_is_never_overdrawn() {
        let flags = Purpose::Wallet.default_flags();
        let funded = Balance {
            credits_posted: 100,
            ..Balance::default()
        };
        let (take, _) = deltas(Kind::Pending, 60, 0);
        let held = funded.apply(take, flags).unwrap();
        assert_eq!((held.posted(), held.available()), (100, 40));
        assert_eq!(held.apply(take, flags), Err(LedgerRule::ExceedsCredits));
        let (post, _) = deltas(Kind::Post, 50, 60);
        let posted = held.apply(post, flags).unwrap();
        assert_eq!((posted.posted(), posted.debits_pending), (50, 0));
        assert!(
            Balance::default()
                .apply(take, Purpose::Settlement.default_flags())
                .is_ok()
        );
        let near = Balance {
            credits_posted: i64::MAX,
            ..Balance::default()
        };
        let (_, credit) = deltas(Kind::Posted, 1, 0);
        assert_eq!(
            near.apply(credit, Flags::default()),
            Err(LedgerRule::Overflow)
        );
        assert_eq!(Flags::from_bits(flags.bits()), flags);
    }

    /// A random step against a model of four accounts in two currencies.
    fn step() -> impl Strategy<Value = (u8, u8, u8, i64, u8, Option<i64>)> {
        (
            0u8..5,
            0u8..4,
            0u8..4,
            1i64..500,
            0u8..16,
            proptest::option::of(1i64..500),
        )
    }

    proptest! {
        /// Whatever is asked, the model's ledger keeps every invariant, and a refused batch
        /// changes nothing.
        #[test]
        fn the_invariants_hold_whatever_is_asked(steps in proptest::collection::vec(step(), 1..80)) {
            let mut m = Model::default();
            let ids: Vec<Uuid> = (0..4u128).map(Uuid::from_u128).collect();
            let usd = Currency::parse("USD").unwrap();
            m.open(ids[0], cny(), Purpose::Settlement.default_flags());
            m.open(ids[1], cny(), Purpose::Wallet.default_flags());
            m.open(ids[2], cny(), Purpose::Escrow.default_flags());
            m.open(ids[3], usd, Purpose::Wallet.default_flags());
            let mut pendings: Vec<Uuid> = Vec::new();
            for (n, (kind, d, c, amount, p, part)) in steps.into_iter().enumerate() {
                let kind = Kind::ALL[kind as usize];
                let id = Uuid::from_u128(1000 + n as u128);
                let ask = Ask {
                    id,
                    kind,
                    debit: ids[d as usize],
                    credit: ids[c as usize],
                    amount: if kind == Kind::Post { part } else { Some(amount) },
                    pending: pendings.get(p as usize % pendings.len().max(1)).copied(),
                };
                let before = m.clone();
                match m.apply(&[ask]) {
                    Ok(()) => {
                        if kind == Kind::Pending {
                            pendings.push(id);
                        }
                    }
                    Err(_) => {
                        prop_assert_eq!(&m.accounts, &before.accounts);
                    }
                }
                prop_assert!(check(&m.accounts).is_empty(), "{:?}", check(&m.accounts));
            }
        }
    }

    #[test]
    fn a_batch_is_all_or_nothing() {
        let mut m = Model::default();
        let (bank, wallet) = (Uuid::from_u128(1), Uuid::from_u128(2));
        m.open(bank, cny(), Purpose::Settlement.default_flags());
        m.open(wallet, cny(), Purpose::Wallet.default_flags());
        let pay = |id: u128, debit, credit, amount| Ask {
            id: Uuid::from_u128(id),
            kind: Kind::Posted,
            debit,
            credit,
            amount: Some(amount),
            pending: None,
        };
        // In, then out for more than came in: the second is refused and the first undone.
        let refused = m.apply(&[pay(10, bank, wallet, 100), pay(11, wallet, bank, 101)]);
        assert_eq!(refused, Err((1, Refusal::Rule(LedgerRule::ExceedsCredits))));
        assert_eq!(m.accounts[&wallet].balance, Balance::default());
        m.apply(&[pay(12, bank, wallet, 100), pay(13, wallet, bank, 100)])
            .unwrap();
        assert_eq!(m.accounts[&wallet].balance.posted(), 0);
        // Two-phase: held, then posted in part; closing it again is refused.
        let hold = Ask {
            kind: Kind::Pending,
            ..pay(14, bank, wallet, 80)
        };
        m.apply(&[hold]).unwrap();
        let post = Ask {
            id: Uuid::from_u128(15),
            kind: Kind::Post,
            debit: Uuid::nil(),
            credit: Uuid::nil(),
            amount: Some(30),
            pending: Some(hold.id),
        };
        m.apply(&[post]).unwrap();
        let b = m.accounts[&wallet].balance;
        assert_eq!((b.posted(), b.credits_pending), (30, 0));
        let void = Ask {
            id: Uuid::from_u128(16),
            kind: Kind::Void,
            ..post
        };
        assert_eq!(
            m.apply(&[void]),
            Err((0, Refusal::Rule(LedgerRule::PendingClosed)))
        );
        assert!(check(&m.accounts).is_empty());
    }

    #[test]
    fn a_broken_ledger_is_named() {
        let mut accounts = HashMap::new();
        let id = Uuid::from_u128(7);
        accounts.insert(
            id,
            AccountState {
                currency: cny(),
                flags: Purpose::Wallet.default_flags(),
                balance: Balance {
                    debits_posted: 5,
                    ..Balance::default()
                },
            },
        );
        let broken = check(&accounts);
        assert_eq!(broken.len(), 2, "{broken:?}");
        assert!(broken.contains(&Broken::Overdrawn {
            account: id,
            rule: LedgerRule::ExceedsCredits
        }));
        assert!(
            broken[1]
                .to_string()
                .contains("posted debits 5 and credits 0")
        );
    }
}
