//! Step 2: data. Drop files (or pick them, or load the sample data): training pairs, relationship
//! pairs or an incident export in any format the loaders read; the kind is detected from the
//! content. Each file shows its counts, class balance, bad records (file, record, reason) and a
//! preview. Incidents can be turned into pairs here. Files are kept in IndexedDB, so a reload
//! restores them.

use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::dropzone::{DropZone, Dropped};
use super::glue::{self, Store};
use super::state::{Ctx, DataFile};
use crate::data::detect::Dataset;
use crate::data::relationships::Relation;
use crate::protocol::{ReadFile, Request, Response};

/// The sample files under [`super::SAMPLE_DATA_URL`].
pub const SAMPLE_FILES: [&str; 5] = [
    "training_pairs.json",
    "eval_pairs.json",
    "relationship_pairs.json",
    "relationship_eval_pairs.json",
    "incidents.csv",
];

/// Read a file into the app (replacing one of the same name); `persist` stores its bytes. The
/// file is read in the reader worker ([`Ctx::reader`]), which answers with what it read only: the
/// bytes stay here (back through postMessage they would be copied twice more).
pub async fn add_file(ctx: Ctx, name: String, bytes: Vec<u8>, persist: bool) -> Result<(), String> {
    let (asked, sent) = (name.clone(), bytes.clone());
    let file = match ask_reader(ctx, &name, |id| Request::ReadFile {
        id,
        name: asked,
        bytes: sent,
    })
    .await?
    {
        Response::FileRead { dataset, .. } => ReadFile {
            name,
            bytes,
            dataset,
        },
        _ => return Err(format!("{name}: the reader answered another request")),
    };
    add_read(ctx, file, persist).await
}

/// Ask the reader worker ([`Ctx::reader`]) a data request; where none can start, answer it on
/// this thread ([`Request::answer_data`], the code the worker runs). Errors name the file; when
/// the worker stopped, they say what most likely happened.
async fn ask_reader(
    ctx: Ctx,
    name: &str,
    make: impl FnOnce(u64) -> Request,
) -> Result<Response, String> {
    let answer = match ctx.reader() {
        Some(reader) => reader.call(make).await,
        None => match make(0).answer_data() {
            Some(Response::Error { message, .. }) => Err(message),
            Some(answer) => Ok(answer),
            None => Err(format!("{name}: not a request the reader answers")),
        },
    };
    answer.map_err(|e| {
        if e == super::worker_client::WENT_AWAY {
            format!(
                "{name}: could not be read: the worker reading it stopped. A very large file can \
                 take more memory than a browser tab has: split it, or use the ticketsim command \
                 line."
            )
        } else {
            e
        }
    })
}

/// Add a file the reader worker read. Its dataset is decoded here (one JSON buffer: tens of
/// milliseconds for 10,000 incidents, against 350 ms to parse the export on this thread).
async fn add_read(ctx: Ctx, file: ReadFile, persist: bool) -> Result<(), String> {
    let sha256 = crate::web::sha256_hex(&file.bytes).await;
    let dataset = file.decode().map_err(|e| e.to_string())?;
    let ReadFile { name, bytes, .. } = file;
    let bytes = Arc::new(bytes);
    let file = DataFile {
        name: name.clone(),
        source: matches!(dataset, Dataset::Incidents(_)).then(|| bytes.clone()),
        dataset: Arc::new(dataset),
        sha256,
        bytes: bytes.len(),
    };
    let replaced = ctx
        .files
        .with_untracked(|fs| fs.iter().any(|f| f.name == name && f.sha256 != file.sha256));
    if replaced {
        forget_embeddings(ctx);
    }
    ctx.files.update(|fs| {
        fs.retain(|f| f.name != name);
        fs.push(file);
    });
    if persist {
        spawn_local(async move {
            let v = js_sys::Uint8Array::from(bytes.as_slice());
            if let Err(e) = glue::idb_put(Store::Files, &name, &v).await {
                ctx.worker_error.set(Some(format!(
                    "{name} is loaded but could not be saved: {e}"
                )));
            }
        });
    }
    Ok(())
}

/// Load the files saved in IndexedDB by earlier visits.
pub async fn restore(ctx: Ctx) {
    match glue::idb_entries(Store::Files).await {
        Ok(entries) => {
            for (name, v) in entries {
                let bytes = js_sys::Uint8Array::new(&v).to_vec();
                if let Err(e) = add_file(ctx, name, bytes, false).await {
                    ctx.worker_error.set(Some(e));
                }
            }
        }
        Err(e) => ctx
            .worker_error
            .set(Some(format!("saved files could not be read: {e}"))),
    }
}

