//! `xtask sample-data`: writes the synthetic ITSM incident set of `data/` from a seed. This module
//! owns the generator: the draws, their order and the CSV it writes; the texts it draws from are
//! data, in `xtask/catalogue.json` ([`crate::catalogue`]).
//!
//! The set is drawn from a problem catalogue: 14 categories, each with several distinct problems.
//! A problem has one canonical resolution (so "same category + same resolution" means "same
//! problem", the rule the pair generator relies on), titles in four voices (terse user, angry user,
//! formal service desk, monitoring alert), user-written bodies, third-person symptoms for
//! service-desk notes and, for what monitoring sees, alert texts. Templates have slots
//! (`{printer}`, `{name}`, ...) filled from pools: the "episode" slots (the switch, printer, change
//! number ...) are shared by all tickets of one event, the "person" slots are drawn per reporter.
//!
//! Episodes: standalone tickets; duplicate clusters (one problem reported 2-5 times in different
//! words around the same time, `duplicate_of` = the first); causal scenarios (a root cause and its
//! effects, `caused_by` = the parent, chains up to length 3); related groups (different problems of
//! one service or change, `related_to` the earlier ones); recurring problems (the same problem on
//! the same thing months apart, deliberately unlinked). Tickets are then sorted by time and numbered,
//! so every link points to an earlier number.
//!
//! Everything is drawn from one seeded [`Rng`] in a fixed order and maps are `BTreeMap`s: the same
//! seed writes the same bytes on every platform.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args as ClapArgs;
use serde_json::json;
use ticketsim::data::incidents::INCIDENT_COLUMNS;
use ticketsim::rng::Rng;

use crate::catalogue::{Abbreviation, Catalogue, Problem};

/// Arguments of `xtask sample-data`.
#[derive(ClapArgs, Debug)]
pub struct SampleDataArgs {
    /// Output folder (created when missing); `incidents.csv` is written into it.
    #[arg(long)]
    out: PathBuf,
    /// Seed of the generator; the same seed writes the same bytes.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Number of incidents.
    #[arg(long, default_value_t = 400)]
    count: usize,
}

/// Run the command: write `<out>/incidents.csv` and print a JSON summary of what is in it.
pub fn run(args: SampleDataArgs) -> Result<()> {
    if args.count == 0 {
        bail!("--count must be at least 1");
    }
    let cat = Catalogue::load()?;
    let set = generate(&cat, args.seed, args.count);
    let bytes = to_csv(&set.rows)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let path = args.out.join("incidents.csv");
    std::fs::write(&path, &bytes).with_context(|| format!("cannot write {}", path.display()))?;
    let mut summary = summarize(&set);
    summary["file"] = json!(path.display().to_string());
    summary["seed"] = json!(args.seed);
    println!("{summary}");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Output rows
// ---------------------------------------------------------------------------------------------

/// One CSV row: the fields of `ticketsim::data::incidents::Incident` plus number, time and priority.
#[derive(Clone, Debug)]
struct Row<'c> {
    number: String,
    opened_at: String,
    short_description: String,
    description: String,
    category: &'c str,
    subcategory: &'c str,
    assignment_group: &'c str,
    priority: &'c str,
    resolution: &'c str,
    duplicate_of: Vec<String>,
    caused_by: Vec<String>,
    related_to: Vec<String>,
}

/// RFC 4180 quoting by the csv crate; records end with `\n`, the crate's default.
fn to_csv(rows: &[Row]) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(INCIDENT_COLUMNS)?;
    for r in rows {
        w.write_record([
            r.number.as_str(),
            &r.opened_at,
            &r.short_description,
            &r.description,
            r.category,
            r.subcategory,
            r.assignment_group,
            r.priority,
            r.resolution,
            &r.duplicate_of.join(";"),
            &r.caused_by.join(";"),
            &r.related_to.join(";"),
        ])?;
    }
    w.into_inner().context("csv buffer")
}

/// The generated rows plus what cannot be read back from them (recurring series are unlinked).
struct SampleSet<'c> {
    rows: Vec<Row<'c>>,
    recurring_series: usize,
    causal_scenarios: usize,
    related_groups: usize,
}

fn summarize(set: &SampleSet) -> serde_json::Value {
    let rows = &set.rows;
    let mut per_category: BTreeMap<&str, usize> = BTreeMap::new();
    for r in rows {
        *per_category.entry(r.category).or_default() += 1;
    }
    let mut cluster_sizes: BTreeMap<&str, usize> = BTreeMap::new();
    for r in rows {
        for d in &r.duplicate_of {
            *cluster_sizes.entry(d.as_str()).or_insert(1) += 1;
        }
    }
    let mut size_hist: BTreeMap<String, usize> = BTreeMap::new();
    for s in cluster_sizes.values() {
        *size_hist.entry(s.to_string()).or_default() += 1;
    }
    let links =
        |f: for<'r> fn(&'r Row) -> &'r Vec<String>| rows.iter().map(|r| f(r).len()).sum::<usize>();
    let has_cause: BTreeSet<&str> = rows
        .iter()
        .filter(|r| !r.caused_by.is_empty())
        .map(|r| r.number.as_str())
        .collect();
    let chains3 = rows
        .iter()
        .filter(|r| r.caused_by.iter().any(|c| has_cause.contains(c.as_str())))
        .count();
    let mut linked: BTreeSet<&str> = BTreeSet::new();
    for r in rows {
        let out = r
            .duplicate_of
            .iter()
            .chain(&r.caused_by)
            .chain(&r.related_to);
        for t in out {
            linked.insert(t);
            linked.insert(&r.number);
        }
    }
    let titles: BTreeSet<&str> = rows.iter().map(|r| r.short_description.as_str()).collect();
    json!({
        "incidents": rows.len(),
        "categories": per_category.len(),
        "per_category": per_category,
        "duplicate_clusters": cluster_sizes.len(),
        "duplicate_cluster_sizes": size_hist,
        "duplicate_links": links(|r| &r.duplicate_of),
        "causal_scenarios": set.causal_scenarios,
        "causal_links": links(|r| &r.caused_by),
        "causal_links_in_chains_of_3": chains3,
        "related_groups": set.related_groups,
        "related_links": links(|r| &r.related_to),
        "recurring_series": set.recurring_series,
        "standalone": rows.len() - linked.len(),
        "distinct_titles": titles.len(),
    })
}

