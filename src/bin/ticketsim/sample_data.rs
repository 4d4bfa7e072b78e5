//! `ticketsim sample-data`: writes the synthetic ITSM incident set of `data/` from a seed.
//!
//! The set is drawn from a problem catalogue (see the end of this file): 14 categories, each with
//! several distinct problems. A problem has one canonical resolution (so "same category + same
//! resolution" means "same problem", the rule the pair generator relies on), titles in four voices
//! (terse user, angry user, formal service desk, monitoring alert), user-written bodies, third-person
//! symptoms for service-desk notes and, for what monitoring sees, alert texts. Templates have slots
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
use ticketsim::rng::Rng;

/// Arguments of `ticketsim sample-data`.
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
    let set = generate(args.seed, args.count);
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
struct Row {
    number: String,
    opened_at: String,
    short_description: String,
    description: String,
    category: &'static str,
    subcategory: &'static str,
    assignment_group: &'static str,
    priority: &'static str,
    resolution: &'static str,
    duplicate_of: Vec<String>,
    caused_by: Vec<String>,
    related_to: Vec<String>,
}

const HEADER: [&str; 12] = [
    "number",
    "opened_at",
    "short_description",
    "description",
    "category",
    "subcategory",
    "assignment_group",
    "priority",
    "resolution",
    "duplicate_of",
    "caused_by",
    "related_to",
];