/// The embeddings the worker keeps (in memory and in IndexedDB) go with the file whose tickets
/// they are: nothing of a removed export stays in the browser. Other files' tickets are encoded
/// again when next asked for.
fn forget_embeddings(ctx: Ctx) {
    if let Some(w) = ctx.client() {
        w.send(&Request::ClearEmbeddings);
    }
}

fn remove_file(ctx: Ctx, name: String) {
    ctx.files.update(|fs| fs.retain(|f| f.name != name));
    forget_embeddings(ctx);
    spawn_local(async move {
        let _ = glue::idb_delete(Store::Files, &name).await;
    });
}

/// Incidents → training and relationship pairs for both sides, added as files. Generated and read
/// in the reader worker; the page adds the four files in turns, with the browser let in between:
/// pairs of 10,000 incidents are four files of tens of thousands of pairs, and generating, writing
/// and reading them on this thread froze the page for 0.8 s (issue 19).
fn generate_from(ctx: Ctx, file: &DataFile, errors: RwSignal<Vec<String>>) {
    let Some(source) = file.source.clone() else {
        return;
    };
    let name = file.name.clone();
    let prefix = name.rsplit_once('.').map_or(&*name, |(s, _)| s).to_string();
    spawn_local(async move {
        let asked = name.clone();
        let generated = ask_reader(ctx, &name, |id| Request::GeneratePairs {
            id,
            name: asked,
            bytes: source.to_vec(),
            prefix,
        })
        .await;
        let (files, mut errs) = match generated {
            Ok(Response::PairsGenerated { files, notes, .. }) => (files, notes),
            Ok(_) => {
                return errors.set(vec![format!("{name}: the reader answered another request")])
            }
            Err(e) => return errors.set(vec![e]),
        };
        for file in files {
            crate::web::yield_now().await;
            if let Err(e) = add_read(ctx, file, true).await {
                errs.push(e);
            }
        }
        errors.set(errs);
    });
}

async fn load_samples(ctx: Ctx, errors: RwSignal<Vec<String>>) {
    let mut errs = Vec::new();
    for name in SAMPLE_FILES {
        let url = format!("{}/{name}", super::SAMPLE_DATA_URL);
        match crate::web::fetch_bytes(&url).await {
            Ok(Some(bytes)) => {
                if let Err(e) = add_file(ctx, name.to_string(), bytes, true).await {
                    errs.push(e);
                }
            }
            Ok(None) => errs.push(format!("{url}: not found")),
            Err(e) => errs.push(e.to_string()),
        }
    }
    errors.set(errs);
}

async fn add_all(ctx: Ctx, files: Vec<(String, Vec<u8>)>, errors: RwSignal<Vec<String>>) {
    let mut errs = Vec::new();
    for (path, bytes) in files {
        let name = path.rsplit('/').next().unwrap_or(&path).to_string();
        if let Err(e) = add_file(ctx, name, bytes, true).await {
            errs.push(e);
        }
    }
    errors.set(errs);
}

/// Counts and balance of one file, as table cells.
fn balance(d: &Dataset) -> String {
    match d {
        Dataset::TrainingPairs(l) => {
            let min = crate::eval::report::POSITIVE_LABEL_MIN;
            let pos = l.records.iter().filter(|p| p.label as f64 >= min).count();
            format!(
                "{pos} similar (label ≥ {min}) / {} different",
                l.records.len() - pos
            )
        }
        Dataset::RelationshipPairs(l) => Relation::ALL
            .iter()
            .map(|r| {
                format!(
                    "{} {}",
                    r.name(),
                    l.records.iter().filter(|p| p.relation == *r).count()
                )
            })
            .collect::<Vec<_>>()
            .join(" · "),
        Dataset::Incidents(l) => {
            let links: usize = l
                .records
                .iter()
                .map(|i| i.duplicate_of.len() + i.caused_by.len() + i.related_to.len())
                .sum();
            let cats: std::collections::BTreeSet<&str> = l
                .records
                .iter()
                .filter_map(|i| i.category.as_deref())
                .collect();
            format!(
                "{} incidents · {} categories · {links} links",
                l.records.len(),
                cats.len()
            )
        }
    }
}