// ---------------------------------------------------------------------------------------------
// Time
// ---------------------------------------------------------------------------------------------

/// First day of the window, a Monday (weekday of day `d` is `d % 7`, 0 = Monday).
const START: (i64, i64, i64) = (2024, 1, 8);
/// Length of the window in days (about six months).
const SPAN_DAYS: i64 = 182;
const DAY: i64 = 86_400;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// `secs` after the start of the window as `YYYY-MM-DD<sep>HH:MM:SS` (local service-desk time).
fn timestamp(secs: i64, sep: char) -> String {
    let days = days_from_civil(START.0, START.1, START.2) + secs.div_euclid(DAY);
    let (y, m, d) = civil_from_days(days);
    let s = secs.rem_euclid(DAY);
    format!(
        "{y:04}-{m:02}-{d:02}{sep}{:02}:{:02}:{:02}",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

// ---------------------------------------------------------------------------------------------
// Slots
// ---------------------------------------------------------------------------------------------

/// Slot values of one ticket (episode + person + derived).
type Ctx<'c> = BTreeMap<&'c str, String>;

/// Replace every `{slot}` in `tpl`. Templates are fixed by the catalogue; an unknown slot is a
/// catalogue bug that the unit tests catch, hence the panic.
fn fill(tpl: &str, ctx: &Ctx) -> String {
    let mut out = String::with_capacity(tpl.len() + 32);
    let mut rest = tpl;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let j = i + rest[i..].find('}').expect("unclosed slot");
        let key = &rest[i + 1..j];
        match ctx.get(key) {
            Some(v) => out.push_str(v),
            None => panic!("template `{tpl}` uses unknown slot `{key}`"),
        }
        rest = &rest[j + 1..];
    }
    out.push_str(rest);
    out
}

/// One of `xs`, uniformly.
fn pick<'a, S: AsRef<str>>(rng: &mut Rng, xs: &'a [S]) -> &'a str {
    xs[rng.below(xs.len())].as_ref()
}

/// First letter upper-case (symptoms are written to follow "reports that").
fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Slots shared by every ticket of one episode: the same switch, printer, share, change ...
fn episode_ctx<'c>(rng: &mut Rng, cat: &'c Catalogue) -> Ctx<'c> {
    let mut c = Ctx::new();
    for pool in &cat.episode_pools {
        c.insert(&pool.slot, pick(rng, &pool.values).to_string());
    }
    c.insert("chg", format!("CHG00{}", 30_000 + rng.below(10_000)));
    c.insert(
        "ip",
        format!(
            "10.{}.{}.{}",
            rng.below(60) + 10,
            rng.below(250) + 1,
            rng.below(250) + 2
        ),
    );
    c.insert("vlan", (100 + rng.below(300)).to_string());
    c.insert("port", format!("Gi1/0/{}", 1 + rng.below(48)));
    c.insert(
        "desk",
        format!("{}.{:02}", 1 + rng.below(5), 1 + rng.below(40)),
    );
    c.insert("count", (6 + rng.below(55)).to_string());
    c
}

/// Slots of one reporter.
fn person_ctx<'c>(rng: &mut Rng, cat: &'c Catalogue) -> Ctx<'c> {
    let mut c = Ctx::new();
    let first = pick(rng, &cat.first_names);
    let last = pick(rng, &cat.last_names);
    c.insert("first", first.to_string());
    c.insert("name", format!("{first} {last}"));
    for pool in &cat.person_pools {
        c.insert(&pool.slot, pick(rng, &pool.values).to_string());
    }
    c.insert("ext", (2000 + rng.below(6000)).to_string());
    let prefix = pick(rng, &["LT", "LT", "LT", "NB", "WS"]);
    c.insert("pc", format!("{prefix}-{:05}", rng.below(100_000)));
    c
}

// ---------------------------------------------------------------------------------------------
// Typos
// ---------------------------------------------------------------------------------------------

/// Word spans that may get a typo: plain letters (≥ 4, not an all-caps acronym), optionally followed
/// by sentence punctuation. Host names, paths, codes and addresses are left alone, as a person
/// mistyping a word does not usually mangle the error code they copied.
fn typo_words(chars: &[char]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && !chars[i].is_whitespace() {
            i += 1;
        }
        let mut end = i;
        while end > start && matches!(chars[end - 1], '.' | ',' | '!' | '?' | ':' | ';' | ')') {
            end -= 1;
        }
        let s = if chars[start] == '(' {
            start + 1
        } else {
            start
        };
        let word = &chars[s..end];
        if word.len() >= 4
            && word.iter().all(|c| c.is_ascii_alphabetic())
            && word.iter().any(|c| c.is_ascii_lowercase())
        {
            out.push((s, end));
        }
    }
    out
}