/// RFC 4180 quoting by the csv crate; records end with `\n`, the crate's default.
fn to_csv(rows: &[Row]) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(HEADER)?;
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
struct SampleSet {
    rows: Vec<Row>,
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
    let links = |f: fn(&Row) -> &Vec<String>| rows.iter().map(|r| f(r).len()).sum::<usize>();
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
type Ctx = BTreeMap<&'static str, String>;

/// Replace every `{slot}` in `tpl`. Templates are static; an unknown slot is a catalogue bug that
/// the unit tests catch, hence the panic.
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

fn pick<'a>(rng: &mut Rng, xs: &[&'a str]) -> &'a str {
    xs[rng.below(xs.len())]
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
fn episode_ctx(rng: &mut Rng) -> Ctx {
    let mut c = Ctx::new();
    for (k, pool) in EPISODE_POOLS {
        c.insert(k, pick(rng, pool).to_string());
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
fn person_ctx(rng: &mut Rng) -> Ctx {
    let mut c = Ctx::new();
    let first = pick(rng, FIRST_NAMES);
    let last = pick(rng, LAST_NAMES);
    c.insert("first", first.to_string());
    c.insert("name", format!("{first} {last}"));
    for (k, pool) in PERSON_POOLS {
        c.insert(k, pick(rng, pool).to_string());
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
/// text, dropped apostrophes and full stops, chat abbreviations.
fn add_typos(rng: &mut Rng, text: &str, allow_lowercase: bool) -> String {
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
                let (from, to) = ABBREVIATIONS[rng.below(ABBREVIATIONS.len())];
                chars = abbreviate(&chars, from, to);
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

const ABBREVIATIONS: &[(&str, &str)] = &[
    ("please", "pls"),
    ("Please", "Pls"),
    ("thanks", "thx"),
    ("Thanks", "Thx"),
    ("because", "bc"),
    ("you", "u"),
    ("and", "&"),
    ("with", "w/"),
    ("tomorrow", "tmrw"),
    ("message", "msg"),
    ("minutes", "mins"),
];

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
struct Ticket {
    at: i64,
    short: String,
    desc: String,
    problem: usize,
    resolution: &'static str,
    priority: u8,
    duplicate_of: Option<usize>,
    caused_by: Option<usize>,
    related_to: Vec<usize>,
}

struct Gen {
    rng: Rng,
    tickets: Vec<Ticket>,
    recurring_series: usize,
    causal_scenarios: usize,
    related_groups: usize,
}

/// The title templates of one voice.
fn titles_of(p: &Problem, voice: Voice) -> Vec<&'static str> {
    match voice {
        Voice::Terse => p.terse.to_vec(),
        Voice::Angry => p.angry.to_vec(),
        Voice::Formal => p.formal.to_vec(),
        Voice::Alert => p.alerts.iter().map(|a| a.0).collect(),
    }
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

/// Look a problem up by key (keys are static; a typo is a catalogue bug caught by the tests).
fn problem_index(key: &str) -> usize {
    PROBLEMS
        .iter()
        .position(|p| p.key == key)
        .unwrap_or_else(|| panic!("unknown problem `{key}`"))
}

impl Gen {
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
        let total: usize = PROBLEMS.iter().map(Self::weight).sum();
        let mut x = self.rng.below(total);
        for (i, p) in PROBLEMS.iter().enumerate() {
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
        let body = fill(pick(&mut self.rng, p.body), ctx);
        let mut main = vec![body];
        if let Some(n) = note {
            main.push(fill(n, ctx));
        }
        if angry {
            main.push(fill(pick(&mut self.rng, ANGRY_EXTRAS), ctx));
        }
        let style = self.rng.below(10);
        if style < 6 && self.chance(0.45) {
            main.push(fill(pick(&mut self.rng, EXTRAS), ctx));
        }
        // E-mails ramble more than portal forms.
        if style >= 5 && self.chance(0.35) {
            main.push(fill(pick(&mut self.rng, LONG_EXTRAS), ctx));
        }
        let text = join_sentences(&main);
        // Typos go into what the user typed now, not into the saved e-mail signature.
        let text = if typos {
            add_typos(&mut self.rng, &text, !angry)
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
                    parts.push(pick(&mut self.rng, GREETINGS).to_string());
                }
                parts.push(text);
                if self.chance(0.85) {
                    parts.push(fill(pick(&mut self.rng, SIGNOFFS), ctx));
                }
                parts.join("\n\n")
            }
        }
    }

    /// The service desk's (or an operator's) note: symptom, what was checked, where it went.
    fn formal_body(&mut self, p: &Problem, ctx: &mut Ctx, note: Option<&str>) -> String {
        let sym = fill(pick(&mut self.rng, p.symptoms), ctx);
        let n = p.checks.len();
        let first = self.rng.below(n);
        let mut checks = vec![fill(p.checks[first], ctx)];
        if n > 1 && self.chance(0.5) {
            checks.push(fill(p.checks[(first + 1 + self.rng.below(n - 1)) % n], ctx));
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
            &IMPACTS[..3]
        } else {
            IMPACTS
        };
        let impact = fill(pick(&mut self.rng, impacts), ctx);
        ctx.insert("impact", impact);
        let wrappers = if p.terse.is_empty() {
            OPS_WRAPPERS
        } else {
            DESK_WRAPPERS
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
        ep: &Ctx,
        person: Option<&Ctx>,
        at: i64,
        voice: Voice,
        role: Role,
        resolution: &'static str,
        note: Option<&str>,
        used: &mut Vec<String>,
    ) -> usize {
        let p = &PROBLEMS[pi];
        let mut ctx = ep.clone();
        let who = match person {
            Some(c) => c.clone(),
            None => person_ctx(&mut self.rng),
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
        let when = pick(&mut self.rng, WHEN).to_string();
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
            Voice::Alert => fill(p.alerts[ti].1, &ctx),
            Voice::Formal => {
                let d = self.formal_body(p, &mut ctx, note);
                if self.chance(0.05) {
                    add_typos(&mut self.rng, &d, false)
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
            short = add_typos(&mut self.rng, &short, voice == Voice::Terse);
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
        ep: &Ctx,
        after: Option<i64>,
        size: usize,
        role: Role,
        resolution: &'static str,
        note: Option<&str>,
    ) -> usize {
        let p = &PROBLEMS[pi];
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
        let pi = self.random_problem();
        let ep = episode_ctx(&mut self.rng);
        self.cluster(
            pi,
            &ep,
            None,
            1,
            Role::Normal,
            PROBLEMS[pi].resolution,
            None,
        );
    }

    /// Plan a causal scenario: which nodes occur (a child only with its parent; at least one
    /// effect) and how many reports each gets. Returns (scenario, per-node cluster size, 0 = absent).
    fn plan_scenario(&mut self) -> (usize, Vec<usize>) {
        let si = self.rng.below(SCENARIOS.len());
        let nodes = SCENARIOS[si].nodes;
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
        let sc = &SCENARIOS[si];
        let mut ep = episode_ctx(&mut self.rng);
        for (to, from) in sc.aliases {
            let v = ep[from].clone();
            ep.insert(to, v);
        }
        let mut first = vec![usize::MAX; sc.nodes.len()];
        for (k, node) in sc.nodes.iter().enumerate() {
            if sizes[k] == 0 {
                continue;
            }
            let pi = problem_index(node.problem);
            if k == 0 {
                first[0] = self.cluster(
                    pi,
                    &ep,
                    None,
                    sizes[0],
                    Role::Cause,
                    PROBLEMS[pi].resolution,
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
                node.resolution,
                None,
            );
            self.tickets[f].caused_by = Some(first[node.parent]);
            first[k] = f;
        }
        self.causal_scenarios += 1;
    }

    /// Plan a related group: 2-3 of its problems in random order.
    fn plan_related(&mut self) -> (usize, Vec<usize>) {
        let gi = self.rng.below(RELATED.len());
        let mut probs: Vec<usize> = RELATED[gi]
            .problems
            .iter()
            .map(|k| problem_index(k))
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
        let g = &RELATED[gi];
        let ep = episode_ctx(&mut self.rng);
        let person = g.same_person.then(|| person_ctx(&mut self.rng));
        let mut t = 0;
        let mut ids: Vec<usize> = Vec::new();
        for (k, &pi) in probs.iter().enumerate() {
            let p = &PROBLEMS[pi];
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
                g.notes.to_vec()
            } else {
                g.notes.iter().chain(g.follow_ups).copied().collect()
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
                p.resolution,
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
        let pi = self.random_problem();
        let ep = episode_ctx(&mut self.rng);
        let person = self.chance(0.5).then(|| person_ctx(&mut self.rng));
        let gaps: Vec<i64> = (1..n).map(|_| 25 + self.rng.below(50) as i64).collect();
        let total: i64 = gaps.iter().sum();
        let p = &PROBLEMS[pi];
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
                p.resolution,
                None,
                &mut Vec::new(),
            );
        }
        self.recurring_series += 1;
    }

    fn links(&self, f: fn(&Ticket) -> usize) -> usize {
        self.tickets.iter().map(f).sum()
    }
}

/// Build `count` incidents from `seed`.
fn generate(seed: u64, count: usize) -> SampleSet {
    let mut g = Gen {
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
            let ep = episode_ctx(&mut g.rng);
            g.cluster(
                pi,
                &ep,
                None,
                size,
                Role::Normal,
                PROBLEMS[pi].resolution,
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
fn number(g: Gen) -> SampleSet {
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
            let p = &PROBLEMS[t.problem];
            Row {
                number: num[i].clone(),
                opened_at: timestamp(t.at, 'T'),
                short_description: t.short.clone(),
                description: t.desc.clone(),
                category: p.category,
                subcategory: p.subcategory,
                assignment_group: p.group,
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

const PRIORITIES: [&str; 4] = ["1 - Critical", "2 - High", "3 - Moderate", "4 - Low"];

// ---------------------------------------------------------------------------------------------
// Catalogue: structures
// ---------------------------------------------------------------------------------------------

/// One distinct problem: a category, a team, one canonical resolution and the ways people (and
/// monitoring) describe it.
struct Problem {
    key: &'static str,
    category: &'static str,
    subcategory: &'static str,
    group: &'static str,
    /// 1 (critical) to 4 (low), before per-ticket variation.
    priority: u8,
    /// The same text on every ticket of this problem: "same category + same resolution" is the
    /// pair generator's "same problem".
    resolution: &'static str,
    /// Titles a user types; empty for problems only IT sees (backups, storage arrays ...).
    terse: &'static [&'static str],
    angry: &'static [&'static str],
    /// Titles the service desk or an operator writes.
    formal: &'static [&'static str],
    /// What a user writes in the description.
    body: &'static [&'static str],
    /// Third-person clauses for service-desk notes ("reports that <symptom>").
    symptoms: &'static [&'static str],
    /// What first-line support checked, one sentence each.
    checks: &'static [&'static str],
    /// Monitoring (title, body) pairs; empty when monitoring does not see the problem.
    alerts: &'static [(&'static str, &'static str)],
}

/// A cause-effect scenario: node 0 is the root cause; other nodes are effects of `parent`.
struct Scenario {
    nodes: &'static [Node],
    /// Episode slots copied from another slot (a print server that is also the `{app_host}`).
    aliases: &'static [(&'static str, &'static str)],
}

struct Node {
    problem: &'static str,
    parent: usize,
    /// How an effect ticket was closed: it points to the cause, so it differs from the problem's
    /// standalone resolution (unused for the root).
    resolution: &'static str,
}

/// Different problems of one service or change, linked `related_to`.
struct RelatedGroup {
    problems: &'static [&'static str],
    /// Remarks connecting a ticket to the shared change or service.
    notes: &'static [&'static str],
    /// Remarks that refer back to an earlier ticket: only on the later ones.
    follow_ups: &'static [&'static str],
    /// All tickets come from one person (the same laptop failing twice).
    same_person: bool,
}

// ---------------------------------------------------------------------------------------------
// Catalogue: pools and wrappers
// ---------------------------------------------------------------------------------------------

const FIRST_NAMES: &[&str] = &[
    "Anna",
    "Lukas",
    "Sophie",
    "Mehmet",
    "Julia",
    "Thomas",
    "Priya",
    "Jan",
    "Laura",
    "Marco",
    "Fatima",
    "David",
    "Elena",
    "Tobias",
    "Chloe",
    "Ahmed",
    "Katarzyna",
    "Pierre",
    "Sarah",
    "Jonas",
    "Aisha",
    "Daniel",
    "Lena",
    "Ravi",
    "Mia",
    "Oliver",
    "Nadia",
    "Stefan",
    "Grace",
    "Luis",
    "Hannah",
    "Kenji",
    "Ines",
    "Patrick",
    "Zoe",
    "Mateusz",
    "Emma",
    "Giulia",
    "Samuel",
    "Yasmin",
];

const LAST_NAMES: &[&str] = &[
    "Müller",
    "Schmidt",
    "Novak",
    "Rossi",
    "Dubois",
    "Patel",
    "Kowalski",
    "Fischer",
    "Garcia",
    "Jansen",
    "O'Brien",
    "Yilmaz",
    "Weber",
    "Martin",
    "Nowak",
    "Bauer",
    "Costa",
    "Schneider",
    "Lefebvre",
    "Murphy",
    "Hoffmann",
    "Nguyen",
    "Kaya",
    "Lindqvist",
    "Becker",
    "Wagner",
    "Silva",
    "Moreau",
    "Horvat",
    "Khan",
    "Meyer",
    "Romano",
    "Walsh",
    "Wójcik",
    "Fernández",
    "Keller",
    "Andersen",
    "Popescu",
    "Smith",
    "Brown",
];

/// Per reporter.
const PERSON_POOLS: &[(&str, &[&str])] = &[
    (
        "dept",
        &[
            "Finance",
            "HR",
            "Sales",
            "Marketing",
            "Procurement",
            "Logistics",
            "Legal",
            "Customer Service",
            "Engineering",
            "Controlling",
            "Facility Management",
            "R&D",
            "Accounts Payable",
            "Payroll",
            "Quality",
            "Treasury",
        ],
    ),
    (
        "os",
        &[
            "Windows 11 23H2",
            "Windows 11 22H2",
            "Windows 10 22H2",
            "Windows 11 24H2",
        ],
    ),
    (
        "laptop",
        &[
            "Dell Latitude 7440",
            "Dell Latitude 5430",
            "Lenovo ThinkPad T14 Gen 4",
            "Lenovo ThinkPad X1 Carbon Gen 11",
            "HP EliteBook 840 G10",
            "HP EliteBook 860 G9",
            "Surface Laptop 5",
        ],
    ),
    (
        "mobile",
        &[
            "iPhone 15",
            "iPhone 14",
            "iPhone 13",
            "Samsung Galaxy S23",
            "Samsung Galaxy A54",
            "Pixel 8",
        ],
    ),
    (
        "phone_model",
        &[
            "Cisco 8845",
            "Cisco 7841",
            "Cisco 8851",
            "Yealink T54W",
            "Poly VVX 450",
        ],
    ),
    (
        "headset",
        &[
            "Jabra Evolve2 65",
            "Jabra Evolve2 40",
            "Poly Voyager Focus 2",
            "Logitech Zone Vibe 100",
            "Sennheiser SC 165",
        ],
    ),
    ("browser", &["Edge", "Chrome", "Firefox"]),
];

/// Shared by every ticket of an episode.
const EPISODE_POOLS: &[(&str, &[&str])] = &[
    (
        "site",
        &[
            "Frankfurt HQ",
            "Munich",
            "London",
            "Manchester",
            "Lyon",
            "Rotterdam",
            "Vienna",
            "Madrid",
            "Warsaw",
            "Dublin",
            "Zurich",
            "Milan",
        ],
    ),
    (
        "floor",
        &[
            "ground floor",
            "1st floor",
            "2nd floor",
            "3rd floor",
            "4th floor",
            "5th floor",
            "6th floor",
        ],
    ),
    (
        "room",
        &[
            "meeting room Rhine",
            "MR 3.14",
            "the board room",
            "training room 2",
            "meeting room Thames",
            "huddle room 4B",
            "meeting room Danube",
            "MR 5.02",
        ],
    ),
    (
        "printer",
        &[
            "PRN-FRA-3F-01",
            "PRN-MUC-2F-02",
            "PRN-LON-4F-HR",
            "PRN-MAN-1F-01",
            "PRN-LYO-RDC-01",
            "PRN-RTM-WH-03",
            "PRN-VIE-2F-01",
            "PRN-FRA-5F-FIN",
            "PRN-MAD-1F-02",
        ],
    ),
    (
        "printer_model",
        &[
            "HP LaserJet M607",
            "Ricoh IM C3000",
            "Canon iR-ADV C5535",
            "Kyocera TASKalfa 3554ci",
            "HP Color LaserJet E87660",
            "Xerox VersaLink C7020",
        ],
    ),
    (
        "switch",
        &[
            "dc1-core-sw01",
            "dc1-core-sw02",
            "dc2-core-sw01",
            "fra-dist-sw03",
            "lon-core-sw01",
        ],
    ),
    (
        "access_switch",
        &[
            "fra-acc-sw3f-02",
            "muc-acc-sw2f-01",
            "lon-acc-sw4f-03",
            "man-acc-sw1f-01",
            "vie-acc-sw2f-02",
        ],
    ),
    (
        "vpn_gw",
        &[
            "vpn-gw-01",
            "vpn-gw-02",
            "vpn-fra-01",
            "pa-vpn-01",
            "asa-edge-02",
        ],
    ),
    (
        "dns_srv",
        &[
            "dc01.contoso.local",
            "dc02.contoso.local",
            "dns-int-02",
            "ns1.contoso.com",
        ],
    ),
    (
        "db_host",
        &[
            "db-prd-03",
            "sqlprd01",
            "ora-erp-01",
            "sql-crm-02",
            "pg-dwh-01",
            "hana-prd-01",
        ],
    ),
    (
        "db",
        &[
            "ERP_PRD",
            "CRM_PROD",
            "DWH",
            "HR_PAYROLL",
            "WMS",
            "FINANCE_DM",
        ],
    ),
    (
        "db_volume",
        &[
            "/oracle/PRD/oraarch",
            "/var/lib/pgsql",
            "E:\\SQLLogs",
            "/hana/log",
            "L:\\TLOG",
        ],
    ),
    (
        "file_srv",
        &["fs01", "fs02", "fra-fs-01", "lon-fs-02", "nas-muc-01"],
    ),
    (
        "share",
        &[
            "\\\\fs01\\finance",
            "\\\\fs02\\projects",
            "\\\\fra-fs-01\\hr$",
            "\\\\lon-fs-02\\sales",
            "\\\\fs01\\marketing",
            "\\\\nas-muc-01\\engineering",
            "\\\\fs02\\controlling",
        ],
    ),
    ("drive", &["S:", "P:", "H:", "G:", "T:"]),
    (
        "mail_srv",
        &[
            "exch-hub-01",
            "mx01.contoso.com",
            "smtp-relay-02",
            "mailgw-02",
        ],
    ),
    (
        "app_host",
        &[
            "app-prd-07",
            "web-prd-02",
            "srv-intra-01",
            "app-crm-03",
            "app-wms-01",
            "srv-etl-02",
        ],
    ),
    (
        "print_srv",
        &["print-srv-01", "fra-prt-01", "lon-prt-02", "prt-cloud-01"],
    ),
    (
        "esx_host",
        &["esx-07", "esx-12", "fra-esx-03", "lon-esx-01", "esx-prd-21"],
    ),
    (
        "datastore",
        &["DS-PROD-SSD-04", "DS-SAN-A-12", "DS-GOLD-02", "DS-PROD-07"],
    ),
    ("san", &["san-a", "san-b", "netapp-fra-01", "pure-lon-02"]),
    (
        "webapp",
        &[
            "portal.contoso.com",
            "shop.contoso.com",
            "orders.contoso.com",
            "intranet.contoso.local",
            "partners.contoso.com",
        ],
    ),
    (
        "service",
        &[
            "orders-api",
            "pricing-service",
            "customer-portal",
            "checkout",
            "inventory-sync",
            "notification-service",
        ],
    ),
    (
        "k8s_cluster",
        &[
            "aks-prod-weu-01",
            "aks-prod-neu-01",
            "eks-prod-eu-central-1",
        ],
    ),
    (
        "bucket",
        &[
            "contoso-reports-prod",
            "contoso-exports",
            "contoso-invoices-archive",
            "dwh-landing-zone",
        ],
    ),
    (
        "bizapp",
        &[
            "Salesforce",
            "Workday",
            "Concur",
            "Jira",
            "Confluence",
            "Power BI",
            "the CRM",
            "DocuSign",
            "Coupa",
        ],
    ),
    ("office_app", &["Excel", "Word", "PowerPoint", "Visio"]),
    (
        "software",
        &[
            "Visual Studio Code",
            "Python 3.12",
            "Notepad++",
            "Tableau Desktop",
            "Zoom",
            "AutoCAD 2024",
            "SAP Analysis for Office",
            "Power BI Desktop",
            "Git for Windows",
        ],
    ),
    ("sap_sys", &["PRD", "P01", "ECP"]),
    (
        "sap_tx",
        &[
            "ME21N", "VA01", "FB60", "MIGO", "VL02N", "F110", "CO02", "MM02",
        ],
    ),
    (
        "cert_host",
        &[
            "adfs.contoso.com",
            "sso.contoso.com",
            "intranet.contoso.local",
            "portal.contoso.com",
            "mail.contoso.com",
        ],
    ),
    ("release", &["4.2", "2024.3", "7.11.0", "R24.05", "3.8.1"]),
    (
        "backup_job",
        &[
            "BKP-SQL-PRD-Daily",
            "Backup_FileServers_Nightly",
            "VM-Prod-Tier1",
            "Exchange-DAG-Nightly",
            "SAP-HANA-Full",
        ],
    ),
    (
        "domain_ext",
        &[
            "fabrikam.com",
            "northwindtraders.com",
            "adatum.com",
            "tailspintoys.com",
            "wingtiptoys.com",
            "litwareinc.com",
            "proseware.com",
            "woodgrovebank.com",
        ],
    ),
    (
        "mailbox",
        &[
            "invoices@contoso.com",
            "hr-team@contoso.com",
            "sales-emea@contoso.com",
            "accounts.payable@contoso.com",
            "recruiting@contoso.com",
            "logistics@contoso.com",
        ],
    ),
    (
        "sharepoint_site",
        &[
            "Finance Team",
            "Project Phoenix",
            "HR Policies",
            "Sales EMEA",
            "Engineering Docs",
            "Marketing Hub",
        ],
    ),
    (
        "hotline",
        &[
            "customer service hotline",
            "order hotline",
            "service desk hotline",
            "sales hotline",
        ],
    ),
];

/// When the user says it started (each phrase ends a clause).
const WHEN: &[&str] = &[
    "since this morning",
    "since yesterday",
    "since yesterday afternoon",
    "since the weekend",
    "since the last update",
    "for two days now",
    "since lunch",
    "all morning",
    "since Monday",
    "again today",
    "for about a week",
];

const GREETINGS: &[&str] = &[
    "Hi,",
    "Hello,",
    "Hi team,",
    "Hello IT,",
    "Good morning,",
    "Dear Service Desk,",
    "Hi all,",
    "Hallo,",
];

const SIGNOFFS: &[&str] = &[
    "Thanks,\n{first}",
    "Thank you!\n{first}",
    "Regards,\n{name}",
    "Best regards\n{name}\n{dept}",
    "thx {first}",
    "Cheers,\n{first}",
    "{name} | {dept} | ext. {ext}",
    "Sent from my iPhone",
    "BR {first}",
    "Kind regards,\n{name}\n{dept} | ext. {ext}",
];

const EXTRAS: &[&str] = &[
    "I already restarted my laptop twice.",
    "Tried on another PC, same problem.",
    "Can someone call me on ext. {ext}?",
    "Colleagues next to me have the same issue.",
    "It worked fine yesterday.",
    "Not sure if this is the right queue, sorry.",
    "Screenshot attached.",
    "I'm working from home today.",
    "I need this for a customer meeting this afternoon.",
    "Please help, quite urgent.",
    "No error message, it just doesn't work.",
    "I'm in {site} today, {floor}.",
    "Please call me on my mobile, I'm in meetings until 3.",
    "Restarting did not help.",
];

/// Long-winded context some users add to an e-mail.
const LONG_EXTRAS: &[&str] = &[
    "We are in the middle of the quarterly close and the whole {dept} team depends on this, so I would really appreciate it if somebody could have a look today. I tried what the intranet FAQ suggests (restart, log off and on again, clear the cache) but nothing changed.",
    "I'm not very technical so I don't know what else to try. It happened once before a few months ago and then someone from IT fixed it remotely, maybe there is a note on my old ticket. I'm at my desk until about 5 and can be reached on ext. {ext}.",
    "For context: I'm on the {floor} in {site}, using my {laptop} with the docking station. Colleagues around me seem to be fine, so I assume it's something on my side, but I didn't change anything as far as I know.",
    "This is quite urgent for me because I have to send the figures to our auditors by tomorrow morning. If it's easier I can also bring the laptop to the IT desk, just let me know when.",
    "I first thought it was a temporary glitch and waited, but it has now been going on for a while and is blocking my work. Please let me know if you need screenshots or remote access to my machine ({pc}).",
];

const ANGRY_EXTRAS: &[&str] = &[
    "This is the third time this month!",
    "I have a deadline TODAY, please fix this ASAP.",
    "Why does this keep happening??",
    "Nobody called me back on my last ticket either.",
    "My whole team is blocked. Please escalate.",
    "I've lost an hour already.",
    "Honestly this is unacceptable.",
    "Please don't just close this ticket again.",
];

/// Service-desk notes for problems users report.
const DESK_WRAPPERS: &[&str] = &[
    "Caller {name} ({dept}) reports that {sym}. {checks} Escalated to {group}.",
    "{name} called the service desk: {sym}.\n\nTroubleshooting:\n{check_list}\n\nImpact: {impact}. Assigned to {group}.",
    "User reports that {sym}.\nLocation: {site}, {floor}\nDevice: {pc} ({laptop}, {os})\n{checks}",
    "Walk-in at the IT desk in {site}. {sym_cap}. {checks} Not resolved at first contact, assigning to {group}.",
    "Reported via chat by {name}, {dept}. {sym_cap}. {checks}",
    "{sym_cap}. Impact: {impact}.\nContact: {name}, ext. {ext}.",
    "Caller states that {sym}.\nSteps taken:\n{check_list}\nPlease contact the user on ext. {ext}.",
];

/// Operator notes for problems only IT sees.
const OPS_WRAPPERS: &[&str] = &[
    "Raised by the {group} on-call engineer: {sym}. {checks}",
    "Found during the morning checks: {sym}.\nActions so far:\n{check_list}",
    "{sym_cap}.\n{checks}\nImpact under investigation, next update in 30 minutes.",
    "{sym_cap}. {checks} Vendor and {group} informed.",
];

/// Impact phrases; the first three concern one person.
const IMPACTS: &[&str] = &[
    "single user",
    "one user",
    "user cannot work",
    "the whole team (approx. {count} users)",
    "{dept} department",
    "several users at {site}",
];

// ---------------------------------------------------------------------------------------------
// Catalogue: problems
// ---------------------------------------------------------------------------------------------

const NETOPS: &str = "Network Operations";
const REMOTE: &str = "Remote Access Services";
const MESSAGING: &str = "Messaging";
const IAM: &str = "Identity & Access Management";
const DESK: &str = "Service Desk";
const EUC: &str = "End User Computing";
const PRINT: &str = "Print Services";
const APPS: &str = "Application Support";
const DBA: &str = "Database Administration";
const STORAGE: &str = "Storage & Backup";
const UC: &str = "Unified Communications";
const SECOPS: &str = "Security Operations";
const CLOUD: &str = "Cloud Platform";
const ERP: &str = "ERP Support";
const COLLAB: &str = "Collaboration Services";

static PROBLEMS: &[Problem] = &[
    // ----- Network -----
    Problem {
        key: "core_switch",
        category: "Network",
        subcategory: "Switching",
        group: NETOPS,
        priority: 1,
        resolution: "Failed supervisor module in the core switch replaced by Network Operations; traffic failed back to the primary path, uplinks and HSRP verified, monitoring green.",
        terse: &[
            "internet down on {floor}",
            "no network whole office",
            "network not working",
            "everything offline here in {site}",
            "cant reach anything, network down?",
        ],
        angry: &[
            "NETWORK DOWN IN {site} AGAIN!!!",
            "WHOLE FLOOR HAS NO NETWORK - URGENT",
            "nothing works!!! no network no phones",
        ],
        formal: &[
            "Multiple users at {site} report loss of network connectivity",
            "Network outage reported on {floor}, {site}",
            "Loss of LAN connectivity for several departments",
        ],
        body: &[
            "Nothing loads, Teams says no connection and the shared drives are gone.",
            "All of us on {floor} lost network at around {time}. Wifi and cable both. Phones show 'Registering'.",
            "network gone since {time}, whole team affected",
            "At {site} none of the PCs can reach anything, not even the intranet. The colleagues from the office next door have the same problem. We can't work at all at the moment.",
        ],
        symptoms: &[
            "users on {floor} at {site} have no network connectivity since {time}, both wired and wireless",
            "the whole {dept} department lost access to all network resources at around {time}",
        ],
        checks: &[
            "Confirmed with a second caller from the same floor.",
            "Link lights on, but no DHCP lease and no ping to the gateway.",
            "No known outage posted on the status page yet.",
        ],
        alerts: &[
            ("SolarWinds: Node {switch} is Down", "Alert: Node {switch} is Down\nNode status: Down (was Up)\nIP address: {ip}\nPolling engine: sw-poll-01\nTriggered: {alert_ts}\nDependent nodes unreachable: 47"),
            ("[CRITICAL] Nagios: {switch} PING CRITICAL - Packet loss = 100%", "***** Nagios *****\nNotification Type: PROBLEM\nHost: {switch}\nState: DOWN\nAddress: {ip}\nInfo: PING CRITICAL - Packet loss = 100%\nDate/Time: {alert_ts}"),
            ("[P1] Core switch {switch} unreachable - HSRP failover on VLAN {vlan}", "Event management correlated 112 downstream alerts to {switch}.\nHSRP state change on VLAN {vlan}: Active -> Init\nFirst event: {alert_ts}"),
        ],
    },
    Problem {
        key: "wifi",
        category: "Network",
        subcategory: "Wireless",
        group: NETOPS,
        priority: 3,
        resolution: "Wireless controller showed channel overlap between neighbouring access points; RF profile re-tuned, two APs switched to 5 GHz only, clients stable since.",
        terse: &[
            "wifi keeps dropping",
            "wlan disconnects in {room}",
            "wifi very slow on {floor}",
            "laptop loses wifi every few minutes",
            "cant stay connected to CorpWiFi",
        ],
        angry: &[
            "WIFI IS UNUSABLE ON {floor}!!",
            "wifi dropping AGAIN in every meeting",
            "Fix the wifi please, third time this week!!",
        ],
        formal: &[
            "Intermittent wireless disconnects on {floor}, {site}",
            "User reports unstable Wi-Fi connection in {room}",
            "Wireless connectivity drops in meeting rooms at {site}",
        ],
        body: &[
            "the wifi drops every 5-10 minutes, teams calls freeze and then reconnect",
            "In {room} the laptop shows connected to CorpWiFi but nothing loads for a minute, then it works again. Colleagues have the same issue.",
            "Wifi on {floor} is super slow {when}. Speedtest shows 2 Mbit.",
            "Every time I walk from my desk to {room} the connection drops and I have to reconnect manually.",
        ],
        symptoms: &[
            "the Wi-Fi connection on {floor} drops every few minutes and reconnects",
            "laptops in {room} show connected to CorpWiFi but have no throughput for up to a minute at a time",
        ],
        checks: &[
            "Forgot and re-added the CorpWiFi profile.",
            "Updated the wireless driver; issue persists.",
            "Same behaviour on a colleague's laptop, so not device specific.",
        ],
        alerts: &[(
            "Cisco WLC: AP ap-{vlan} radio reset, channel utilisation 94%",
            "Controller: wlc-01\nAP: ap-{vlan} ({site}, {floor})\nEvent: Radio 802.11a reset, channel utilisation 94%\nClients affected: {count}\nTime: {alert_ts}",
        )],
    },
    Problem {
        key: "dns",
        category: "Network",
        subcategory: "DNS",
        group: NETOPS,
        priority: 2,
        resolution: "Faulty DNS zone change rolled back (deleted A and MX records restored); caches flushed on the internal resolvers and change procedure amended with a peer review.",
        terse: &[
            "websites not loading",
            "cant open intranet, page not found",
            "server not found error",
            "name resolution not working",
        ],
        angry: &["NOTHING RESOLVES!! DNS BROKEN??", "intranet and mail DOWN - urgent!!"],
        formal: &[
            "Internal DNS names not resolving for users at {site}",
            "DNS resolution failures for contoso.com records",
            "Users receive 'server not found' for internal applications",
        ],
        body: &[
            "browser says DNS_PROBE_FINISHED_NXDOMAIN for {webapp} but it worked this morning",
            "I can ping the IP {ip} but not the name {app_host}. nslookup says Non-existent domain.",
            "Since about {time} a lot of internal sites don't open, error 'Hmm, we can't reach this page'. External websites are fine.",
        ],
        symptoms: &[
            "internal host names such as {app_host} return NXDOMAIN while the IP addresses are reachable",
            "several internal applications fail with 'server not found' since about {time}",
        ],
        checks: &[
            "nslookup against {dns_srv} returns Non-existent domain.",
            "ipconfig /flushdns did not help.",
            "Verified the issue from two different networks.",
        ],
        alerts: &[
            ("Zabbix problem: DNS lookup of {webapp} failed on {dns_srv}", "Problem started at {alert_ts}\nProblem name: DNS lookup of {webapp} failed\nHost: {dns_srv}\nSeverity: High\nOperational data: NXDOMAIN"),
            ("[CRITICAL] Nagios: {dns_srv} DNS CRITICAL - no MX record for contoso.com", "***** Nagios *****\nNotification Type: PROBLEM\nService: DNS MX contoso.com\nHost: {dns_srv}\nState: CRITICAL\nInfo: DNS CRITICAL - query returned NXDOMAIN\nDate/Time: {alert_ts}"),
        ],
    },
    Problem {
        key: "wan_slow",
        category: "Network",
        subcategory: "WAN",
        group: NETOPS,
        priority: 2,
        resolution: "WAN link to the branch was saturated by an offsite backup job running during business hours; QoS policy corrected and the backup window moved to the night.",
        terse: &[
            "network very slow in {site}",
            "everything slow at branch",
            "slow network {site} office",
            "files take ages to open",
        ],
        angry: &[
            "{site} NETWORK IS CRAWLING, WE CANNOT WORK",
            "Network slow AGAIN in {site}!!!",
        ],
        formal: &[
            "Degraded network performance at the {site} branch",
            "High latency to data centre applications from {site}",
            "Users at {site} report slow access to central systems",
        ],
        body: &[
            "Opening a 2 MB file from {share} takes over a minute. Teams video freezes. Only here in {site}, colleagues at HQ are fine.",
            "ping to {app_host} is 600-900ms from here, normally ~20",
            "Since {time} the whole branch is very slow, ERP screens take 30 seconds to load.",
        ],
        symptoms: &[
            "all users at the {site} branch experience very slow access to central applications, latency above 500 ms",
            "file transfers and video calls from {site} are extremely slow since {time}",
        ],
        checks: &[
            "Ping to the data centre shows 650 ms and 4% loss.",
            "WAN dashboard shows the MPLS link at 100% utilisation.",
            "Local LAN performance is normal.",
        ],
        alerts: &[(
            "PRTG: {site} WAN link bandwidth usage above 95% (Sensor: MPLS-Uplink)",
            "Device: {site} edge router\nSensor: MPLS-Uplink Traffic\nStatus: Down (Limit exceeded)\nLast value: 98.7 % of 100 Mbit/s\nSince: {alert_ts}",
        )],
    },
    Problem {
        key: "port_dead",
        category: "Network",
        subcategory: "LAN",
        group: NETOPS,
        priority: 4,
        resolution: "Switch port was err-disabled after loop detection; port re-enabled, faulty patch cable replaced and BPDU guard confirmed.",
        terse: &[
            "network cable not working at my desk",
            "no network on docking station lan",
            "ethernet port dead desk {desk}",
            "pc says network cable unplugged",
        ],
        angry: &["STILL NO NETWORK AT MY DESK!!"],
        formal: &[
            "Wired network port not working at user's desk",
            "No connectivity on floor port, {floor} {site}",
            "Desk network outlet {desk} inactive",
        ],
        body: &[
            "When i plug my laptop into the dock the network icon shows a cross. Wifi works. Desk number {desk}.",
            "The LAN port at my new desk on {floor} doesn't work, I tried two cables.",
            "network cable unplugged message although cable is plugged in",
        ],
        symptoms: &[
            "the network port at desk {desk} on {floor} shows no link",
            "the user's docking station gets no wired connectivity while Wi-Fi works",
        ],
        checks: &[
            "Tested with a known good cable and a second laptop.",
            "Wall socket {desk} traced to {access_switch} {port}.",
        ],
        alerts: &[(
            "{access_switch}: %PM-4-ERR_DISABLE: loop-detect error on {port}",
            "Syslog from {access_switch} ({ip}) at {alert_ts}:\n%PM-4-ERR_DISABLE: loop-detect error detected on {port}, putting {port} in err-disable state",
        )],
    },
    Problem {
        key: "dhcp",
        category: "Network",
        subcategory: "DHCP",
        group: NETOPS,
        priority: 2,
        resolution: "DHCP scope for the VLAN was exhausted; lease time reduced from 8 days to 8 hours, scope extended by a /24 and a utilisation alert added.",
        terse: &[
            "no ip address",
            "wifi connected but no internet",
            "limited connectivity on laptop",
            "169.254 address on laptop",
        ],
        angry: &["NOBODY NEW CAN CONNECT TO THE NETWORK!!"],
        formal: &[
            "Clients not obtaining IP addresses via DHCP at {site}",
            "Devices receive APIPA addresses on VLAN {vlan}",
        ],
        body: &[
            "my laptop shows 'No internet, secured' and ipconfig shows 169.254.x.x",
            "This morning several colleagues could not connect, those who were already in yesterday are fine.",
            "Visitors and new laptops on {floor} don't get an IP address.",
        ],
        symptoms: &[
            "devices on VLAN {vlan} at {site} receive 169.254.x.x addresses and have no connectivity",
            "newly connecting clients on {floor} get no IP lease while existing sessions keep working",
        ],
        checks: &[
            "ipconfig /renew times out.",
            "Existing clients with a lease are unaffected.",
        ],
        alerts: &[(
            "Zabbix problem: DHCP scope utilisation is 100% on {dns_srv}",
            "Problem started at {alert_ts}\nHost: {dns_srv}\nProblem: DHCP scope 10.{vlan}.0.0/24 has no free addresses (254/254 leased)\nSeverity: High",
        )],
    },
    // ----- Remote Access -----
    Problem {
        key: "vpn_connect",
        category: "Remote Access",
        subcategory: "VPN",
        group: REMOTE,
        priority: 3,
        resolution: "GlobalProtect machine certificate on the laptop had expired; certificate re-enrolled through Intune and the VPN connects again.",
        terse: &[
            "vpn not connecting",
            "cant connect vpn from home",
            "globalprotect stuck on connecting",
            "vpn error",
            "vpn login fails",
        ],
        angry: &[
            "VPN DOWN AGAIN!!!",
            "STILL CANNOT CONNECT TO VPN, I HAVE A DEADLINE",
            "vpn not working for 2 days now!!",
        ],
        formal: &[
            "User unable to connect to VPN from home office",
            "GlobalProtect VPN connection fails at authentication",
            "Remote user cannot establish VPN tunnel",
        ],
        body: &[
            "GlobalProtect says 'Connecting...' forever then 'Gateway {vpn_gw}: authentication failed'.",
            "I'm working from home today and the VPN won't connect. Error: 'Valid client certificate is required'. Internet at home works fine.",
            "vpn client stuck, tried reboot 2x",
            "I can't connect to the VPN {when}. I enter my password and the MFA prompt never comes, after 30 seconds it says the connection failed. I need access to {share} for month-end.",
        ],
        symptoms: &[
            "the GlobalProtect client fails with 'Valid client certificate is required' when connecting from home",
            "the VPN connection to {vpn_gw} times out at the authentication step",
        ],
        checks: &[
            "Home internet connection verified, other sites load.",
            "Reinstalled the GlobalProtect client.",
            "Account is not locked and the password is valid.",
        ],
        alerts: &[],
    },
    Problem {
        key: "vpn_drops",
        category: "Remote Access",
        subcategory: "VPN",
        group: REMOTE,
        priority: 3,
        resolution: "MTU mismatch caused fragmented packets to be dropped on the tunnel; VPN client MTU set to 1350 via a profile update, sessions stable.",
        terse: &[
            "vpn keeps disconnecting",
            "vpn drops every few minutes",
            "vpn disconnects during calls",
            "vpn unstable",
        ],
        angry: &[
            "VPN KEEPS DROPPING!!! CANNOT WORK LIKE THIS",
            "vpn disconnected 10 times today!!!",
        ],
        formal: &[
            "Frequent VPN disconnects reported by remote user",
            "VPN tunnel drops intermittently",
            "VPN session disconnects every 5-10 minutes",
        ],
        body: &[
            "VPN connects fine but drops after a few minutes, then reconnects. RDP sessions to {app_host} get lost every time.",
            "since {time} my vpn disconnects every 10 min or so",
            "The VPN keeps dropping while I'm on calls and my file copies to {share} fail halfway. It reconnects by itself after ~30 seconds.",
        ],
        symptoms: &[
            "the VPN tunnel drops every few minutes and reconnects after about 30 seconds",
            "VPN sessions disconnect repeatedly, interrupting RDP and file transfers",
        ],
        checks: &[
            "Tested on a mobile hotspot: same behaviour.",
            "GlobalProtect logs show 'tunnel keep-alive timeout'.",
        ],
        alerts: &[(
            "[WARNING] Nagios: {vpn_gw} active VPN sessions dropped by 60%",
            "Host: {vpn_gw}\nService: GP active users\nState: WARNING\nInfo: active sessions 212 -> 84 within 5 minutes\nDate/Time: {alert_ts}",
        )],
    },
    Problem {
        key: "vpn_tunnel",
        category: "Remote Access",
        subcategory: "Site-to-site VPN",
        group: NETOPS,
        priority: 2,
        resolution: "IPsec phase 2 renegotiation failed after a firmware update on the peer; proposals aligned (AES-256, SHA-256, PFS group 14) and the tunnel re-established.",
        terse: &[
            "cant reach warehouse system",
            "connection to {site} systems down",
            "supplier portal unreachable",
        ],
        angry: &["EDI TO SUPPLIER DOWN - ORDERS NOT GOING OUT!!"],
        formal: &[
            "Site-to-site VPN to {site} down",
            "IPsec tunnel to partner network not established",
            "Connectivity loss to {site} over site-to-site VPN",
        ],
        body: &[
            "We can't reach the warehouse system in {site} since {time}, the EDI messages are stuck.",
            "All connections from {site} to the data centre time out.",
        ],
        symptoms: &["there is no connectivity between {site} and the data centre over the site-to-site tunnel since {time}"],
        checks: &[
            "Traceroute stops at the edge firewall.",
            "Internet breakout at the site works.",
        ],
        alerts: &[
            ("[CRITICAL] Nagios: {vpn_gw} IPsec tunnel down", "Host: {vpn_gw}\nService: IPsec tunnel to {site}\nState: CRITICAL\nAttempt: 3/3\nInfo: CRITICAL - Tunnel peer {ip} DOWN (phase 2 SA missing)\nDate/Time: {alert_ts}"),
            ("PRTG: {vpn_gw} IPsec tunnel {site} sensor Down", "Device: {vpn_gw}\nSensor: IPsec Tunnel {site}\nStatus: Down\nMessage: No SA established with peer {ip}\nSince: {alert_ts}"),
        ],
    },
    Problem {
        key: "citrix",
        category: "Remote Access",
        subcategory: "Citrix",
        group: REMOTE,
        priority: 3,
        resolution: "User profile on the Citrix VDA was stuck; profile reset, affected session host drained and rebooted, logon times normal.",
        terse: &[
            "citrix freezes",
            "citrix session hangs",
            "remote desktop frozen",
            "citrix very slow",
        ],
        angry: &["CITRIX FROZE AGAIN AND I LOST MY WORK!!"],
        formal: &[
            "Citrix session freezes for remote user",
            "Citrix Workspace session hangs at logon",
            "Virtual desktop unresponsive",
        ],
        body: &[
            "My Citrix desktop freezes for 20-30 seconds every few minutes, mouse moves but nothing else.",
            "citrix stuck at 'Preparing Windows' since {time}",
            "When I log in to the virtual desktop it hangs on the welcome screen, then disconnects. Tried from home and office.",
        ],
        symptoms: &[
            "the Citrix virtual desktop freezes for up to 30 seconds at a time",
            "Citrix logon hangs at 'Preparing Windows' and then disconnects",
        ],
        checks: &[
            "Citrix Workspace app reinstalled.",
            "Other users on the same delivery group can log in.",
        ],
        alerts: &[],
    },
    // ----- Email -----
    Problem {
        key: "outlook_crash",
        category: "Email",
        subcategory: "Outlook client",
        group: MESSAGING,
        priority: 3,
        resolution: "Faulty third-party COM add-in crashed Outlook; add-in disabled via policy, OST file rebuilt, Outlook stable.",
        terse: &[
            "outlook wont open",
            "outlook crashes on startup",
            "outlook not responding",
            "outlook keeps crashing",
            "outlook stuck on loading profile",
        ],
        angry: &[
            "OUTLOOK CRASHED AGAIN!!!",
            "outlook not working AT ALL - urgent",
            "Why does Outlook crash every morning???",
        ],
        formal: &[
            "Outlook desktop client crashes on start",
            "User unable to launch Outlook - hangs at 'Loading Profile'",
            "Outlook terminates unexpectedly after splash screen",
        ],
        body: &[
            "Outlook shows the splash screen and then just closes.",
            "When I open Outlook it hangs on 'Loading Profile' and then says 'Microsoft Outlook has stopped working'. Web mail works fine.",
            "outlook crashing {when}, restarted twice",
            "Every time I click on a calendar invite Outlook freezes and I have to kill it in task manager. Happens {when}.",
        ],
        symptoms: &[
            "Outlook hangs at 'Loading Profile' and closes with 'Microsoft Outlook has stopped working'",
            "the Outlook desktop client crashes shortly after start, while Outlook on the web works",
        ],
        checks: &[
            "Outlook on the web works for the user.",
            "Outlook starts normally with /safe.",
            "Office is on the current build.",
        ],
        alerts: &[],
    },
    Problem {
        key: "mailbox_full",
        category: "Email",
        subcategory: "Mailbox",
        group: MESSAGING,
        priority: 4,
        resolution: "Mailbox was over quota; online archive enabled with a 2-year retention policy, mailbox back below the warning limit.",
        terse: &[
            "mailbox full",
            "cant send emails mailbox full",
            "mailbox size limit warning",
            "outlook says mailbox almost full",
        ],
        angry: &["CAN'T SEND ANY MAILS - MAILBOX FULL!!"],
        formal: &[
            "Mailbox has reached its storage quota",
            "User cannot send e-mail: mailbox over quota",
            "Mailbox quota increase request",
        ],
        body: &[
            "I got a message that my mailbox is full and I can't send emails anymore. I need to send offers to customers today!",
            "outlook says 'your mailbox is over its size limit'. I already deleted stuff.",
            "Can you please increase my mailbox? It's at 49.5 GB of 50 GB.",
        ],
        symptoms: &[
            "the mailbox has reached its quota and sending is blocked",
            "the user receives 'mailbox is over its size limit' warnings and cannot send",
        ],
        checks: &[
            "Mailbox size confirmed at 49.8 GB of 50 GB.",
            "Emptied Deleted Items together with the user.",
        ],
        alerts: &[],
    },
    Problem {
        key: "external_bounce",
        category: "Email",
        subcategory: "Mail flow",
        group: MESSAGING,
        priority: 2,
        resolution: "Outbound connector pointed to a smart host whose IP had changed; connector updated with the new smart host, queue flushed and messages delivered.",
        terse: &[
            "emails to customers bounce",
            "mail not delivered to external",
            "getting undeliverable messages",
            "ndr when sending to {domain_ext}",
        ],
        angry: &[
            "CUSTOMERS NOT GETTING OUR EMAILS!!!",
            "ALL MY EXTERNAL MAILS BOUNCE",
        ],
        formal: &[
            "Outbound e-mail to external recipients rejected",
            "Users receive NDRs when sending to external domains",
            "External mail delivery failure",
        ],
        body: &[
            "Every mail I send to {domain_ext} comes back with 'Remote Server returned 550 5.7.1 Message rejected'.",
            "All mails to external addresses bounce {when}. Internal mails work.",
            "i get undeliverable: 'Delivery has failed to these recipients'. sent to 3 customers, all bounced",
        ],
        symptoms: &[
            "outbound e-mails to {domain_ext} and other external domains are rejected with 550 5.7.1",
            "external recipients do not receive mail and senders get non-delivery reports",
        ],
        checks: &[
            "Message trace shows the messages failing at the outbound connector.",
            "Internal mail flow works.",
        ],
        alerts: &[(
            "Exchange Online: outbound queue on connector 'To-Internet' above threshold",
            "Alert policy: Messages have been delayed\nQueue: To-Internet via {mail_srv}\nMessages queued: 1,284\nLast error: 451 4.4.0 DNS query failed\nFirst seen: {alert_ts}",
        )],
    },
    Problem {
        key: "incoming_delayed",
        category: "Email",
        subcategory: "Mail flow",
        group: MESSAGING,
        priority: 3,
        resolution: "Mail gateway queue stuck after an anti-spam signature update; filtering service restarted, about 4,000 queued messages released and delivered.",
        terse: &[
            "emails arriving late",
            "not receiving external emails",
            "mail delayed by hours",
        ],
        angry: &["WHERE ARE MY EMAILS? CUSTOMER SENT IT 2 HOURS AGO"],
        formal: &[
            "Inbound e-mail delayed",
            "External e-mails arriving with several hours' delay",
        ],
        body: &[
            "A customer sent me an email at 9 and I only got it now. Colleagues say the same.",
            "Not getting any emails from outside since {time}.",
            "mails from {domain_ext} arrive 2-3 hours late",
        ],
        symptoms: &[
            "inbound mail from external senders arrives with delays of up to three hours",
            "no external e-mail has been received since about {time}",
        ],
        checks: &[
            "Message trace shows messages held at the mail gateway.",
            "Internal mails arrive immediately.",
        ],
        alerts: &[(
            "[WARNING] Mail gateway {mail_srv}: inbound queue length 4210",
            "Host: {mail_srv}\nService: Inbound queue\nState: WARNING\nInfo: queue length 4210 (threshold 1000), oldest message 142 min\nDate/Time: {alert_ts}",
        )],
    },
    Problem {
        key: "shared_mailbox",
        category: "Email",
        subcategory: "Permissions",
        group: MESSAGING,
        priority: 4,
        resolution: "Full Access and Send As permissions granted on the shared mailbox; automapping completed after an Outlook restart.",
        terse: &[
            "cant access shared mailbox",
            "shared mailbox not showing in outlook",
            "need access to {mailbox}",
        ],
        angry: &["STILL NO ACCESS TO {mailbox} AFTER 3 DAYS"],
        formal: &[
            "Shared mailbox {mailbox} missing in Outlook",
            "Access to shared mailbox not working",
            "Send-as permission for shared mailbox fails",
        ],
        body: &[
            "I was told I have access to {mailbox} but it doesn't show in my Outlook.",
            "When I try to send from {mailbox} I get 'You do not have the permission to send the message on behalf of the specified user'.",
            "Please give me access to the {mailbox} mailbox, my manager approved.",
        ],
        symptoms: &[
            "the shared mailbox {mailbox} does not appear in Outlook despite approved access",
            "sending as {mailbox} fails with a permission error",
        ],
        checks: &[
            "Access request approval found in the request history.",
            "Mailbox opens in Outlook on the web.",
        ],
        alerts: &[],
    },
    // ----- Identity & Access -----
    Problem {
        key: "account_locked",
        category: "Identity & Access",
        subcategory: "Account",
        group: DESK,
        priority: 3,
        resolution: "Account unlocked; lockout source was an old password cached in the mail app on the user's phone, profile removed and re-added.",
        terse: &[
            "account locked",
            "locked out of my account",
            "cant login account locked",
            "my user is locked again",
        ],
        angry: &[
            "LOCKED OUT AGAIN!!! 3RD TIME TODAY",
            "ACCOUNT LOCKED - CANNOT WORK",
        ],
        formal: &[
            "User account locked out in Active Directory",
            "Repeated account lockouts",
            "Account lockout - user cannot sign in",
        ],
        body: &[
            "My account gets locked every hour, I didn't change anything.",
            "windows says the referenced account is currently locked out",
            "I changed my password yesterday and since then I'm locked out all the time. My phone keeps asking for the password too.",
        ],
        symptoms: &[
            "the user's AD account is locked out repeatedly, roughly every hour",
            "the user cannot sign in because the account is locked out",
        ],
        checks: &[
            "Lockout source in the DC logs points to the user's mobile device.",
            "Unlocked the account; it locked again within 30 minutes.",
        ],
        alerts: &[(
            "Splunk alert: Excessive account lockouts (EventCode 4740)",
            "Search: AD lockouts > 5 in 1h\nEventCode: 4740 on dc01.contoso.local\nCaller computer: {pc}\nCount: 9\nTrigger time: {alert_ts}",
        )],
    },
    Problem {
        key: "password_expired",
        category: "Identity & Access",
        subcategory: "Password",
        group: DESK,
        priority: 4,
        resolution: "Password reset by the service desk after identity verification; user registered for self-service password reset.",
        terse: &[
            "password expired",
            "need password reset",
            "forgot my password",
            "cant change password",
        ],
        angry: &["PASSWORD RESET NOT WORKING!!!"],
        formal: &[
            "Password reset request",
            "User's password has expired, unable to sign in remotely",
            "Self-service password reset fails",
        ],
        body: &[
            "My password expired while I was on holiday and now I can't log in.",
            "pw expired, cant log into laptop from home",
            "The self service password reset page says 'We're sorry, you can't reset your password at this time'.",
        ],
        symptoms: &[
            "the user's password has expired and they cannot sign in from outside the office",
            "self-service password reset fails for the user",
        ],
        checks: &[
            "Identity verified via callback to the registered mobile number.",
            "SSPR registration status: not registered.",
        ],
        alerts: &[],
    },
    Problem {
        key: "sso_fails",
        category: "Identity & Access",
        subcategory: "SSO",
        group: IAM,
        priority: 2,
        resolution: "ADFS service hung on one farm node; node removed from the load balancer, service restarted and node re-added after health checks.",
        terse: &[
            "sso login fails",
            "cant login to office 365",
            "login loop microsoft",
            "sign in error {bizapp}",
        ],
        angry: &[
            "NOBODY CAN LOG IN TO ANYTHING!!!",
            "LOGIN BROKEN FOR ALL APPS",
        ],
        formal: &[
            "Single sign-on failing for cloud applications",
            "Users cannot authenticate via ADFS",
            "Federated login error for Microsoft 365",
        ],
        body: &[
            "When I log in to {bizapp} I get redirected to the login page and then 'An error occurred. Contact your administrator'.",
            "login to teams/outlook web fails, error MSIS7012",
            "Since {time} I can't sign in to any of the web apps, always get sent back to the login screen. Colleagues too.",
        ],
        symptoms: &[
            "sign-in to {bizapp} and Microsoft 365 fails with an ADFS error page",
            "users are stuck in a login loop for all federated applications",
        ],
        checks: &[
            "Same error in an InPrivate window.",
            "Several users affected, not account-specific.",
        ],
        alerts: &[(
            "Azure AD Connect Health: ADFS token requests failing",
            "Alert: Token requests failed\nServer: adfs-01\nFailed requests (last 15 min): 3,412\nFirst detected: {alert_ts}",
        )],
    },
    Problem {
        key: "access_request",
        category: "Identity & Access",
        subcategory: "Authorization",
        group: IAM,
        priority: 4,
        resolution: "User added to the AD security group of the department share; access confirmed after logging off and on again.",
        terse: &[
            "no access to {share}",
            "access denied {drive} drive",
            "need permission for folder",
            "cant open {bizapp}, no rights",
        ],
        angry: &[],
        formal: &[
            "Missing permissions on file share {share}",
            "User requires access to {bizapp}",
            "Access denied on department folder",
        ],
        body: &[
            "I moved to {dept} and I still don't have access to {share}. My manager already approved.",
            "access denied when opening the {drive} drive",
            "When I open {bizapp} it says I'm not authorised. New colleague started today and needs the same rights as me.",
        ],
        symptoms: &[
            "the user gets 'access denied' on {share} after moving to {dept}",
            "the user lacks the role to open {bizapp}",
        ],
        checks: &[
            "Manager approval attached.",
            "Compared group memberships with a team colleague.",
        ],
        alerts: &[],
    },
    Problem {
        key: "mfa",
        category: "Identity & Access",
        subcategory: "MFA",
        group: DESK,
        priority: 3,
        resolution: "Existing MFA methods reset after identity verification; Microsoft Authenticator re-registered on the user's new phone.",
        terse: &[
            "mfa not working",
            "no authenticator push",
            "new phone mfa",
            "mfa code not accepted",
        ],
        angry: &["CAN'T LOG IN, MFA PUSH NEVER ARRIVES!!"],
        formal: &[
            "MFA prompt not received on user's mobile",
            "User needs MFA re-registration after phone replacement",
            "Multi-factor authentication fails",
        ],
        body: &[
            "I got a new phone ({mobile}) and now the Authenticator app doesn't have my account anymore.",
            "the mfa push never comes, waited 5 minutes",
            "When I log in the code from the authenticator is rejected as wrong. Time on the phone is correct.",
        ],
        symptoms: &[
            "the user no longer receives MFA push notifications after switching to a new {mobile}",
            "MFA codes from the Authenticator app are rejected",
        ],
        checks: &[
            "Identity verified via manager callback.",
            "Sign-in logs show 'MFA denied; user did not respond'.",
        ],
        alerts: &[],
    },
    // ----- Hardware -----
    Problem {
        key: "laptop_no_boot",
        category: "Hardware",
        subcategory: "Laptop",
        group: EUC,
        priority: 2,
        resolution: "Mainboard failure confirmed by vendor diagnostics; laptop swapped from the spare pool and user data restored from OneDrive.",
        terse: &[
            "laptop wont turn on",
            "black screen on laptop",
            "pc not booting",
            "laptop dead",
        ],
        angry: &["MY LAPTOP IS DEAD AND I HAVE A PRESENTATION AT 2!!!"],
        formal: &[
            "Laptop does not power on",
            "Notebook fails to boot - black screen",
            "Hardware fault: laptop {pc} not starting",
        ],
        body: &[
            "My {laptop} doesn't start anymore. Power LED blinks orange 3 times and then nothing.",
            "laptop black screen after windows logo",
            "This morning my laptop doesn't turn on at all, not even with the charger. It was fine yesterday evening.",
        ],
        symptoms: &[
            "the user's {laptop} ({pc}) does not power on; the LED blinks amber three times",
            "the laptop {pc} shows a black screen after the manufacturer logo",
        ],
        checks: &[
            "Tried a known good charger and a hard reset.",
            "Vendor diagnostics report a mainboard error.",
        ],
        alerts: &[],
    },
    Problem {
        key: "dock",
        category: "Hardware",
        subcategory: "Docking station",
        group: EUC,
        priority: 4,
        resolution: "Dock firmware and DisplayLink driver updated to current versions; both external monitors detected after reboot.",
        terse: &[
            "monitors not working",
            "docking station not detecting screens",
            "second screen black",
            "dock not working",
        ],
        angry: &["BOTH MONITORS DEAD AGAIN AFTER UPDATE"],
        formal: &[
            "External monitors not detected via docking station",
            "Docking station not recognised by laptop",
            "Dual monitor setup not working at desk {desk}",
        ],
        body: &[
            "When I connect my laptop to the dock only one of the two screens works, the other says no signal.",
            "screens stay black when docked, usb mouse works",
            "The docking station at desk {desk} doesn't detect my monitors {when}. Charging works.",
        ],
        symptoms: &[
            "external monitors on the docking station are not detected",
            "only one of two monitors works when the laptop is docked",
        ],
        checks: &[
            "Monitors work with a colleague's laptop.",
            "Reseated the USB-C cable.",
        ],
        alerts: &[],
    },
    Problem {
        key: "battery",
        category: "Hardware",
        subcategory: "Laptop",
        group: EUC,
        priority: 3,
        resolution: "Battery failed vendor diagnostics; replacement battery fitted under warranty and the old one disposed of as hazardous waste.",
        terse: &[
            "battery not charging",
            "laptop battery drains fast",
            "battery swollen",
            "laptop only works plugged in",
        ],
        angry: &[],
        formal: &[
            "Laptop battery not charging",
            "Battery swelling reported - safety risk",
            "Battery capacity degraded on {pc}",
        ],
        body: &[
            "my laptop battery says 'plugged in, not charging' and dies after 20 min unplugged",
            "The touchpad is lifting up and the laptop doesn't lie flat anymore, I think the battery is swollen.",
            "Battery goes from 100 to 0 in less than an hour.",
        ],
        symptoms: &[
            "the battery of {pc} is not charging and lasts under 30 minutes",
            "the laptop battery appears swollen (touchpad lifting)",
        ],
        checks: &[
            "Battery report shows 38% of design capacity.",
            "Advised the user to stop using the device on battery.",
        ],
        alerts: &[],
    },
    Problem {
        key: "slow_pc",
        category: "Hardware",
        subcategory: "Performance",
        group: EUC,
        priority: 4,
        resolution: "Windows Update was stuck in a retry loop; update cache cleared, pending cumulative update installed, SSD health verified and performance back to normal.",
        terse: &[
            "pc very slow",
            "laptop super slow",
            "computer freezing",
            "fan very loud and everything slow",
        ],
        angry: &["MY LAPTOP IS UNUSABLY SLOW!!!"],
        formal: &[
            "Workstation performance degraded",
            "Laptop extremely slow after startup",
            "Device {pc} high disk usage",
        ],
        body: &[
            "Takes 10 minutes to boot and opening Excel takes forever.",
            "task manager shows disk at 100% all the time",
            "My laptop is very slow since the last updates, the fan is always on and everything freezes for a few seconds.",
        ],
        symptoms: &[
            "the laptop {pc} is very slow with disk usage constantly at 100%",
            "boot and application start take several minutes",
        ],
        checks: &["No malware found in a quick scan.", "Free disk space 42 GB."],
        alerts: &[],
    },
    // ----- Printing -----
    Problem {
        key: "printer_offline",
        category: "Printing",
        subcategory: "Printer",
        group: PRINT,
        priority: 4,
        resolution: "Printer lost its DHCP reservation after a firmware reset; static IP re-applied on the device and the print queue is back online.",
        terse: &[
            "printer offline",
            "cant print",
            "{printer} offline",
            "printer not printing",
        ],
        angry: &["PRINTER OFFLINE AGAIN ON {floor}!!!"],
        formal: &[
            "Printer {printer} shows offline for all users",
            "Network printer unreachable on {floor}",
            "Users unable to print to {printer}",
        ],
        body: &[
            "The printer on {floor} says offline in Windows, but the display on the printer looks normal.",
            "cant print anything to {printer}, jobs just sit there",
            "Our {printer_model} near the kitchen on {floor} isn't printing {when}. Others have the same problem.",
        ],
        symptoms: &[
            "{printer} ({printer_model}) on {floor} shows as offline for all users",
            "print jobs to {printer} stay in the queue and nothing prints",
        ],
        checks: &["Printer display shows Ready.", "Ping to the printer's IP fails."],
        alerts: &[(
            "PRTG: {printer} Ping sensor Down",
            "Device: {printer} ({printer_model})\nSensor: Ping\nStatus: Down\nMessage: Destination host unreachable\nSince: {alert_ts}",
        )],
    },
    Problem {
        key: "printer_hw",
        category: "Printing",
        subcategory: "Printer hardware",
        group: PRINT,
        priority: 4,
        resolution: "Fuser unit at end of life (error 50.2); vendor technician replaced the fuser and the pickup rollers.",
        terse: &[
            "paper jam",
            "printer error 50.2",
            "printer makes strange noise",
            "prints are smudged",
        ],
        angry: &[],
        formal: &[
            "Printer reports hardware error",
            "Recurring paper jams on {printer}",
            "Print quality issue: smudged output",
        ],
        body: &[
            "printer shows error 50.2 fuser error, turn off then on. Did that, same error.",
            "The printer on {floor} jams every few pages, always in tray 2.",
            "Everything printed on {printer} has grey smudges on the right side.",
        ],
        symptoms: &[
            "{printer} reports error 50.2 (fuser) after a restart",
            "{printer} produces smudged prints and frequent paper jams",
        ],
        checks: &["Power-cycled the printer.", "Removed jammed paper from tray 2."],
        alerts: &[],
    },
    Problem {
        key: "spooler",
        category: "Printing",
        subcategory: "Print server",
        group: PRINT,
        priority: 3,
        resolution: "Print Spooler service on the print server hung on a corrupt job; spooler restarted, stuck jobs purged and the faulty driver replaced.",
        terse: &[
            "print jobs stuck in queue",
            "nobody can print",
            "printing not working for anyone",
            "print queue stuck",
        ],
        angry: &["NOBODY IN THE BUILDING CAN PRINT!!"],
        formal: &[
            "Print jobs stuck on print server {print_srv}",
            "Printing failed for all queues on {print_srv}",
            "Print spooler issue affecting multiple users",
        ],
        body: &[
            "all print jobs are stuck with status 'Error - Printing' and nothing comes out, on any printer",
            "We can't print since {time}, the whole department.",
            "Jobs in the queue on {print_srv} pile up, I have 5 documents waiting.",
        ],
        symptoms: &[
            "print jobs on {print_srv} are stuck with status 'Error - Printing' for all queues",
            "nobody can print through {print_srv} since {time}",
        ],
        checks: &[
            "Several printers affected, so not device related.",
            "Direct IP printing to a device works.",
        ],
        alerts: &[(
            "SCOM: Print Spooler service stopped on {print_srv}",
            "Alert: Service Print Spooler stopped\nSource: {print_srv}\nSeverity: Critical\nRaised: {alert_ts}",
        )],
    },
    Problem {
        key: "add_printer",
        category: "Printing",
        subcategory: "Driver",
        group: PRINT,
        priority: 4,
        resolution: "Printer GPO referenced a driver package not approved for Point and Print; driver package updated on the print server and printer mapped.",
        terse: &[
            "cant add printer",
            "printer driver install fails",
            "printers missing on new laptop",
            "printer not in list",
        ],
        angry: &[],
        formal: &[
            "Printer deployment fails on user device",
            "Unable to install printer driver - admin rights required",
            "Printer not mapped after device replacement",
        ],
        body: &[
            "I got a new laptop and the printers are missing. When I add {printer} it asks for admin rights.",
            "Windows cannot connect to the printer, error 0x0000011b",
            "driver install for {printer_model} fails",
        ],
        symptoms: &[
            "adding {printer} fails with error 0x0000011b",
            "printers are not mapped on the user's new laptop and the driver install requires admin rights",
        ],
        checks: &[
            "gpresult shows the printer GPO applied.",
            "Other users on the same floor can print.",
        ],
        alerts: &[],
    },
    Problem {
        key: "scan_email",
        category: "Printing",
        subcategory: "Scan",
        group: PRINT,
        priority: 4,
        resolution: "MFP used the retired SMTP relay with anonymous submission; reconfigured to the authenticated relay on port 587 with the scanner service account.",
        terse: &[
            "scan to email not working",
            "scanner doesnt send email",
            "scan to mail fails",
        ],
        angry: &[],
        formal: &[
            "Scan-to-email failing on multifunction device {printer}",
            "MFP cannot send scanned documents by e-mail",
        ],
        body: &[
            "Scanning works but the email never arrives. The printer says 'Send failed: SMTP error'.",
            "scan to email on {printer} gives error 'Connection to server failed'",
        ],
        symptoms: &[
            "scan-to-email on {printer} fails with an SMTP connection error",
            "scanned documents from {printer} never arrive by e-mail",
        ],
        checks: &[
            "Scan to a USB stick works.",
            "Tested with two different recipient addresses.",
        ],
        alerts: &[],
    },
    // ----- Software -----
    Problem {
        key: "office_crash",
        category: "Software",
        subcategory: "Office",
        group: EUC,
        priority: 3,
        resolution: "Office Click-to-Run online repair performed and the crashing COM add-in disabled; application stable since.",
        terse: &[
            "excel crashes",
            "{office_app} keeps crashing",
            "excel not responding when opening file",
            "word freezes",
        ],
        angry: &["EXCEL CRASHED AND I LOST 2 HOURS OF WORK!!!"],
        formal: &[
            "{office_app} crashes when opening files",
            "Microsoft {office_app} stops responding",
            "Repeated {office_app} crashes on user device",
        ],
        body: &[
            "Excel crashes every time I open the budget file from {share}.",
            "{office_app} freezes after a few minutes and then closes, no error message.",
            "When I copy data from {bizapp} into Excel it hangs and I have to force close it.",
        ],
        symptoms: &[
            "{office_app} stops responding and closes when opening larger files",
            "{office_app} crashes without an error message several times a day",
        ],
        checks: &[
            "Office Quick Repair run: no change.",
            "Crash reproduced with a new local file.",
        ],
        alerts: &[],
    },
    Problem {
        key: "software_install",
        category: "Software",
        subcategory: "Installation",
        group: EUC,
        priority: 4,
        resolution: "Software Center install failed because the package content was missing on the site's distribution point; content redistributed and the installation succeeded.",
        terse: &[
            "need {software} installed",
            "software center install fails",
            "install error 0x87d00607",
            "cant install {software}",
        ],
        angry: &[],
        formal: &[
            "Installation of {software} fails from Software Center",
            "Software deployment failing on {pc}",
            "Software request: {software}",
        ],
        body: &[
            "In Software Center {software} shows 'Failed' with error 0x87D00607.",
            "I need {software} for a project, it's approved by my manager but the install fails.",
            "install stuck at 0% downloading",
        ],
        symptoms: &[
            "installing {software} from Software Center fails with 0x87D00607",
            "the {software} deployment stays at 'Downloading 0%'",
        ],
        checks: &[
            "Client cache cleared and machine policy retrieved.",
            "Install works on a test device.",
        ],
        alerts: &[],
    },
    Problem {
        key: "cert_warning",
        category: "Software",
        subcategory: "Browser",
        group: EUC,
        priority: 3,
        resolution: "Client was missing the renewed internal root CA certificate; root certificate redeployed by group policy and the warning is gone.",
        terse: &[
            "certificate error intranet",
            "your connection is not private",
            "security warning on {webapp}",
            "browser says certificate invalid",
        ],
        angry: &[],
        formal: &[
            "Browser certificate warning when accessing {webapp}",
            "NET::ERR_CERT_DATE_INVALID on internal site",
            "Certificate error on internal web application",
        ],
        body: &[
            "When I open {webapp} {browser} says 'Your connection isn't private' NET::ERR_CERT_DATE_INVALID. Can I click continue?",
            "getting a certificate warning on the intranet {when}",
            "The {webapp} page shows a red warning about the certificate, is this a virus?",
        ],
        symptoms: &[
            "{browser} shows NET::ERR_CERT_DATE_INVALID for {webapp}",
            "users get a certificate warning when opening {webapp}",
        ],
        checks: &[
            "Same warning in two browsers.",
            "Checked the certificate chain in the browser.",
        ],
        alerts: &[],
    },
    Problem {
        key: "license",
        category: "Software",
        subcategory: "Licensing",
        group: APPS,
        priority: 4,
        resolution: "Named-user licence was not assigned after the user's department change; licence assigned in the admin console and the user signed in again.",
        terse: &[
            "acrobat asks for license",
            "adobe sign in required",
            "office unlicensed product",
            "license expired message",
        ],
        angry: &[],
        formal: &[
            "Adobe Acrobat licence not assigned",
            "Application reports licence expired",
            "Office shows 'Unlicensed Product'",
        ],
        body: &[
            "Acrobat opens in read-only mode and asks me to sign in to buy a license.",
            "Word title bar says Unlicensed Product and I can't edit documents",
            "Adobe asks me to log in {when}, then says 'no license'.",
        ],
        symptoms: &[
            "Acrobat asks the user to sign in and reports no licence",
            "Office shows 'Unlicensed Product' and editing is disabled",
        ],
        checks: &[
            "User is signed in with the corporate account.",
            "Licence assignment checked in the admin console.",
        ],
        alerts: &[],
    },
    Problem {
        key: "bitlocker",
        category: "Software",
        subcategory: "Operating system",
        group: EUC,
        priority: 3,
        resolution: "BitLocker recovery triggered by the BIOS update; recovery key provided from Entra ID, TPM protectors reset and BitLocker suspended for the next updates.",
        terse: &[
            "bitlocker recovery key",
            "laptop asks for recovery key",
            "blue screen asking for key",
            "bitlocker screen after update",
        ],
        angry: &["LAPTOP LOCKED - BITLOCKER - NEED KEY NOW"],
        formal: &[
            "BitLocker recovery prompt on startup",
            "User requires BitLocker recovery key for {pc}",
            "Device boots to BitLocker recovery after BIOS update",
        ],
        body: &[
            "After the update tonight my laptop asks for a BitLocker recovery key. I don't have one.",
            "blue screen 'Enter the recovery key for this drive'",
            "My laptop {pc} shows BitLocker recovery, key ID starts with 4A1F.",
        ],
        symptoms: &[
            "{pc} boots into BitLocker recovery after a BIOS update",
            "the laptop asks for the BitLocker recovery key at every start",
        ],
        checks: &[
            "Identity verified; recovery key found in Entra ID.",
            "BIOS updated overnight by the patch ring.",
        ],
        alerts: &[],
    },
    // ----- Database -----
    Problem {
        key: "db_disk_full",
        category: "Database",
        subcategory: "Storage",
        group: DBA,
        priority: 1,
        resolution: "Transaction log volume filled after the log backup job had failed for two days; log backup re-run, volume extended by 200 GB and a job failure alert added.",
        terse: &[
            "database error disk full",
            "cant save in {bizapp}",
            "application error could not write",
        ],
        angry: &["NOTHING SAVES IN THE SYSTEM!!"],
        formal: &[
            "Database server {db_host} out of disk space",
            "Transaction log volume full on {db_host}",
            "Database writes failing on {db}",
        ],
        body: &[
            "{bizapp} shows 'could not extend file' when saving.",
            "Every save gives ORA-00257: archiver error. Connect internal only, until freed.",
            "Since {time} we get 'The transaction log for database {db} is full' in the app.",
        ],
        symptoms: &[
            "writes to {db} on {db_host} fail because the log volume is full",
            "applications using {db} return 'transaction log full' errors",
        ],
        checks: &[
            "Volume {db_volume} at 100%.",
            "Log backup job last succeeded two days ago.",
        ],
        alerts: &[
            ("Zabbix problem: Free disk space is less than 5% on volume {db_volume} on {db_host}", "Problem started at {alert_ts}\nProblem name: Free disk space is less than 5% on volume {db_volume}\nHost: {db_host}\nSeverity: Disaster\nOperational data: 0.4 % free"),
            ("[CRITICAL] Nagios: {db_host} DISK CRITICAL - free space: {db_volume} 212 MB (1%)", "***** Nagios *****\nNotification Type: PROBLEM\nService: Disk {db_volume}\nHost: {db_host}\nState: CRITICAL\nInfo: DISK CRITICAL - free space: {db_volume} 212 MB (1% inode=96%)\nDate/Time: {alert_ts}"),
        ],
    },
    Problem {
        key: "slow_queries",
        category: "Database",
        subcategory: "Performance",
        group: DBA,
        priority: 2,
        resolution: "Missing index after the application release caused full table scans; index recreated and statistics updated, query times back to normal.",
        terse: &[
            "{bizapp} very slow",
            "reports take forever",
            "queries timing out",
            "system slow when searching",
        ],
        angry: &["{bizapp} IS SO SLOW I CAN'T WORK"],
        formal: &[
            "Query performance degraded on {db}",
            "Application timeouts caused by slow database queries",
            "Long-running queries on {db_host}",
        ],
        body: &[
            "Searching for a customer in {bizapp} takes 2 minutes, it used to be instant.",
            "reports time out after 60s {when}",
            "Since the last release every search in {bizapp} is extremely slow, sometimes 'Timeout expired'.",
        ],
        symptoms: &[
            "searches in {bizapp} take minutes and time out against {db}",
            "queries on {db_host} run far longer than usual",
        ],
        checks: &[
            "Top queries show full table scans on the orders table.",
            "CPU on {db_host} at 95%.",
        ],
        alerts: &[(
            "SCOM: SQL Server long running queries on {db_host}",
            "Alert: Long running queries\nInstance: {db_host}\nDatabase: {db}\nDuration: > 300 s (7 sessions)\nRaised: {alert_ts}",
        )],
    },
    Problem {
        key: "replication_lag",
        category: "Database",
        subcategory: "Replication",
        group: DBA,
        priority: 2,
        resolution: "Always On secondary fell behind during a long-running index rebuild; rebuild moved to the maintenance window and the replica caught up.",
        terse: &[
            "reports show old data",
            "dashboard not updated",
            "data in {bizapp} out of date",
        ],
        angry: &[],
        formal: &[
            "Replication lag on secondary replica",
            "Reporting database behind production",
            "Always On secondary not synchronising on {db_host}",
        ],
        body: &[
            "The dashboard still shows yesterday's numbers although it should refresh every 15 minutes.",
            "data in the reporting tool is 3 hours behind",
        ],
        symptoms: &[
            "reporting data is several hours behind production",
            "the secondary replica of {db} is not synchronising",
        ],
        checks: &[
            "Compared timestamps: reporting DB 3 h behind.",
            "Availability group dashboard shows 'Not synchronizing'.",
        ],
        alerts: &[(
            "SCOM: Availability replica data synchronization state is not healthy on {db_host}",
            "Alert: AG replica not synchronizing\nAvailability group: AG-{db}\nReplica: {db_host}\nLog send queue: 48 GB\nRaised: {alert_ts}",
        )],
    },
    Problem {
        key: "conn_pool",
        category: "Database",
        subcategory: "Connectivity",
        group: DBA,
        priority: 2,
        resolution: "Connection pool exhausted by connections leaked in an error path; application servers recycled and max pool size raised until the vendor fix is deployed.",
        terse: &[
            "cannot connect to database",
            "{bizapp} error connecting",
            "timeout connecting to server",
        ],
        angry: &["{bizapp} DOWN - CONNECTION ERRORS"],
        formal: &[
            "Application unable to obtain database connections",
            "Connection pool exhausted on {app_host}",
            "Intermittent database connection errors in {bizapp}",
        ],
        body: &[
            "{bizapp} shows 'Timeout expired. The timeout period elapsed prior to obtaining a connection from the pool.'",
            "intermittent errors 'cannot connect to database' in {bizapp}, refresh sometimes helps",
        ],
        symptoms: &[
            "{bizapp} intermittently fails with 'timeout obtaining a connection from the pool'",
            "the application on {app_host} cannot open new database connections",
        ],
        checks: &[
            "Database accepts connections from the DBA workstation.",
            "Active connections from {app_host}: 500 (pool max).",
        ],
        alerts: &[(
            "Datadog: [P2] {service} connection pool saturation > 95%",
            "Monitor: db.pool.utilisation > 95% for 10 min\nService: {service}\nHost: {app_host}\nTriggered: {alert_ts}",
        )],
    },
    Problem {
        key: "db_backup",
        category: "Database",
        subcategory: "Backup",
        group: DBA,
        priority: 3,
        resolution: "Nightly database backup failed because the backup target share was full; expired backup sets purged per retention and the job re-run successfully.",
        terse: &[],
        angry: &[],
        formal: &[
            "Nightly backup of {db} failed",
            "Database backup job failed on {db_host}",
            "Backup error on {db_host}",
        ],
        body: &[],
        symptoms: &[
            "the nightly full backup of {db} on {db_host} failed",
            "the backup job for {db} ended with an error writing to the backup target",
        ],
        checks: &[
            "Job history shows 'write on backup device failed'.",
            "The last good backup is two days old.",
        ],
        alerts: &[
            ("SCOM: SQL Server Agent job 'DatabaseBackup - FULL' failed on {db_host}", "Alert: SQL Agent job failed\nInstance: {db_host}\nJob: DatabaseBackup - USER_DATABASES - FULL\nStep: 1\nMessage: BackupIoRequest::ReportIoError: write failure on backup device. Operating system error 112 (There is not enough space on the disk.)\nRaised: {alert_ts}"),
            ("[CRITICAL] RMAN backup of {db} failed on {db_host} (ORA-19502)", "Host: {db_host}\nJob: RMAN level 0 {db}\nState: CRITICAL\nInfo: ORA-19502: write error on file, block number 409600\nDate/Time: {alert_ts}"),
        ],
    },
    // ----- Storage -----
    Problem {
        key: "drive_unavailable",
        category: "Storage",
        subcategory: "File share",
        group: STORAGE,
        priority: 3,
        resolution: "Drive mapping GPO still referenced the retired file server name; GPO updated to the DFS namespace path and drives remapped at logon.",
        terse: &[
            "network drive not accessible",
            "{drive} drive missing",
            "cant open shared drive",
            "mapped drive disconnected",
        ],
        angry: &["SHARED DRIVE GONE AGAIN!!!", "WHERE IS MY {drive} DRIVE???"],
        formal: &[
            "Mapped network drive {drive} not accessible",
            "File share {share} unreachable",
            "User cannot access department share",
        ],
        body: &[
            "My {drive} drive shows a red X and says 'not accessible'.",
            "cant open {share}, windows says network path not found",
            "Since {time} I can't open any files on the shared drive, Explorer just hangs.",
        ],
        symptoms: &[
            "the mapped drive {drive} ({share}) shows as disconnected",
            "opening {share} fails with 'network path not found'",
        ],
        checks: &[
            "Share reachable via the DFS path.",
            "net use shows the drive as Unavailable.",
        ],
        alerts: &[],
    },
    Problem {
        key: "share_full",
        category: "Storage",
        subcategory: "Quota",
        group: STORAGE,
        priority: 3,
        resolution: "Department share quota reached; quota raised by 500 GB with the data owner's approval and old project archives moved to cold storage.",
        terse: &[
            "shared drive full",
            "cant save to {drive} drive",
            "not enough space on {share}",
            "disk full error when saving",
        ],
        angry: &["CAN'T SAVE ANYTHING - DRIVE FULL!!"],
        formal: &[
            "Department share {share} has reached its quota",
            "Quota exceeded on file share",
            "Users cannot save files to {share}",
        ],
        body: &[
            "When saving to {share} I get 'There is not enough space on {drive}'.",
            "the finance folder says its full, we need to save month-end reports today",
            "cant save files, disk full error",
        ],
        symptoms: &[
            "saving to {share} fails with 'not enough space'",
            "the department share {share} has reached its quota",
        ],
        checks: &[
            "Quota report shows 1,000 of 1,000 GB used.",
            "Largest folders are old project archives.",
        ],
        alerts: &[(
            "FSRM: Quota threshold 100% reached on {file_srv} for {share}",
            "Quota limit reached\nServer: {file_srv}\nPath: {share}\nLimit: 1000 GB\nTime: {alert_ts}",
        )],
    },
    Problem {
        key: "san_failure",
        category: "Storage",
        subcategory: "SAN",
        group: STORAGE,
        priority: 1,
        resolution: "Failed controller on the storage array replaced by the vendor; write cache re-enabled, all paths restored and multipathing verified on every host.",
        terse: &[],
        angry: &[],
        formal: &[
            "Storage array {san} degraded - controller failure",
            "SAN controller failover on {san}",
            "Storage path failures reported by ESXi hosts",
        ],
        body: &[],
        symptoms: &[
            "storage array {san} reports a failed controller and degraded performance",
            "ESXi hosts report lost paths to {datastore} on {san}",
        ],
        checks: &[
            "Vendor case opened with severity 1.",
            "All LUNs are served by the surviving controller.",
        ],
        alerts: &[
            ("[CRITICAL] {san}: Controller B failed - running in degraded mode", "Array: {san}\nComponent: Controller B\nStatus: FAILED\nImpact: all LUNs served by controller A, write cache disabled\nEvent time: {alert_ts}"),
            ("vCenter alarm: Lost storage path redundancy to {datastore}", "Alarm: Lost Storage Path Redundancy\nObject: {datastore}\nHosts affected: {esx_host} and 5 others\nTriggered: {alert_ts}"),
        ],
    },
    Problem {
        key: "file_restore",
        category: "Storage",
        subcategory: "Restore",
        group: STORAGE,
        priority: 4,
        resolution: "Deleted data restored from the previous night's snapshot to its original location; user confirmed the files are complete.",
        terse: &[
            "deleted file by accident",
            "need file restored",
            "folder disappeared from {drive} drive",
            "restore previous version pls",
        ],
        angry: &[],
        formal: &[
            "Restore request for deleted folder on {share}",
            "User requests restore of overwritten file",
            "Recover accidentally deleted data",
        ],
        body: &[
            "I accidentally deleted the folder 'Q2 forecasts' on {share} this morning. Can you restore it?",
            "overwrote an excel file, need yesterdays version",
            "A whole folder is missing from {drive}, it was still there on Friday.",
        ],
        symptoms: &[
            "the user accidentally deleted a folder on {share} and needs it restored",
            "a file on {share} was overwritten and the previous version is needed",
        ],
        checks: &[
            "Previous Versions tab is empty on the client.",
            "Confirmed the path and last known good date with the user.",
        ],
        alerts: &[],
    },
    Problem {
        key: "backup_job",
        category: "Storage",
        subcategory: "Backup",
        group: STORAGE,
        priority: 3,
        resolution: "Veeam job failed because of stale VMware snapshots on three VMs; snapshots consolidated, VMware Tools updated to fix quiescing and the job re-run successfully.",
        terse: &[],
        angry: &[],
        formal: &[
            "Backup job {backup_job} failed",
            "Veeam job failure: {backup_job}",
            "VM backups failing for production cluster",
        ],
        body: &[],
        symptoms: &[
            "the backup job {backup_job} failed for several VMs",
            "{backup_job} ended with 'Failed' for the second night",
        ],
        checks: &[
            "Job log: 'Failed to create VM snapshot'.",
            "Last successful restore point is 2 days old.",
        ],
        alerts: &[(
            "Veeam: Job '{backup_job}' finished with Failed",
            "Veeam Backup & Replication\nJob: {backup_job}\nResult: Failed\nVMs processed: 14, failed: 3\nError: Failed to create VM snapshot. msg.snapshot.error-QUIESCINGERROR\nEnd time: {alert_ts}",
        )],
    },
    // ----- Telephony -----
    Problem {
        key: "deskphone",
        category: "Telephony",
        subcategory: "Desk phone",
        group: UC,
        priority: 3,
        resolution: "Phone failed to register with the call manager after a PoE flap on its switch port; port bounced and the phone re-provisioned.",
        terse: &[
            "phone not working",
            "no dial tone",
            "desk phone says registering",
            "phone display blank",
        ],
        angry: &["PHONES DEAD ON {floor} - CUSTOMERS CANT REACH US"],
        formal: &[
            "Desk phone not registering with call manager",
            "No dial tone on extension {ext}",
            "IP phone stuck at 'Registering'",
        ],
        body: &[
            "My {phone_model} shows 'Registering' and I can't make calls.",
            "phone has no dial tone since {time}",
            "The phone on my desk restarts every few minutes, display says 'Configuring IP'.",
        ],
        symptoms: &[
            "the {phone_model} on extension {ext} is stuck at 'Registering'",
            "the desk phone has no dial tone and reboots repeatedly",
        ],
        checks: &["Phone power-cycled.", "Switch port shows PoE delivered."],
        alerts: &[],
    },
    Problem {
        key: "call_quality",
        category: "Telephony",
        subcategory: "Teams Phone",
        group: UC,
        priority: 3,
        resolution: "Poor call quality caused by Wi-Fi roaming between access points; user moved to a wired connection and QoS DSCP tagging enabled for Teams media.",
        terse: &[
            "bad call quality",
            "teams calls choppy",
            "people cant hear me on calls",
            "audio breaking up",
        ],
        angry: &["TEAMS CALLS ARE TERRIBLE, CUSTOMERS COMPLAIN"],
        formal: &[
            "Poor audio quality on Teams calls",
            "Choppy audio and dropped calls in Teams",
            "Call quality issues reported from {site}",
        ],
        body: &[
            "In every Teams call people say my voice is robotic and breaks up.",
            "audio cuts out on calls every few seconds",
            "Calls with customers drop or the sound is choppy, especially in the afternoon. Using a {headset}.",
        ],
        symptoms: &[
            "Teams calls have choppy, robotic audio and occasional drops",
            "call partners cannot understand the user; audio cuts out every few seconds",
        ],
        checks: &[
            "Call analytics show jitter above 80 ms and 6% packet loss.",
            "Headset tested on another PC: fine.",
        ],
        alerts: &[],
    },
    Problem {
        key: "hotline",
        category: "Telephony",
        subcategory: "Contact centre",
        group: UC,
        priority: 1,
        resolution: "SIP trunk registration to the carrier lost after carrier maintenance; trunk re-registered on the SBC and test calls successful.",
        terse: &[
            "customers cant call us",
            "hotline not reachable",
            "incoming calls not working",
        ],
        angry: &["CUSTOMER HOTLINE IS DOWN!!!", "NO INCOMING CALLS FOR AN HOUR"],
        formal: &[
            "Inbound calls to the {hotline} fail",
            "Contact centre not receiving calls",
            "SIP trunk outage: inbound calls rejected",
        ],
        body: &[
            "Customers tell us by email they get a busy tone when calling the {hotline}.",
            "no calls coming in to the queue since {time}",
            "Our agents are idle, the {hotline} queue has not received a single call since {time}. Outbound calls work.",
        ],
        symptoms: &[
            "inbound calls to the {hotline} get a busy tone",
            "the contact centre queue receives no calls since {time} while outbound works",
        ],
        checks: &[
            "Test call from a mobile: busy tone.",
            "Carrier status page shows no incident.",
        ],
        alerts: &[(
            "[CRITICAL] SBC sbc-01: SIP trunk to carrier DOWN (OPTIONS timeout)",
            "Device: sbc-01\nTrunk: CARRIER-PRI\nState: Out of service\nReason: no response to SIP OPTIONS (3 attempts)\nSince: {alert_ts}",
        )],
    },
    Problem {
        key: "voicemail",
        category: "Telephony",
        subcategory: "Voicemail",
        group: UC,
        priority: 4,
        resolution: "Voicemail PIN reset and the voicemail box re-linked to the user's extension and e-mail address.",
        terse: &[
            "voicemail not working",
            "cant access voicemail",
            "voicemail pin not accepted",
        ],
        angry: &[],
        formal: &[
            "Voicemail PIN rejected",
            "User cannot retrieve voicemail",
            "Voicemail not forwarded to e-mail",
        ],
        body: &[
            "when I call voicemail it says my PIN is wrong, I never changed it",
            "I don't get voicemails as email anymore, the light on the phone blinks.",
        ],
        symptoms: &[
            "the voicemail system rejects the user's PIN",
            "voicemail messages are no longer forwarded to e-mail",
        ],
        checks: &[
            "Extension {ext} is linked to the correct mailbox.",
            "Test voicemail left: not delivered by e-mail.",
        ],
        alerts: &[],
    },
    Problem {
        key: "headset",
        category: "Telephony",
        subcategory: "Headset",
        group: UC,
        priority: 4,
        resolution: "Headset firmware updated and the headset set as default communication device in Windows and Teams.",
        terse: &[
            "headset not working",
            "microphone not working in teams",
            "bluetooth headset no sound",
        ],
        angry: &[],
        formal: &[
            "Headset not recognised by Teams",
            "Microphone not working with USB headset",
        ],
        body: &[
            "My {headset} connects but nobody can hear me in Teams.",
            "no sound from headset, laptop speakers work",
        ],
        symptoms: &[
            "the {headset} is connected but the microphone is not picked up in Teams",
            "the headset plays no sound while the laptop speakers work",
        ],
        checks: &["Headset works on a colleague's laptop."],
        alerts: &[],
    },
    // ----- Security -----
    Problem {
        key: "phishing",
        category: "Security",
        subcategory: "Phishing",
        group: SECOPS,
        priority: 3,
        resolution: "Phishing confirmed; sender and URL blocked, message purged from all mailboxes via content search, no credentials entered.",
        terse: &[
            "suspicious email",
            "phishing?",
            "strange email asking for password",
            "got fake microsoft email",
        ],
        angry: &[],
        formal: &[
            "User reports suspected phishing e-mail",
            "Phishing e-mail received by several users",
            "Suspicious e-mail with credential harvesting link",
        ],
        body: &[
            "I got an email from 'IT Support' saying my mailbox will be deleted unless I log in via a link. Looks fake?",
            "email with invoice attachment from unknown sender, didnt open it",
            "Several people in {dept} received a DocuSign email that looks odd. The link goes to a strange domain.",
        ],
        symptoms: &[
            "the user received an e-mail imitating IT support with a credential harvesting link",
            "several users in {dept} received a fake DocuSign notification",
        ],
        checks: &[
            "User did not click the link.",
            "Headers show a spoofed sender from an external domain.",
        ],
        alerts: &[],
    },
    Problem {
        key: "malware",
        category: "Security",
        subcategory: "Endpoint",
        group: SECOPS,
        priority: 2,
        resolution: "Defender quarantined a potentially unwanted application; full scan clean, application uninstalled and the user reminded of the software policy.",
        terse: &[
            "virus warning",
            "defender found threat",
            "popup says pc infected",
        ],
        angry: &["VIRUS ON MY PC??? PLEASE HELP"],
        formal: &[
            "Endpoint protection alert on {pc}",
            "Malware detected on user workstation",
            "Potentially unwanted application detected",
        ],
        body: &[
            "Windows Security says 'Threats found' and something was quarantined.",
            "After installing a PDF converter my browser shows weird ads and popups.",
        ],
        symptoms: &[
            "Defender quarantined a threat on {pc}",
            "the user's browser shows unwanted pop-ups after installing a free PDF converter",
        ],
        checks: &[
            "Device isolated from the network as a precaution.",
            "User confirms the converter was downloaded from the internet.",
        ],
        alerts: &[
            ("Microsoft Defender for Endpoint: 'PUA:Win32/Presenoker' detected on {pc}", "Alert: Potentially unwanted application\nDevice: {pc}\nSeverity: Medium\nDetection source: Antivirus\nAction: Quarantined\nFirst activity: {alert_ts}"),
            ("Defender for Endpoint: Suspicious PowerShell command line on {pc}", "Alert: Suspicious PowerShell command line\nDevice: {pc}\nSeverity: High\nProcess: powershell.exe -enc SQBFAFgA...\nFirst activity: {alert_ts}"),
        ],
    },
    Problem {
        key: "cert_expired",
        category: "Security",
        subcategory: "Certificates",
        group: SECOPS,
        priority: 1,
        resolution: "Expired certificate renewed from the internal CA, bound on all nodes and added to the certificate inventory with 30-day expiry alerts.",
        terse: &[],
        angry: &[],
        formal: &[
            "Certificate on {cert_host} expired",
            "Expired TLS certificate on {cert_host}",
            "Token-signing certificate expired on {cert_host}",
        ],
        body: &[],
        symptoms: &[
            "the TLS certificate of {cert_host} expired at midnight",
            "clients reject {cert_host} because its certificate has expired",
        ],
        checks: &[
            "Certificate valid-to date confirmed as expired.",
            "Renewal request was never submitted.",
        ],
        alerts: &[
            ("[CRITICAL] Certificate {cert_host} expired", "Check: SSL certificate expiry\nHost: {cert_host}:443\nState: CRITICAL\nInfo: certificate expired 0 days ago (CN={cert_host})\nDate/Time: {alert_ts}"),
            ("Zabbix problem: SSL certificate on {cert_host} is invalid or expired", "Problem started at {alert_ts}\nProblem name: SSL certificate is invalid\nHost: {cert_host}\nSeverity: High\nOperational data: notAfter in the past"),
        ],
    },
    Problem {
        key: "compromise",
        category: "Security",
        subcategory: "Account compromise",
        group: SECOPS,
        priority: 1,
        resolution: "Account compromise confirmed; sessions revoked, password reset, MFA re-registered and malicious inbox rules removed.",
        terse: &[
            "my email sent spam",
            "people got strange mail from me",
            "someone logged into my account",
        ],
        angry: &[],
        formal: &[
            "Suspected account compromise",
            "Impossible travel sign-in detected",
            "Mailbox sending spam - possible compromise",
        ],
        body: &[
            "Customers are asking why I sent them a strange invoice link. I didn't send anything!",
            "I got an MFA prompt at 3am that I didn't start.",
        ],
        symptoms: &[
            "the user's mailbox sent phishing e-mails to external contacts",
            "sign-ins from an unknown country were recorded for the user",
        ],
        checks: &[
            "Sign-in logs show a successful login from an unknown IP.",
            "An inbox rule forwarding mail externally was found.",
        ],
        alerts: &[(
            "Entra ID Protection: Impossible travel activity for user",
            "Risk detection: Impossible travel\nLocations: {site} -> Lagos, NG (47 min apart)\nRisk level: High\nDetected: {alert_ts}",
        )],
    },
    Problem {
        key: "usb_blocked",
        category: "Security",
        subcategory: "Device control",
        group: SECOPS,
        priority: 4,
        resolution: "USB storage blocked by device control by design; time-limited exception approved by the manager and applied to the device.",
        terse: &[
            "usb stick not working",
            "cant access usb drive",
            "usb blocked",
        ],
        angry: &[],
        formal: &["USB storage device blocked by policy", "Request to unblock USB drive on {pc}"],
        body: &[
            "I need to copy presentation files for a customer from a usb stick but windows says access denied",
            "usb drive not recognised, it's from a supplier",
        ],
        symptoms: &["USB mass storage is blocked on {pc} by device control policy"],
        checks: &["Defender device control event shows a policy block."],
        alerts: &[],
    },
    // ----- Cloud Infrastructure -----
    Problem {
        key: "host_down",
        category: "Cloud Infrastructure",
        subcategory: "Virtualisation",
        group: CLOUD,
        priority: 1,
        resolution: "Hypervisor host crashed with a PSOD caused by a faulty memory module; VMs restarted by HA on other hosts, DIMM replaced and host returned to the cluster.",
        terse: &[],
        angry: &[],
        formal: &[
            "Hypervisor host {esx_host} not responding",
            "Multiple VMs down after host failure",
            "ESXi host {esx_host} disconnected from vCenter",
        ],
        body: &[],
        symptoms: &[
            "the ESXi host {esx_host} is not responding and its VMs are down",
            "VMs on {esx_host} including {app_host} are unreachable",
        ],
        checks: &[
            "iLO console shows a purple screen (PSOD).",
            "HA restarted 12 of 18 VMs so far.",
        ],
        alerts: &[
            ("vCenter alarm: Host connection and power state - {esx_host} not responding", "Alarm: Host connection and power state\nHost: {esx_host}\nStatus: Not responding\nCluster: CL-PROD-01\nTriggered: {alert_ts}"),
            ("[CRITICAL] Nagios: {app_host} is DOWN", "***** Nagios *****\nNotification Type: PROBLEM\nHost: {app_host}\nState: DOWN\nInfo: CRITICAL - Host Unreachable ({ip})\nDate/Time: {alert_ts}"),
        ],
    },
    Problem {
        key: "web_502",
        category: "Cloud Infrastructure",
        subcategory: "Web",
        group: CLOUD,
        priority: 2,
        resolution: "Load balancer health probe pointed to a path removed in the last deployment; probe updated and instances returned to the backend pool.",
        terse: &[
            "{webapp} not loading",
            "502 bad gateway",
            "website down",
            "portal error 502",
        ],
        angry: &["{webapp} IS DOWN - CUSTOMERS CANT ORDER!!!"],
        formal: &[
            "{webapp} returns HTTP 502 Bad Gateway",
            "Customer portal unavailable",
            "Intermittent 5xx errors on {webapp}",
        ],
        body: &[
            "When I open {webapp} I get '502 Bad Gateway'.",
            "customers call because the portal shows an error page",
            "Portal loads sometimes, other times 502. Started {when}.",
        ],
        symptoms: &[
            "{webapp} returns 502 Bad Gateway for most requests",
            "customers receive intermittent 5xx errors on {webapp}",
        ],
        checks: &[
            "Reproduced from an external network.",
            "Load balancer shows the backend pool unhealthy.",
        ],
        alerts: &[
            ("[P1] Datadog: 5xx error rate > 5% on {webapp}", "Monitor: http.5xx_rate > 5% over 5m\nService: {service}\nCurrent value: 38.2%\nTriggered: {alert_ts}"),
            ("Azure Monitor alert 'Backend health < 50%' fired for appgw-prod", "Alert rule: Backend health < 50%\nResource: appgw-prod\nBackend pool: {service}\nHealthy hosts: 1 of 4\nFired: {alert_ts}"),
        ],
    },
    Problem {
        key: "pods_oom",
        category: "Cloud Infrastructure",
        subcategory: "Kubernetes",
        group: CLOUD,
        priority: 2,
        resolution: "Pods were OOMKilled after the memory limit was reduced in the last release; limit restored to 2 GiB and the autoscaler thresholds adjusted.",
        terse: &[],
        angry: &[],
        formal: &[
            "Pods of {service} in CrashLoopBackOff",
            "{service} restarting repeatedly (OOMKilled)",
        ],
        body: &[],
        symptoms: &[
            "pods of {service} on {k8s_cluster} are OOMKilled and restart in a loop",
            "{service} has fewer than half of its replicas ready since the release",
        ],
        checks: &[
            "kubectl describe shows Last State: OOMKilled.",
            "The memory limit was lowered in the last release.",
        ],
        alerts: &[(
            "Alertmanager: [FIRING:3] KubePodCrashLooping {service}",
            "[FIRING:3] KubePodCrashLooping\ncluster: {k8s_cluster}\nnamespace: {service}\nsummary: Pod {service}-7d9f6c is restarting 6.2 times / 10 minutes.\nstartsAt: {alert_ts}",
        )],
    },
    Problem {
        key: "app_disk_full",
        category: "Cloud Infrastructure",
        subcategory: "Server",
        group: CLOUD,
        priority: 2,
        resolution: "Application log rotation was not running; old logs compressed and archived, rotation config fixed and the free-space alert raised to 15%.",
        terse: &[],
        angry: &[],
        formal: &[
            "Disk space critical on {app_host}",
            "System drive full on server {app_host}",
        ],
        body: &[],
        symptoms: &[
            "the system volume of {app_host} is full and services are failing",
            "{app_host} has less than 1 GB free on C:",
        ],
        checks: &["Largest folder: application logs (180 GB).", "Services on {app_host} stopped writing logs."],
        alerts: &[
            ("[CRITICAL] Nagios: {app_host} DISK CRITICAL - free space: C:\\ 0.9 GB (1%)", "***** Nagios *****\nNotification Type: PROBLEM\nService: Disk C:\nHost: {app_host}\nState: CRITICAL\nInfo: DISK CRITICAL - free space: C:\\ 0.9 GB (1%)\nDate/Time: {alert_ts}"),
            ("Azure Monitor alert 'Disk free < 5%' fired for {app_host}", "Alert rule: Disk free < 5%\nResource: {app_host}\nMetric: LogicalDisk % Free Space = 1.2\nFired: {alert_ts}"),
        ],
    },
    Problem {
        key: "bucket_access",
        category: "Cloud Infrastructure",
        subcategory: "Cloud storage",
        group: CLOUD,
        priority: 3,
        resolution: "Bucket policy change removed the service role's read permission; policy restored via Terraform and a drift check added to the pipeline.",
        terse: &[
            "report export fails access denied",
            "cant download reports from portal",
        ],
        angry: &[],
        formal: &[
            "Access denied reading bucket {bucket}",
            "Nightly export job failing with AccessDenied",
        ],
        body: &[
            "The nightly export to {bucket} failed, the log says AccessDenied (403).",
            "reports portal shows 'Could not load file' since this morning",
        ],
        symptoms: &["jobs reading or writing {bucket} fail with AccessDenied (403)"],
        checks: &["The role policy has no read permission on the bucket."],
        alerts: &[(
            "CloudWatch alarm: ExportJob-Errors >= 1 for {service}",
            "Alarm: ExportJob-Errors\nState: ALARM\nReason: Threshold Crossed: 1 datapoint [3.0] >= 1.0\nResource: {bucket}\nTimestamp: {alert_ts}",
        )],
    },
    // ----- ERP -----
    Problem {
        key: "sap_login",
        category: "ERP",
        subcategory: "Logon",
        group: ERP,
        priority: 3,
        resolution: "SAP user locked after too many failed logons; unlocked in SU01 and an initial password set, user changed it at first logon.",
        terse: &[
            "cant log in to sap",
            "sap user locked",
            "sap password not working",
            "sap logon error",
        ],
        angry: &["SAP LOCKED AGAIN - NEED IT FOR INVOICES!"],
        formal: &[
            "SAP logon fails - user locked",
            "User cannot log on to SAP {sap_sys}",
            "SAP GUI password reset request",
        ],
        body: &[
            "SAP says 'User is locked. Please notify the person responsible'.",
            "my sap password doesnt work after holidays",
            "Can't log on to {sap_sys}, too many failed attempts.",
        ],
        symptoms: &[
            "the user's SAP account in {sap_sys} is locked after failed logon attempts",
            "SAP GUI logon to {sap_sys} fails with 'user locked'",
        ],
        checks: &["SU01 shows a lock due to incorrect logons."],
        alerts: &[],
    },
    Problem {
        key: "short_dumps",
        category: "ERP",
        subcategory: "Transactions",
        group: ERP,
        priority: 2,
        resolution: "Short dumps caused by a faulty custom enhancement in the last transport; transport reverted and corrected version imported.",
        terse: &[
            "sap error when posting",
            "sap short dump",
            "cant save order in sap",
            "{sap_tx} error",
        ],
        angry: &["SAP BROKEN - CANNOT POST ANYTHING!!!"],
        formal: &[
            "Short dumps in {sap_tx} when saving",
            "ABAP runtime error DBIF_RSQL_SQL_ERROR in {sap_sys}",
            "Posting failures in SAP",
        ],
        body: &[
            "When I save in {sap_tx} I get a runtime error DBIF_RSQL_SQL_ERROR and the document is not posted.",
            "sap shows 'update was terminated' when I save",
            "Since {time} we can't create orders in {sap_tx}, always an ABAP dump.",
        ],
        symptoms: &[
            "saving in {sap_tx} ends with runtime error DBIF_RSQL_SQL_ERROR",
            "postings in {sap_sys} fail with 'update was terminated'",
        ],
        checks: &[
            "ST22 shows many dumps across users.",
            "Issue reproduced with a test user.",
        ],
        alerts: &[],
    },
    Problem {
        key: "erp_slow",
        category: "ERP",
        subcategory: "Performance",
        group: ERP,
        priority: 2,
        resolution: "Dialog work processes blocked by a runaway background job; job cancelled, rescheduled outside business hours and a runtime limit added.",
        terse: &[
            "sap very slow",
            "sap hangs",
            "erp slow",
            "{sap_tx} takes forever",
        ],
        angry: &["SAP IS UNUSABLE TODAY!!!"],
        formal: &[
            "SAP response times degraded",
            "Performance issue in SAP {sap_sys}",
            "Slow dialog response in ERP",
        ],
        body: &[
            "Every screen in SAP takes 20-30 seconds.",
            "sap hourglass all the time since {time}",
            "Month-end closing is impossible, {sap_tx} runs into timeouts.",
        ],
        symptoms: &[
            "SAP {sap_sys} dialog response times are above 20 seconds",
            "transactions such as {sap_tx} time out",
        ],
        checks: &["SM50 shows all dialog work processes busy."],
        alerts: &[(
            "SAP Solution Manager: Dialog response time > 3000 ms on {sap_sys}",
            "System: {sap_sys}\nMetric: Average dialog response time\nValue: 8412 ms (threshold 3000 ms)\nRating: RED\nTime: {alert_ts}",
        )],
    },
    Problem {
        key: "workflow_stuck",
        category: "ERP",
        subcategory: "Workflow",
        group: ERP,
        priority: 3,
        resolution: "Workflow items stuck because an approver left without a substitute; substitute maintained and the work items restarted in SWPR.",
        terse: &[
            "invoice not in my inbox",
            "approval stuck sap",
            "PO approval not arriving",
        ],
        angry: &["INVOICES STUCK IN APPROVAL - SUPPLIER THREATENING TO STOP DELIVERIES"],
        formal: &[
            "Approval workflow stuck in SAP",
            "Purchase order approvals not reaching approvers",
            "Workflow items in error status",
        ],
        body: &[
            "Invoices waiting for approval don't appear in the approver's inbox.",
            "my PO has been 'in approval' for a week",
            "The invoice approval workflow seems stuck, nothing arrived in my SAP inbox {when}.",
        ],
        symptoms: &[
            "invoice approval work items are not delivered to approvers",
            "purchase orders stay in status 'in approval'",
        ],
        checks: &["SWI1 shows work items in status ERROR."],
        alerts: &[],
    },
    Problem {
        key: "sap_print",
        category: "ERP",
        subcategory: "Output",
        group: ERP,
        priority: 3,
        resolution: "SAP output device still pointed to the old print server; device definition updated in SPAD and the spool requests reprinted.",
        terse: &[
            "cant print from sap",
            "sap print not coming out",
            "delivery notes not printing",
        ],
        angry: &["WAREHOUSE CAN'T PRINT DELIVERY NOTES!!!"],
        formal: &[
            "SAP output not printed",
            "Spool requests in error status",
            "Delivery notes not printing in warehouse",
        ],
        body: &[
            "Printing from {sap_tx} does nothing, the spool shows 'waiting'.",
            "delivery notes are not printing in the warehouse since {time}",
        ],
        symptoms: &[
            "SAP spool requests for {printer} stay in status 'waiting'",
            "delivery notes from {sap_tx} are not printed",
        ],
        checks: &["SP01 shows requests in status 'waiting'."],
        alerts: &[],
    },
    // ----- Collaboration -----
    Problem {
        key: "teams_loading",
        category: "Collaboration",
        subcategory: "Teams",
        group: COLLAB,
        priority: 3,
        resolution: "Corrupt Teams cache; cache folders cleared, new Teams client re-registered and the user signed in again.",
        terse: &[
            "teams not loading",
            "teams stuck on loading screen",
            "teams white screen",
            "teams keeps restarting",
        ],
        angry: &["TEAMS NOT WORKING AND I HAVE MEETINGS ALL DAY"],
        formal: &[
            "Microsoft Teams desktop client fails to start",
            "Teams stuck at loading screen",
        ],
        body: &[
            "Teams shows the purple loading screen forever.",
            "teams white screen after login, web version works",
            "New Teams crashes right after start {when}.",
        ],
        symptoms: &[
            "the Teams desktop client stays on the loading screen",
            "Teams crashes immediately after start while the web version works",
        ],
        checks: &["Teams on the web works.", "Signed out and in again."],
        alerts: &[],
    },
    Problem {
        key: "sharepoint_access",
        category: "Collaboration",
        subcategory: "SharePoint",
        group: COLLAB,
        priority: 4,
        resolution: "User was missing from the site's members group; access granted by the site owner and confirmed.",
        terse: &[
            "sharepoint access denied",
            "cant open teams files",
            "need access sharepoint site",
        ],
        angry: &[],
        formal: &[
            "Access denied on SharePoint site {sharepoint_site}",
            "User cannot open files in team site",
        ],
        body: &[
            "When I open the {sharepoint_site} site I get 'You need permission to access this item'.",
            "links to files in our team channel say access denied",
        ],
        symptoms: &["the user gets 'You need permission to access this item' on {sharepoint_site}"],
        checks: &["User is a member of the team but not of the site's members group."],
        alerts: &[],
    },
    Problem {
        key: "onedrive_sync",
        category: "Collaboration",
        subcategory: "OneDrive",
        group: COLLAB,
        priority: 4,
        resolution: "OneDrive sync blocked by file paths longer than 400 characters; folders renamed with the user and sync reset.",
        terse: &[
            "onedrive not syncing",
            "onedrive red x",
            "files not syncing",
            "onedrive sync error",
        ],
        angry: &[],
        formal: &[
            "OneDrive sync errors on user device",
            "OneDrive stuck 'Processing changes'",
        ],
        body: &[
            "OneDrive shows 'Processing changes' for 2 days and my files on the other laptop are old.",
            "red X on lots of files in onedrive",
        ],
        symptoms: &[
            "OneDrive has been stuck on 'Processing changes' for two days",
            "many files show sync errors in OneDrive",
        ],
        checks: &["OneDrive reset without effect.", "Sync log shows 'path too long'."],
        alerts: &[],
    },
    Problem {
        key: "room_device",
        category: "Collaboration",
        subcategory: "Meeting rooms",
        group: COLLAB,
        priority: 3,
        resolution: "Teams Room console lost its sign-in after the resource account's password change; account signed in again and password set to non-expiring per the rooms policy.",
        terse: &[
            "meeting room screen not working",
            "teams room not joining",
            "{room} video conference broken",
        ],
        angry: &["MEETING ROOM TECH BROKEN AGAIN - CLIENT MEETING IN 10 MIN"],
        formal: &[
            "Teams Room device in {room} not signed in",
            "Video conferencing system in {room} unavailable",
        ],
        body: &[
            "The touch panel in {room} says 'Sign in failed' and we can't start the meeting.",
            "no picture on screen in {room} when we join from the room",
        ],
        symptoms: &[
            "the Teams Room console in {room} shows 'Sign in failed'",
            "the video conferencing system in {room} cannot join meetings",
        ],
        checks: &["Console rebooted.", "Resource account password changed last week."],
        alerts: &[],
    },
    Problem {
        key: "meeting_addin",
        category: "Collaboration",
        subcategory: "Teams",
        group: COLLAB,
        priority: 4,
        resolution: "Teams Meeting add-in was disabled by Outlook's slow add-in detection; re-enabled and added to the always-enabled add-in list by policy.",
        terse: &[
            "teams meeting button missing in outlook",
            "cant create teams meeting from outlook",
        ],
        angry: &[],
        formal: &["Teams Meeting add-in missing in Outlook"],
        body: &[
            "The 'New Teams Meeting' button is gone from my Outlook calendar.",
            "teams add-in disabled in outlook every morning",
        ],
        symptoms: &["the Teams Meeting add-in is missing from Outlook"],
        checks: &["Add-in listed under disabled COM add-ins."],
        alerts: &[],
    },
];

// ---------------------------------------------------------------------------------------------
// Catalogue: cause -> effect scenarios
// ---------------------------------------------------------------------------------------------

const fn node(problem: &'static str, parent: usize, resolution: &'static str) -> Node {
    Node {
        problem,
        parent,
        resolution,
    }
}

static SCENARIOS: &[Scenario] = &[
    Scenario {
        nodes: &[
            node("core_switch", 0, ""),
            node("vpn_drops", 0, "No fault on the VPN side: the drops were caused by the core switch outage (parent incident). Tunnels stable since the switch repair; closed together with the parent."),
            node("drive_unavailable", 0, "File server unreachable during the core switch outage (parent incident); shares available again after the network repair, drives reconnect at next logon."),
            node("deskphone", 0, "Phones lost registration during the core switch outage (parent incident); most re-registered automatically after the repair, the rest were power-cycled on site."),
            node("replication_lag", 0, "Replica fell behind while the link between the data centres was down (core switch outage, parent incident); caught up automatically after the repair."),
        ],
        aliases: &[],
    },
    Scenario {
        nodes: &[
            node("cert_expired", 0, ""),
            node("sso_fails", 0, "Single sign-on failed because the federation service's certificate had expired (parent incident); logins work again since the certificate was renewed."),
            node("cert_warning", 0, "Browser warning caused by the expired server certificate (parent incident); gone after the renewal, no action needed on the client."),
            node("teams_loading", 1, "Teams could not sign in during the single sign-on outage (parent incident); the client loads normally again since the certificate renewal."),
        ],
        aliases: &[],
    },
    Scenario {
        nodes: &[
            node("db_disk_full", 0, ""),
            node("short_dumps", 0, "Short dumps DBIF_RSQL_SQL_ERROR were caused by the full database log volume (parent incident); stopped once the volume was extended, failed updates reprocessed in SM13."),
            node("workflow_stuck", 1, "Work items went to error because their updates aborted during the database outage (parent incident); restarted in SWPR after the updates were reprocessed."),
            node("erp_slow", 0, "SAP hung while the database could not write its log (parent incident); response times normal again after the volume extension."),
        ],
        aliases: &[],
    },
    Scenario {
        nodes: &[
            node("dns", 0, ""),
            node("external_bounce", 0, "Outbound mail failed because the MX and SPF records were missing after the DNS change (parent incident); delivery resumed after the rollback and deferred messages were re-sent."),
            node("scan_email", 0, "Scan-to-email failed because the SMTP relay name no longer resolved after the DNS change (parent incident); working since the rollback."),
            node("vpn_connect", 0, "VPN portal name did not resolve after the DNS change (parent incident); the client connects again since the rollback, nothing changed on the laptop."),
        ],
        aliases: &[],
    },
    Scenario {
        nodes: &[
            node("san_failure", 0, ""),
            node("slow_queries", 0, "Query times were high because of the degraded storage array (parent incident); back to normal after the controller replacement, no database change."),
            node("erp_slow", 1, "SAP was slow because of the database IO latency caused by the storage failure (parent incident); response times normal since the controller was replaced."),
            node("backup_job", 0, "Backups failed because snapshots timed out on the degraded storage array (parent incident); re-run successfully after the repair."),
        ],
        aliases: &[],
    },
    Scenario {
        nodes: &[
            node("dhcp", 0, ""),
            node("wifi", 0, "Wireless clients could not get an IP address because the DHCP scope was exhausted (parent incident); connectivity restored after the scope extension."),
            node("deskphone", 0, "Phones could not get an IP address because the DHCP scope was exhausted (parent incident); registered after the scope extension and a restart."),
        ],
        aliases: &[],
    },
    Scenario {
        nodes: &[
            node("host_down", 0, ""),
            node("web_502", 0, "502 errors while the backend VMs were down after the hypervisor host crash (parent incident); resolved when HA restarted them."),
            node("spooler", 0, "The print server VM went down with the crashed hypervisor host (parent incident); jobs printed after the VM restart, stuck jobs purged."),
            node("sap_print", 2, "SAP output stuck in the spool while the print server was down (parent incident); spool requests reprinted after the print server came back."),
        ],
        aliases: &[("app_host", "print_srv")],
    },
    Scenario {
        nodes: &[
            node("compromise", 0, ""),
            node("external_bounce", 0, "Outbound mail rejected because our sending IP was blocklisted after the compromised mailbox sent spam (parent incident); delisting completed and delivery normal."),
            node("phishing", 0, "The phishing mails came from a colleague's compromised mailbox (parent incident); messages purged and the sending account secured."),
        ],
        aliases: &[],
    },
    Scenario {
        nodes: &[
            node("wan_slow", 0, ""),
            node("call_quality", 0, "Poor audio caused by the saturated WAN link at the branch (parent incident); call quality normal since the QoS correction."),
            node("citrix", 0, "Citrix sessions froze because the branch WAN link was saturated (parent incident); stable since the QoS fix."),
        ],
        aliases: &[],
    },
    Scenario {
        nodes: &[
            node("pods_oom", 0, ""),
            node("web_502", 0, "502 Bad Gateway caused by crash-looping backend pods (parent incident); resolved after the memory limit was restored."),
            node("conn_pool", 0, "Connection pool exhausted because restarting pods did not release their database connections (parent incident); normal since the pods are stable."),
        ],
        aliases: &[],
    },
    Scenario {
        nodes: &[
            node("app_disk_full", 0, ""),
            node("spooler", 0, "Print Spooler stopped because the print server's system drive ran full (parent incident); space freed and spooler restarted."),
            node("sap_print", 1, "SAP spool requests failed because the print server was not accepting jobs (parent incident); reprinted after the spooler restart."),
        ],
        aliases: &[("app_host", "print_srv")],
    },
    Scenario {
        nodes: &[
            node("app_disk_full", 0, ""),
            node("incoming_delayed", 0, "Inbound mail delayed because the mail gateway's disk ran full (parent incident); queue drained after space was freed."),
            node("external_bounce", 0, "Outbound mail queued and bounced while the mail gateway's disk was full (parent incident); queue flushed after space was freed."),
        ],
        aliases: &[("app_host", "mail_srv")],
    },
];

// ---------------------------------------------------------------------------------------------
// Catalogue: related groups (same service or change, different problems)
// ---------------------------------------------------------------------------------------------

static RELATED: &[RelatedGroup] = &[
    RelatedGroup {
        problems: &["outlook_crash", "meeting_addin", "office_crash"],
        notes: &[
            "Started right after the Office update last night ({chg}).",
            "Possibly linked to the Microsoft 365 Apps update rolled out under {chg}.",
        ],
        follow_ups: &[],
        same_person: false,
    },
    RelatedGroup {
        problems: &["dock", "bitlocker", "add_printer", "slow_pc"],
        notes: &[
            "My laptop was upgraded to Windows 11 yesterday ({chg}).",
            "Device was part of the Windows 11 rollout wave ({chg}).",
        ],
        follow_ups: &[],
        same_person: false,
    },
    RelatedGroup {
        problems: &["spooler", "add_printer", "sap_print", "scan_email"],
        notes: &[
            "Printing was moved to the new print server this weekend ({chg}).",
            "Related to the print server migration {chg}.",
        ],
        follow_ups: &[],
        same_person: false,
    },
    RelatedGroup {
        problems: &["vpn_connect", "mfa", "password_expired"],
        notes: &[
            "We were enrolled in the new MFA this week ({chg}).",
            "User is in the MFA rollout group ({chg}).",
        ],
        follow_ups: &[],
        same_person: false,
    },
    RelatedGroup {
        problems: &["mailbox_full", "shared_mailbox", "outlook_crash"],
        notes: &[
            "My mailbox was migrated to Exchange Online at the weekend ({chg}).",
            "Mailbox moved in migration batch {chg}.",
        ],
        follow_ups: &[],
        same_person: false,
    },
    RelatedGroup {
        problems: &["printer_offline", "printer_hw"],
        notes: &[],
        follow_ups: &[
            "Same printer ({printer}) as the ticket earlier this week.",
            "This printer already had problems a few days ago.",
        ],
        same_person: false,
    },
    RelatedGroup {
        problems: &["teams_loading", "call_quality", "room_device"],
        notes: &[
            "Teams has been acting up in {site} since the client update ({chg}).",
            "New Teams client was rolled out this week ({chg}).",
        ],
        follow_ups: &[],
        same_person: false,
    },
    RelatedGroup {
        problems: &["sharepoint_access", "onedrive_sync", "drive_unavailable"],
        notes: &[
            "Our department files were moved from {share} to SharePoint last week ({chg}).",
            "Part of the file share migration to SharePoint ({chg}).",
        ],
        follow_ups: &[],
        same_person: false,
    },
    RelatedGroup {
        problems: &["erp_slow", "workflow_stuck", "short_dumps"],
        notes: &[
            "It's month-end closing and everything in SAP is urgent.",
            "Month-end close in progress, finance is blocked.",
        ],
        follow_ups: &[],
        same_person: false,
    },
    RelatedGroup {
        problems: &["password_expired", "account_locked"],
        notes: &[
            "Since the new password policy (16 characters, {chg}).",
            "Related to the password policy change {chg}.",
        ],
        follow_ups: &[],
        same_person: false,
    },
    RelatedGroup {
        problems: &["deskphone", "voicemail", "headset"],
        notes: &[
            "We moved to the new phone system last week ({chg}).",
            "Part of the telephony migration ({chg}).",
        ],
        follow_ups: &[],
        same_person: false,
    },
    RelatedGroup {
        problems: &["backup_job", "db_backup"],
        notes: &[
            "Same backup infrastructure; the backup proxy was patched yesterday ({chg}).",
            "Backup repository maintenance ran last night ({chg}).",
        ],
        follow_ups: &[],
        same_person: false,
    },
    RelatedGroup {
        problems: &["wifi", "call_quality"],
        notes: &[
            "New access points were installed on {floor} last week ({chg}).",
            "Since the wireless upgrade on {floor} ({chg}).",
        ],
        follow_ups: &[],
        same_person: false,
    },
    RelatedGroup {
        problems: &["slow_queries", "conn_pool", "web_502"],
        notes: &[
            "{bizapp} release {release} went live yesterday ({chg}).",
            "Started after the release {release} deployment ({chg}).",
        ],
        follow_ups: &[],
        same_person: false,
    },
    RelatedGroup {
        problems: &["phishing", "compromise", "malware"],
        notes: &["Looks like the phishing wave going around in {dept}."],
        follow_ups: &[
            "Same campaign as the DocuSign phishing reported earlier.",
            "Probably the same phishing wave as this morning.",
        ],
        same_person: false,
    },
    RelatedGroup {
        problems: &["battery", "laptop_no_boot", "dock"],
        notes: &[],
        follow_ups: &[
            "Same laptop ({pc}) as my previous ticket.",
            "This device already had a hardware ticket this week.",
        ],
        same_person: true,
    },
    RelatedGroup {
        problems: &["sap_login", "short_dumps", "sap_print"],
        notes: &[
            "After the SAP support package upgrade this weekend ({chg}).",
            "Started after the SAP upgrade {chg}.",
        ],
        follow_ups: &[],
        same_person: false,
    },
    RelatedGroup {
        problems: &["vpn_connect", "vpn_drops", "citrix"],
        notes: &[
            "GlobalProtect was updated to 6.2 on my laptop yesterday ({chg}).",
            "Since the VPN client update ({chg}).",
        ],
        follow_ups: &[],
        same_person: false,
    },
    RelatedGroup {
        problems: &["bucket_access", "vpn_tunnel", "web_502"],
        notes: &[
            "Firewall rule change {chg} was implemented last night.",
            "Possibly related to the firewall change {chg}.",
        ],
        follow_ups: &[],
        same_person: false,
    },
    RelatedGroup {
        problems: &["cert_warning", "sso_fails"],
        notes: &[
            "Certificates were renewed at the weekend ({chg}).",
            "Related to the certificate renewal {chg}.",
        ],
        follow_ups: &[],
        same_person: false,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Every slot any template may use, with a value.
    fn full_ctx() -> Ctx {
        let mut rng = Rng::new(1);
        let mut c = episode_ctx(&mut rng);
        c.extend(person_ctx(&mut rng));
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

    fn all_templates() -> Vec<&'static str> {
        let mut t: Vec<&'static str> = Vec::new();
        for p in PROBLEMS {
            for list in [p.terse, p.angry, p.formal, p.body, p.symptoms, p.checks] {
                t.extend_from_slice(list);
            }
            for (title, body) in p.alerts {
                t.push(title);
                t.push(body);
            }
        }
        for list in [
            GREETINGS,
            SIGNOFFS,
            EXTRAS,
            ANGRY_EXTRAS,
            DESK_WRAPPERS,
            OPS_WRAPPERS,
            IMPACTS,
            WHEN,
        ] {
            t.extend_from_slice(list);
        }
        for g in RELATED {
            t.extend_from_slice(g.notes);
            t.extend_from_slice(g.follow_ups);
        }
        t
    }

    #[test]
    fn every_template_fills() {
        let ctx = full_ctx();
        for tpl in all_templates() {
            let out = fill(tpl, &ctx);
            assert!(!out.contains(['{', '}']), "`{tpl}` left a brace: {out}");
            assert!(!out.trim().is_empty(), "`{tpl}` is empty");
            // {when} carries its own preposition ("since this morning").
            assert!(!tpl.contains("since {when}"), "`{tpl}`");
        }
    }

    #[test]
    fn catalogue_is_consistent() {
        let mut keys = BTreeSet::new();
        let mut categories: BTreeMap<&str, usize> = BTreeMap::new();
        // Same category + same resolution must mean same problem (incl. scenario effects).
        let mut resolutions: BTreeMap<(&str, &str), &str> = BTreeMap::new();
        let mut claim = |cat: &'static str, res: &'static str, who: &'static str| {
            assert!(!res.is_empty(), "{who}: empty resolution");
            if let Some(other) = resolutions.insert((cat, res), who) {
                panic!("{who} and {other} share a resolution in {cat}");
            }
        };
        for p in PROBLEMS {
            assert!(keys.insert(p.key), "duplicate key {}", p.key);
            *categories.entry(p.category).or_default() += 1;
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
            claim(p.category, p.resolution, p.key);
        }
        assert!(categories.len() >= 12, "{categories:?}");
        assert!(categories.values().all(|&n| n >= 4), "{categories:?}");
        for sc in SCENARIOS {
            assert_eq!(sc.nodes[0].parent, 0);
            assert!(sc.nodes.len() >= 2);
            for (k, n) in sc.nodes.iter().enumerate().skip(1) {
                assert!(n.parent < k, "{}: parent must come first", n.problem);
                let p = &PROBLEMS[problem_index(n.problem)];
                claim(p.category, n.resolution, n.problem);
            }
            problem_index(sc.nodes[0].problem);
            for (to, from) in sc.aliases {
                assert!(
                    EPISODE_POOLS.iter().any(|(k, _)| k == to)
                        && EPISODE_POOLS.iter().any(|(k, _)| k == from)
                );
            }
        }
        for g in RELATED {
            assert!(g.problems.len() >= 2);
            let probs: BTreeSet<usize> = g.problems.iter().map(|k| problem_index(k)).collect();
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
        let mut rng = Rng::new(3);
        let mut changed = 0;
        for _ in 0..500 {
            let t = add_typos(&mut rng, text, false);
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
        for (seed, count) in [(1, 1), (2, 37), (3, 120), (42, 400)] {
            let set = generate(seed, count);
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