/// The first records' texts, for a look at what was read.
fn preview(d: &Dataset) -> Vec<(String, String, String)> {
    match d {
        Dataset::TrainingPairs(l) => l
            .records
            .iter()
            .take(3)
            .map(|p| (p.a.clone(), p.b.clone(), format!("{}", p.label)))
            .collect(),
        Dataset::RelationshipPairs(l) => l
            .records
            .iter()
            .take(3)
            .map(|p| (p.a.clone(), p.b.clone(), p.relation.name().to_string()))
            .collect(),
        Dataset::Incidents(l) => l
            .records
            .iter()
            .take(3)
            .map(|i| {
                (
                    i.id.clone(),
                    i.text(),
                    i.category.clone().unwrap_or_default(),
                )
            })
            .collect(),
    }
}

/// The data panel.
#[component]
pub fn DataPanel() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let errors: RwSignal<Vec<String>> = RwSignal::new(Vec::new());
    let on_files = move |files: Dropped| match files {
        Ok(files) => spawn_local(add_all(ctx, files, errors)),
        Err(e) => errors.set(vec![e]),
    };
    let row = move |f: DataFile| {
        let d = f.dataset.clone();
        let r = d.report().clone();
        let name = f.name.clone();
        let name_rm = f.name.clone();
        let is_incidents = matches!(&*d, Dataset::Incidents(_));
        let f_gen = f.clone();
        let skipped = r.skipped_total();
        view! {
            <article class="file" data-testid="data-file">
                <h3>
                    <span data-testid="data-file-name">{name}</span>
                    " — "
                    <span data-testid="data-file-kind">{d.kind().name()}</span>
                </h3>
                <p data-testid="data-file-counts">
                    {format!("{} ({}): kept {} of {} records", r.format, format_bytes(f.bytes), r.kept, r.read)}
                    {(skipped > 0).then(|| format!("; skipped {skipped}"))}
                </p>
                <p data-testid="data-file-balance">{balance(&d)}</p>
                {(!r.examples.is_empty()).then(|| view! {
                    <details open=true>
                        <summary>{format!("{skipped} bad records (first of each reason)")}</summary>
                        <ul data-testid="data-file-bad">
                            {r.examples.iter().map(|s| view! { <li>{s.message.clone()}</li> }).collect_view()}
                        </ul>
                    </details>
                })}
                {(!r.notes.is_empty()).then(|| view! {
                    <ul class="notes">{r.notes.iter().map(|n| view! { <li>{n.clone()}</li> }).collect_view()}</ul>
                })}
                <table class="preview" data-testid="data-file-preview">
                    {preview(&d).into_iter().map(|(a, b, c)| view! {
                        <tr><td>{a}</td><td>{b}</td><td>{c}</td></tr>
                    }).collect_view()}
                </table>
                {is_incidents.then(|| view! {
                    <button data-testid="generate-pairs" on:click=move |_| generate_from(ctx, &f_gen, errors)>
                        "Generate pairs from these incidents"
                    </button>
                })}
                <button class="secondary" on:click=move |_| remove_file(ctx, name_rm.clone())>"Remove"</button>
            </article>
        }
    };
    view! {
        <h2>"Data"</h2>
        <p>
            "Drop training pairs, relationship pairs or an incident export (JSON, JSON Lines, CSV, TSV) — "
            "the kind is recognised from the content. Files stay in this browser."
        </p>
        <DropZone testid="data-drop" text="Drop data files here" pick="or choose files" on_files=on_files />
        <button data-testid="load-samples" on:click=move |_| spawn_local(load_samples(ctx, errors))>
            "Load the sample data"
        </button>
        <ul class="errors" data-testid="data-errors">
            {move || errors.get().into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}
        </ul>
        <p data-testid="data-summary">
            {move || {
                let t = ctx.training_pair_count();
                let r = ctx.relationship_pair_count();
                format!("{} files · {t} training pairs · {r} relationship pairs (labels included)", ctx.files.with(|f| f.len()))
            }}
        </p>
        // Keyed: adding a file renders its row only (every row counts its records).
        <For each=move || ctx.files.get() key=|f| (f.name.clone(), f.sha256.clone()) children=row />
    }
}

fn format_bytes(n: usize) -> String {
    if n >= 1 << 20 {
        format!("{:.1} MB", n as f64 / (1 << 20) as f64)
    } else {
        format!("{:.1} kB", n as f64 / 1024.0)
    }
}