/// Seeded typos for user-written text: 1-2 of swapped, dropped or doubled letters, a lowercased
/// text, dropped apostrophes and full stops, chat `abbreviations`.
fn add_typos(
    rng: &mut Rng,
    text: &str,
    allow_lowercase: bool,
    abbreviations: &[Abbreviation],
) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let ops = 1 + rng.below(2);
    // An operation can find nothing to do (no apostrophe to drop): draw another, a few times.
    let attempts = 6 * ops;
    let mut done = 0;
    for _ in 0..attempts {
        if done == ops {
            break;
        }
        let before = chars.clone();
        match rng.below(7) {
            op @ 0..=2 => {
                let words = typo_words(&chars);
                if words.is_empty() {
                    continue;
                }
                let (s, e) = words[rng.below(words.len())];
                // Not the first letter: people rarely get that wrong.
                let k = s + 1 + rng.below(e - s - 2);
                match op {
                    0 => chars.swap(k, k + 1),
                    1 => {
                        chars.remove(k);
                    }
                    _ => chars.insert(k, chars[k]),
                }
            }
            3 if allow_lowercase => chars = chars.iter().flat_map(|c| c.to_lowercase()).collect(),
            4 => chars.retain(|&c| c != '\''),
            5 => {
                // Missing full stops at the ends of sentences (not inside names like fs01.local).
                let mut out = Vec::with_capacity(chars.len());
                for (i, &c) in chars.iter().enumerate() {
                    let at_end = chars.get(i + 1).is_none_or(|n| n.is_whitespace());
                    if c == '.' && at_end && i > 0 && chars[i - 1].is_alphabetic() {
                        continue;
                    }
                    out.push(c);
                }
                chars = out;
            }
            _ => {
                let a = &abbreviations[rng.below(abbreviations.len())];
                chars = abbreviate(&chars, &a.from, &a.to);
            }
        }
        done += usize::from(chars != before);
    }
    chars.into_iter().collect()
}

/// The first whole-word `from` replaced by `to` ("and" in "command" stays).
fn abbreviate(chars: &[char], from: &str, to: &str) -> Vec<char> {
    let pat: Vec<char> = from.chars().collect();
    let n = pat.len();
    let boundary = |i: usize| chars.get(i).is_none_or(|c| !c.is_alphanumeric());
    for i in 0..chars.len().saturating_sub(n - 1) {
        if chars[i..i + n] == pat[..] && (i == 0 || boundary(i - 1)) && boundary(i + n) {
            let mut out = chars[..i].to_vec();
            out.extend(to.chars());
            out.extend_from_slice(&chars[i + n..]);
            return out;
        }
    }
    chars.to_vec()
}

// ---------------------------------------------------------------------------------------------
// Tickets
// ---------------------------------------------------------------------------------------------

/// Who wrote the ticket, which decides the title list and the shape of the description.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Voice {
    /// A user in the self-service portal or by e-mail: short, lowercase, typos.
    Terse,
    /// A user who has had enough: capitals, exclamation marks.
    Angry,
    /// The service desk after a call, or an operator for back-end problems.
    Formal,
    /// Created by monitoring: tool-formatted title and body, never a typo.
    Alert,
}

/// Where a ticket sits in its episode: causes are mostly seen by monitoring first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Normal,
    Cause,
}

/// A ticket before numbering; links are indices into the ticket list.
struct Ticket<'c> {
    at: i64,
    short: String,
    desc: String,
    problem: usize,
    resolution: &'c str,
    priority: u8,
    duplicate_of: Option<usize>,
    caused_by: Option<usize>,
    related_to: Vec<usize>,
}

/// The generator's state: the catalogue, the one random stream, the tickets so far.
struct Gen<'c> {
    cat: &'c Catalogue,
    rng: Rng,
    tickets: Vec<Ticket<'c>>,
    recurring_series: usize,
    causal_scenarios: usize,
    related_groups: usize,
}

/// The title templates of one voice.
fn titles_of(p: &Problem, voice: Voice) -> Vec<&str> {
    let list = match voice {
        Voice::Terse => &p.terse,
        Voice::Angry => &p.angry,
        Voice::Formal => &p.formal,
        Voice::Alert => return p.alerts.iter().map(|a| a.title.as_str()).collect(),
    };
    list.iter().map(String::as_str).collect()
}

/// Sentences joined with a space, adding the full stop a fragment lacks (templates for terse
/// voices often end without one).
fn join_sentences(parts: &[String]) -> String {
    let mut out = String::new();
    for part in parts {
        if !out.is_empty() {
            if out.ends_with(|c: char| c.is_alphanumeric() || c == '\'' || c == ')') {
                out.push('.');
            }
            out.push(' ');
        }
        out.push_str(part);
    }
    out
}

impl<'c> Gen<'c> {
    fn chance(&mut self, p: f64) -> bool {
        self.rng.next_f64() < p
    }

    /// A day in `0..SPAN_DAYS - margin`; users rarely open tickets at weekends.
    fn day(&mut self, margin: i64, user: bool) -> i64 {
        loop {
            let d = self.rng.below((SPAN_DAYS - margin).max(1) as usize) as i64;
            if !user || d % 7 < 5 || self.chance(0.12) {
                return d;
            }
        }
    }

    /// A time on `day`: office hours with a morning and an afternoon peak for people, any time for
    /// monitoring.
    fn time_on(&mut self, day: i64, voice: Voice) -> i64 {
        let minute = if voice == Voice::Alert {
            self.rng.below(24 * 60) as i64
        } else {
            let tri = |rng: &mut Rng, n: usize| ((rng.below(n) + rng.below(n)) / 2) as i64;
            if self.chance(0.55) {
                8 * 60 + tri(&mut self.rng, 240)
            } else {
                13 * 60 + tri(&mut self.rng, 300)
            }
        };
        day * DAY + minute * 60 + self.rng.below(60) as i64
    }

    /// People do not open tickets at night and seldom at weekends: a user ticket that an offset
    /// pushed outside office hours moves to the next (working) morning. Monitoring keeps its time.
    fn office_hours(&mut self, t: i64, voice: Voice) -> i64 {
        if voice == Voice::Alert {
            return t;
        }
        let tod = t.rem_euclid(DAY);
        let mut day = t.div_euclid(DAY);
        let weekend = |d: i64| d % 7 >= 5;
        let in_hours = (7 * 3600 + 1800..19 * 3600).contains(&tod);
        if in_hours && !(weekend(day) && self.chance(0.75)) {
            return t;
        }
        if tod >= 19 * 3600 {
            day += 1;
        }
        if weekend(day) && self.chance(0.75) {
            day += 7 - day % 7;
        }
        let minute = 7 * 60 + 30 + ((self.rng.below(90) + self.rng.below(90)) / 2) as i64;
        (day * DAY + minute * 60 + self.rng.below(60) as i64).max(t)
    }

    /// Seconds between `lo` and `hi` minutes.
    fn minutes(&mut self, lo: usize, hi: usize) -> i64 {
        ((lo + self.rng.below(hi - lo + 1)) * 60 + self.rng.below(60)) as i64
    }

    /// How long after the original a duplicate is reported: mostly within hours, sometimes the
    /// next day or the one after.
    fn duplicate_delay(&mut self) -> i64 {
        if self.chance(0.8) {
            self.minutes(3, 240)
        } else {
            self.minutes(240, 2880)
        }
    }

    /// Weight of a problem for random choice: everyday user problems are the bulk of a service
    /// desk's work; outages and back-end jobs are rarer.
    fn weight(p: &Problem) -> usize {
        if p.terse.is_empty() || p.priority == 1 {
            1
        } else {
            3
        }
    }

    fn random_problem(&mut self) -> usize {
        let problems = &self.cat.problems;
        let total: usize = problems.iter().map(Self::weight).sum();
        let mut x = self.rng.below(total);
        for (i, p) in problems.iter().enumerate() {
            let w = Self::weight(p);
            if x < w {
                return i;
            }
            x -= w;
        }
        unreachable!()
    }

    fn voice(&mut self, p: &Problem, role: Role, allow_alert: bool) -> Voice {
        let alert = if allow_alert && !p.alerts.is_empty() {
            match role {
                Role::Cause => 150,
                Role::Normal if p.terse.is_empty() => 50,
                Role::Normal => 12,
            }
        } else {
            0
        };
        let options = [
            (Voice::Terse, if p.terse.is_empty() { 0 } else { 45 }),
            (Voice::Angry, if p.angry.is_empty() { 0 } else { 10 }),
            (Voice::Formal, if p.terse.is_empty() { 50 } else { 33 }),
            (Voice::Alert, alert),
        ];
        let total: usize = options.iter().map(|o| o.1).sum();
        let mut x = self.rng.below(total);
        for (v, w) in options {
            if x < w {
                return v;
            }
            x -= w;
        }
        unreachable!()
    }

    /// The problem's priority, raised for root causes, sometimes by an angry caller, and shifted
    /// by one now and then (agents judge differently). Critical stays for outages and causes.
    fn priority(&mut self, p: &Problem, role: Role, voice: Voice) -> u8 {
        let mut prio = p.priority as i32;
        if role == Role::Cause {
            prio = prio.min(2);
        }
        if voice == Voice::Angry && self.chance(0.3) {
            prio -= 1;
        } else if self.chance(0.15) {
            prio += if self.chance(0.5) { 1 } else { -1 };
        }
        let highest = if p.priority == 1 || role == Role::Cause {
            1
        } else {
            2
        };
        prio.clamp(highest, 4) as u8
    }

    /// The description a user writes: a portal one-liner, or an e-mail with greeting and sign-off,
    /// sometimes with an extra remark, the device, or (related tickets) the change they suspect.
    fn user_body(
        &mut self,
        p: &Problem,
        ctx: &Ctx,
        angry: bool,
        note: Option<&str>,
        typos: bool,
    ) -> String {
        let cat = self.cat;
        let body = fill(pick(&mut self.rng, &p.body), ctx);
        let mut main = vec![body];
        if let Some(n) = note {
            main.push(fill(n, ctx));
        }
        if angry {
            main.push(fill(pick(&mut self.rng, &cat.angry_extras), ctx));
        }
        let style = self.rng.below(10);
        if style < 6 && self.chance(0.45) {
            main.push(fill(pick(&mut self.rng, &cat.extras), ctx));
        }
        // E-mails ramble more than portal forms.
        if style >= 5 && self.chance(0.35) {
            main.push(fill(pick(&mut self.rng, &cat.long_extras), ctx));
        }
        let text = join_sentences(&main);
        // Typos go into what the user typed now, not into the saved e-mail signature.
        let text = if typos {
            add_typos(&mut self.rng, &text, !angry, &cat.abbreviations)
        } else {
            text
        };
        match style {
            // Self-service portal: just the text, sometimes with the device the form asks for.
            0..=3 => text,
            4 => format!(
                "{text}\nDevice: {} ({}, {})",
                ctx["pc"], ctx["laptop"], ctx["os"]
            ),
            // E-mail to the service desk.
            _ => {
                let mut parts = Vec::new();
                if self.chance(0.8) {
                    parts.push(pick(&mut self.rng, &cat.greetings).to_string());
                }
                parts.push(text);
                if self.chance(0.85) {
                    parts.push(fill(pick(&mut self.rng, &cat.signoffs), ctx));
                }
                parts.join("\n\n")
            }
        }
    }

    /// The service desk's (or an operator's) note: symptom, what was checked, where it went.
    fn formal_body(&mut self, p: &Problem, ctx: &mut Ctx<'c>, note: Option<&str>) -> String {
        let cat = self.cat;
        let sym = fill(pick(&mut self.rng, &p.symptoms), ctx);
        let n = p.checks.len();
        let first = self.rng.below(n);
        let mut checks = vec![fill(&p.checks[first], ctx)];
        if n > 1 && self.chance(0.5) {
            checks.push(fill(
                &p.checks[(first + 1 + self.rng.below(n - 1)) % n],
                ctx,
            ));
        }
        ctx.insert("sym_cap", capitalize(&sym));
        ctx.insert("sym", sym);
        ctx.insert("checks", checks.join(" "));
        ctx.insert(
            "check_list",
            checks
                .iter()
                .map(|c| format!("- {c}"))
                .collect::<Vec<_>>()
                .join("\n"),
        );
        // Low-priority problems concern one person; only the others get team- or site-wide impact.
        let impacts = if p.priority >= 3 {
            &cat.impacts[..3]
        } else {
            &cat.impacts[..]
        };
        let impact = fill(pick(&mut self.rng, impacts), ctx);
        ctx.insert("impact", impact);
        let wrappers = if p.terse.is_empty() {
            &cat.ops_wrappers
        } else {
            &cat.desk_wrappers
        };
        let mut text = fill(pick(&mut self.rng, wrappers), ctx);
        if let Some(n) = note {
            // Notes are written as the user would say them: quoted when the desk takes the call.
            let n = fill(n, ctx);
            if p.terse.is_empty() {
                text.push_str(&format!("\nNote: {n}"));
            } else {
                text.push_str(&format!("\nUser comment: \"{n}\""));
            }
        }
        text
    }

    /// Write one ticket. `used` holds the titles already taken in this episode so that duplicates
    /// are worded differently.
    #[allow(clippy::too_many_arguments)]
    fn emit(
        &mut self,
        pi: usize,
        ep: &Ctx<'c>,
        person: Option<&Ctx<'c>>,
        at: i64,
        voice: Voice,
        role: Role,
        resolution: &'c str,
        note: Option<&str>,
        used: &mut Vec<String>,
    ) -> usize {
        let cat = self.cat;
        let p = &cat.problems[pi];
        let mut ctx = ep.clone();
        let who = match person {
            Some(c) => c.clone(),
            None => person_ctx(&mut self.rng, cat),
        };
        ctx.extend(who);
        // Times the reporter mentions: shortly before the ticket was opened.
        let noticed = at - self.minutes(5, 90);
        ctx.insert(
            "time",
            timestamp(noticed, 'T')[11..16]
                .trim_start_matches('0')
                .to_string(),
        );
        ctx.insert("alert_ts", timestamp(at - self.minutes(0, 2), ' '));
        ctx.insert("group", p.group.to_string());
        let when = pick(&mut self.rng, &cat.when).to_string();
        ctx.insert("when", when);

        let titles = titles_of(p, voice);
        let fresh: Vec<usize> = (0..titles.len())
            .filter(|&i| !used.iter().any(|u| u == titles[i]))
            .collect();
        let ti = if fresh.is_empty() {
            self.rng.below(titles.len())
        } else {
            fresh[self.rng.below(fresh.len())]
        };
        used.push(titles[ti].to_string());
        let mut short = fill(titles[ti], &ctx);
        let desc = match voice {
            Voice::Alert => fill(&p.alerts[ti].body, &ctx),
            Voice::Formal => {
                let d = self.formal_body(p, &mut ctx, note);
                if self.chance(0.05) {
                    add_typos(&mut self.rng, &d, false, &cat.abbreviations)
                } else {
                    d
                }
            }
            Voice::Terse | Voice::Angry => {
                let angry = voice == Voice::Angry;
                // Some users type the title again and nothing else.
                if voice == Voice::Terse && self.chance(0.04) {
                    short.clone()
                } else {
                    let typos = self.chance(0.4);
                    self.user_body(p, &ctx, angry, note, typos)
                }
            }
        };
        if matches!(voice, Voice::Terse | Voice::Angry) && self.chance(0.35) {
            short = add_typos(
                &mut self.rng,
                &short,
                voice == Voice::Terse,
                &cat.abbreviations,
            );
        }
        let priority = self.priority(p, role, voice);
        self.tickets.push(Ticket {
            at,
            short,
            desc,
            problem: pi,
            resolution,
            priority,
            duplicate_of: None,
            caused_by: None,
            related_to: Vec::new(),
        });
        self.tickets.len() - 1
    }

    /// One problem reported `size` times: the first at `at` (or on a fresh day), the rest a little
    /// later by other people, each `duplicate_of` the first. Returns the first ticket.
    #[allow(clippy::too_many_arguments)]
    fn cluster(
        &mut self,
        pi: usize,
        ep: &Ctx<'c>,
        after: Option<i64>,
        size: usize,
        role: Role,
        resolution: &'c str,
        note: Option<&str>,
    ) -> usize {
        let p = &self.cat.problems[pi];
        let mut used = Vec::new();
        let voice = self.voice(p, role, true);
        let at = match after {
            Some(t) => t,
            None => {
                let d = self.day(10, voice != Voice::Alert);
                self.time_on(d, voice)
            }
        };
        let at = self.office_hours(at, voice);
        let first = self.emit(pi, ep, None, at, voice, role, resolution, note, &mut used);
        let mut t = at;
        for _ in 1..size {
            // Monitoring raises one alert per event; the duplicates come from people, and in other
            // words than the reports before them when the catalogue has any left.
            let mut v = self.voice(p, Role::Normal, false);
            for _ in 0..8 {
                if titles_of(p, v).iter().any(|t| !used.iter().any(|u| u == t)) {
                    break;
                }
                v = self.voice(p, Role::Normal, false);
            }
            t += self.duplicate_delay();
            t = self.office_hours(t, v);
            let n = note.filter(|_| self.chance(0.3));
            let i = self.emit(pi, ep, None, t, v, Role::Normal, resolution, n, &mut used);
            self.tickets[i].duplicate_of = Some(first);
        }
        first
    }

    fn duplicate_size(&mut self) -> usize {
        match self.rng.below(20) {
            0..=7 => 2,
            8..=14 => 3,
            15..=17 => 4,
            _ => 5,
        }
    }

    fn single(&mut self) {
        let cat = self.cat;
        let pi = self.random_problem();
        let ep = episode_ctx(&mut self.rng, cat);
        self.cluster(
            pi,
            &ep,
            None,
            1,
            Role::Normal,
            &cat.problems[pi].resolution,
            None,
        );
    }

    /// Plan a causal scenario: which nodes occur (a child only with its parent; at least one
    /// effect) and how many reports each gets. Returns (scenario, per-node cluster size, 0 = absent).
    fn plan_scenario(&mut self) -> (usize, Vec<usize>) {
        let si = self.rng.below(self.cat.scenarios.len());
        let nodes = &self.cat.scenarios[si].nodes;
        loop {
            let mut sizes = vec![0; nodes.len()];
            sizes[0] = if self.chance(0.3) { 2 } else { 1 };
            for (k, n) in nodes.iter().enumerate().skip(1) {
                // A chain goes on more often than not: the effect of an effect is what makes an
                // outage expensive, and chains of three are the rarest links in the set.
                let p = if n.parent == 0 { 0.7 } else { 0.85 };
                if sizes[n.parent] > 0 && self.chance(p) {
                    sizes[k] = match self.rng.below(20) {
                        0..=11 => 1,
                        12..=16 => 2,
                        _ => 3,
                    };
                }
            }
            if sizes[1..].iter().any(|&s| s > 0) {
                return (si, sizes);
            }
        }
    }

    fn scenario(&mut self, si: usize, sizes: &[usize]) {
        let cat = self.cat;
        let sc = &cat.scenarios[si];
        let mut ep = episode_ctx(&mut self.rng, cat);
        for a in &sc.aliases {
            let v = ep[a.from.as_str()].clone();
            ep.insert(&a.slot, v);
        }
        let mut first = vec![usize::MAX; sc.nodes.len()];
        for (k, node) in sc.nodes.iter().enumerate() {
            if sizes[k] == 0 {
                continue;
            }
            let pi = cat.problem_index(&node.problem);
            if k == 0 {
                first[0] = self.cluster(
                    pi,
                    &ep,
                    None,
                    sizes[0],
                    Role::Cause,
                    &cat.problems[pi].resolution,
                    None,
                );
                continue;
            }
            // Effects surface minutes to a few hours after their cause.
            let after = self.tickets[first[node.parent]].at + self.minutes(4, 150);
            let f = self.cluster(
                pi,
                &ep,
                Some(after),
                sizes[k],
                Role::Normal,
                &node.resolution,
                None,
            );
            self.tickets[f].caused_by = Some(first[node.parent]);
            first[k] = f;
        }
        self.causal_scenarios += 1;
    }

    /// Plan a related group: 2-3 of its problems in random order.
    fn plan_related(&mut self) -> (usize, Vec<usize>) {
        let cat = self.cat;
        let gi = self.rng.below(cat.related.len());
        let mut probs: Vec<usize> = cat.related[gi]
            .problems
            .iter()
            .map(|k| cat.problem_index(k))
            .collect();
        self.rng.shuffle(&mut probs);
        let n = if probs.len() >= 3 && self.chance(0.5) {
            3
        } else {
            2
        };
        probs.truncate(n);
        (gi, probs)
    }

    fn related(&mut self, gi: usize, probs: &[usize]) {
        let cat = self.cat;
        let g = &cat.related[gi];
        let ep = episode_ctx(&mut self.rng, cat);
        let person = g.same_person.then(|| person_ctx(&mut self.rng, cat));
        let mut t = 0;
        let mut ids: Vec<usize> = Vec::new();
        for (k, &pi) in probs.iter().enumerate() {
            let p = &cat.problems[pi];
            let voice = self.voice(p, Role::Normal, true);
            t = if k == 0 {
                let d = self.day(12, voice != Voice::Alert);
                self.time_on(d, voice)
            } else {
                // Hours to a few days later: the same change keeps producing tickets.
                let later = t + self.minutes(45, 4 * 24 * 60);
                self.office_hours(later, voice)
            };
            let pool: Vec<&str> = if k == 0 {
                g.notes.iter().map(String::as_str).collect()
            } else {
                g.notes
                    .iter()
                    .chain(&g.follow_ups)
                    .map(String::as_str)
                    .collect()
            };
            let note = if voice != Voice::Alert && !pool.is_empty() && self.chance(0.6) {
                Some(pick(&mut self.rng, &pool))
            } else {
                None
            };
            let i = self.emit(
                pi,
                &ep,
                person.as_ref(),
                t,
                voice,
                Role::Normal,
                &p.resolution,
                note,
                &mut Vec::new(),
            );
            if let Some(&f) = ids.first() {
                self.tickets[i].related_to.push(f);
                // The third ticket sometimes names both earlier ones.
                if k == 2 && self.chance(0.6) {
                    self.tickets[i].related_to.push(ids[1]);
                }
            }
            ids.push(i);
        }
        self.related_groups += 1;
    }

    /// The same problem on the same thing 2-3 times, weeks apart. Not linked: that is what a real
    /// export looks like when nobody opened a problem record.
    fn recurring(&mut self, n: usize) {
        let cat = self.cat;
        let pi = self.random_problem();
        let ep = episode_ctx(&mut self.rng, cat);
        let person = self.chance(0.5).then(|| person_ctx(&mut self.rng, cat));
        let gaps: Vec<i64> = (1..n).map(|_| 25 + self.rng.below(50) as i64).collect();
        let total: i64 = gaps.iter().sum();
        let p = &cat.problems[pi];
        let mut day = self.rng.below((SPAN_DAYS - total - 1).max(1) as usize) as i64;
        for k in 0..n {
            if k > 0 {
                day += gaps[k - 1];
            }
            let voice = self.voice(p, Role::Normal, true);
            let at = self.time_on(day, voice);
            self.emit(
                pi,
                &ep,
                person.as_ref(),
                at,
                voice,
                Role::Normal,
                &p.resolution,
                None,
                &mut Vec::new(),
            );
        }
        self.recurring_series += 1;
    }

    fn links(&self, f: fn(&Ticket<'c>) -> usize) -> usize {
        self.tickets.iter().map(f).sum()
    }
}

/// Build `count` incidents from `seed`.
fn generate(cat: &Catalogue, seed: u64, count: usize) -> SampleSet<'_> {
    let mut g = Gen {
        cat,
        rng: Rng::new(seed),
        tickets: Vec::new(),
        recurring_series: 0,
        causal_scenarios: 0,
        related_groups: 0,
    };
    // Link targets scale with the size of the set; at 400 incidents every relation kind has well
    // over 25 links, so 5-fold cross-validation finds each class in every fold.
    let scale = count as f64 / 400.0;
    let target = |x: f64| (x * scale).round() as usize;
    let causal = |g: &Gen| g.links(|t| t.caused_by.is_some() as usize);
    let related = |g: &Gen| g.links(|t| t.related_to.len());
    let dups = |g: &Gen| g.links(|t| t.duplicate_of.is_some() as usize);
    // A structure is only added when it fits in what is left of `count`; a few misses end the phase.
    let mut misses = 0;
    while causal(&g) < target(30.0) && misses < 20 {
        let (si, sizes) = g.plan_scenario();
        if g.tickets.len() + sizes.iter().sum::<usize>() <= count {
            g.scenario(si, &sizes);
        } else {
            misses += 1;
        }
    }
    misses = 0;
    while related(&g) < target(34.0) && misses < 20 {
        let (gi, probs) = g.plan_related();
        if g.tickets.len() + probs.len() <= count {
            g.related(gi, &probs);
        } else {
            misses += 1;
        }
    }
    misses = 0;
    while dups(&g) < target(66.0) && misses < 20 {
        let size = g.duplicate_size();
        if g.tickets.len() + size <= count {
            let pi = g.random_problem();
            let ep = episode_ctx(&mut g.rng, cat);
            g.cluster(
                pi,
                &ep,
                None,
                size,
                Role::Normal,
                &cat.problems[pi].resolution,
                None,
            );
        } else {
            misses += 1;
        }
    }
    for _ in 0..target(10.0) {
        let n = 2 + g.rng.below(2);
        if g.tickets.len() + n <= count {
            g.recurring(n);
        }
    }
    while g.tickets.len() < count {
        g.single();
    }
    number(g)
}

/// Sort by time (ties: creation order) and number INC0010001...; links become numbers.
fn number(g: Gen<'_>) -> SampleSet<'_> {
    let cat = g.cat;
    let mut order: Vec<usize> = (0..g.tickets.len()).collect();
    order.sort_by_key(|&i| (g.tickets[i].at, i));
    let mut num = vec![String::new(); g.tickets.len()];
    for (k, &i) in order.iter().enumerate() {
        num[i] = format!("INC{:07}", 10_001 + k);
    }
    let rows = order
        .iter()
        .map(|&i| {
            let t = &g.tickets[i];
            let p = &cat.problems[t.problem];
            Row {
                number: num[i].clone(),
                opened_at: timestamp(t.at, 'T'),
                short_description: t.short.clone(),
                description: t.desc.clone(),
                category: &p.category,
                subcategory: &p.subcategory,
                assignment_group: &p.group,
                priority: PRIORITIES[t.priority as usize - 1],
                resolution: t.resolution,
                duplicate_of: t.duplicate_of.iter().map(|&j| num[j].clone()).collect(),
                caused_by: t.caused_by.iter().map(|&j| num[j].clone()).collect(),
                related_to: t.related_to.iter().map(|&j| num[j].clone()).collect(),
            }
        })
        .collect();
    SampleSet {
        rows,
        recurring_series: g.recurring_series,
        causal_scenarios: g.causal_scenarios,
        related_groups: g.related_groups,
    }
}

/// The priority column's values, 1 to 4.
const PRIORITIES: [&str; 4] = ["1 - Critical", "2 - High", "3 - Moderate", "4 - Low"];

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue() -> Catalogue {
        Catalogue::load().unwrap()
    }

    /// Every slot any template may use, with a value.
    fn full_ctx(cat: &Catalogue) -> Ctx<'_> {
        let mut rng = Rng::new(1);
        let mut c = episode_ctx(&mut rng, cat);
        c.extend(person_ctx(&mut rng, cat));
        for k in [
            "time",
            "when",
            "alert_ts",
            "group",
            "sym",
            "sym_cap",
            "checks",
            "check_list",
            "impact",
        ] {
            c.insert(k, "x".to_string());
        }
        c
    }

    fn all_templates(cat: &Catalogue) -> Vec<&str> {
        let mut lists: Vec<&[String]> = Vec::new();
        let mut t: Vec<&str> = Vec::new();
        for p in &cat.problems {
            lists.extend(
                [
                    &p.terse,
                    &p.angry,
                    &p.formal,
                    &p.body,
                    &p.symptoms,
                    &p.checks,
                ]
                .map(|l| &l[..]),
            );
            for a in &p.alerts {
                t.push(&a.title);
                t.push(&a.body);
            }
        }
        lists.extend(
            [
                &cat.greetings,
                &cat.signoffs,
                &cat.extras,
                &cat.angry_extras,
                &cat.desk_wrappers,
                &cat.ops_wrappers,
                &cat.impacts,
                &cat.when,
            ]
            .map(|l| &l[..]),
        );
        for g in &cat.related {
            lists.extend([&g.notes[..], &g.follow_ups[..]]);
        }
        t.extend(lists.into_iter().flatten().map(String::as_str));
        t
    }

    #[test]
    fn every_template_fills() {
        let cat = catalogue();
        let ctx = full_ctx(&cat);
        for tpl in all_templates(&cat) {
            let out = fill(tpl, &ctx);
            assert!(!out.contains(['{', '}']), "`{tpl}` left a brace: {out}");
            assert!(!out.trim().is_empty(), "`{tpl}` is empty");
            // {when} carries its own preposition ("since this morning").
            assert!(!tpl.contains("since {when}"), "`{tpl}`");
        }
    }

    #[test]
    fn catalogue_is_consistent() {
        let cat = catalogue();
        let mut keys = BTreeSet::new();
        let mut categories: BTreeMap<&str, usize> = BTreeMap::new();
        // Same category + same resolution must mean same problem (incl. scenario effects).
        // (category, resolution, who), checked at the end.
        let mut claims: Vec<(&str, &str, &str)> = Vec::new();
        for p in &cat.problems {
            assert!(keys.insert(&p.key), "duplicate key {}", p.key);
            *categories.entry(&p.category).or_default() += 1;
            assert!(
                !p.formal.is_empty() && !p.symptoms.is_empty() && !p.checks.is_empty(),
                "{}",
                p.key
            );
            assert_eq!(
                p.terse.is_empty(),
                p.body.is_empty(),
                "{}: user titles need user bodies",
                p.key
            );
            assert!(
                p.terse.is_empty() || !p.alerts.is_empty() || !p.body.is_empty(),
                "{}",
                p.key
            );
            assert!(
                p.terse.len() + p.formal.len() + p.alerts.len() >= 3,
                "{}: too few titles",
                p.key
            );
            assert!((1..=4).contains(&p.priority), "{}", p.key);
            claims.push((&p.category, &p.resolution, &p.key));
        }
        assert!(categories.len() >= 12, "{categories:?}");
        assert!(categories.values().all(|&n| n >= 4), "{categories:?}");
        let episode_slot = |slot: &str| cat.episode_pools.iter().any(|p| p.slot == slot);
        for sc in &cat.scenarios {
            assert_eq!(sc.nodes[0].parent, 0);
            assert!(sc.nodes.len() >= 2);
            for (k, n) in sc.nodes.iter().enumerate().skip(1) {
                assert!(n.parent < k, "{}: parent must come first", n.problem);
                let p = &cat.problems[cat.problem_index(&n.problem)];
                claims.push((&p.category, &n.resolution, &n.problem));
            }
            cat.problem_index(&sc.nodes[0].problem);
            for a in &sc.aliases {
                assert!(episode_slot(&a.slot) && episode_slot(&a.from));
            }
        }
        let mut resolutions: BTreeMap<(&str, &str), &str> = BTreeMap::new();
        for (category, res, who) in claims {
            assert!(!res.is_empty(), "{who}: empty resolution");
            if let Some(other) = resolutions.insert((category, res), who) {
                panic!("{who} and {other} share a resolution in {category}");
            }
        }
        for g in &cat.related {
            assert!(g.problems.len() >= 2);
            let probs: BTreeSet<usize> = g.problems.iter().map(|k| cat.problem_index(k)).collect();
            assert_eq!(
                probs.len(),
                g.problems.len(),
                "related group repeats a problem"
            );
        }
    }

    #[test]
    fn calendar() {
        // 1970-01-01 was a Thursday; the window starts on a Monday.
        assert_eq!(
            (days_from_civil(START.0, START.1, START.2) + 3).rem_euclid(7),
            0
        );
        assert_eq!(timestamp(0, 'T'), "2024-01-08T00:00:00");
        assert_eq!(timestamp(52 * DAY + 3661, ' '), "2024-02-29 01:01:01");
        assert_eq!(timestamp(53 * DAY, 'T'), "2024-03-01T00:00:00");
        for d in [-800_000, -1, 0, 59, 19_000, 2_000_000] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
    }

    #[test]
    fn typos_spare_codes_and_names() {
        let text = "Please check fs01.contoso.local, error 0x87D00607 and the command on VPN-GW-01 with you.";
        let cat = catalogue();
        let mut rng = Rng::new(3);
        let mut changed = 0;
        for _ in 0..500 {
            let t = add_typos(&mut rng, text, false, &cat.abbreviations);
            changed += usize::from(t != text);
            for keep in ["fs01.contoso.local", "0x87D00607", "VPN-GW-01"] {
                assert!(t.contains(keep), "{keep} damaged: {t}");
            }
        }
        assert_eq!(changed, 500, "every call changes the text");
        assert_eq!(
            abbreviate(&"command and you".chars().collect::<Vec<_>>(), "and", "&")
                .iter()
                .collect::<String>(),
            "command & you"
        );
        assert_eq!(
            join_sentences(&["a b".into(), "C d.".into(), "e".into()]),
            "a b. C d. e"
        );
    }

    #[test]
    fn count_is_exact_and_links_point_back() {
        let cat = catalogue();
        for (seed, count) in [(1, 1), (2, 37), (3, 120), (42, 400)] {
            let set = generate(&cat, seed, count);
            assert_eq!(set.rows.len(), count);
            let pos: BTreeMap<&str, usize> = set
                .rows
                .iter()
                .enumerate()
                .map(|(i, r)| (r.number.as_str(), i))
                .collect();
            for (i, r) in set.rows.iter().enumerate() {
                for l in r
                    .duplicate_of
                    .iter()
                    .chain(&r.caused_by)
                    .chain(&r.related_to)
                {
                    assert!(pos[l.as_str()] < i, "{} -> {l}", r.number);
                }
            }
        }
    }
}
