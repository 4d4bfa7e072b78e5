//! `ticketsim group`: duplicate groups over a whole incident file (threshold communities, see
//! `ticketsim::eval::groups`), written as CSV and JSON; scored against the known duplicate
//! clusters when the file (or a link file) has links.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args as ClapArgs;
use serde_json::json;

use ticketsim::device::DeviceChoice;
use ticketsim::eval::backlog::colour_labels;
use ticketsim::eval::charts;
use ticketsim::eval::groups::{
    group, known_clusters, score_groups, GroupConfig, Grouping, DEFAULT_THRESHOLD,
};
use ticketsim::eval::map::{map_classes, project_2d, TicketMap};
use ticketsim::eval::report::CHART_SIZE;
use ticketsim::eval::retrieval::{LinkKind, RetrievalSet};
use ticketsim::train::metadata::TrainingMetadata;

/// Arguments of `ticketsim group`.
#[derive(ClapArgs, Debug)]
pub struct GroupArgs {
    #[command(flatten)]
    inputs: crate::common::IncidentInputs,
    /// Cosine at or above which two tickets are neighbours [default: the model folder's tuned
    /// best-F1 threshold (training_metadata.json), else 0.8].
    #[arg(long, allow_hyphen_values = true)]
    threshold: Option<f32>,
    /// Fewest tickets in a group.
    #[arg(long, default_value_t = 2)]
    min_group: usize,
    /// Most neighbours kept per ticket (bounds memory at a low threshold).
    #[arg(long, default_value_t = 1000)]
    max_group: usize,
    /// Folder for groups-N.csv (one per --model, in order), groups.json and map.svg (the tickets in
    /// 2-D, one panel per model).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// The threshold for `model_dir`: the tuned one its training_metadata.json carries, if any.
fn tuned_threshold(model_dir: &Path) -> Option<f64> {
    let bytes = std::fs::read(model_dir.join("training_metadata.json")).ok()?;
    match serde_json::from_slice::<TrainingMetadata>(&bytes) {
        Ok(m) => m.best_f1_threshold(),
        Err(e) => {
            eprintln!(
                "warning: {}: unreadable ({e}); using the default threshold",
                model_dir.join("training_metadata.json").display()
            );
            None
        }
    }
}

/// Run the command.
pub fn run(args: GroupArgs, device: DeviceChoice) -> Result<()> {
    let t_total = Instant::now();
    if args.inputs.batch_size == 0 {
        bail!("--batch-size must be at least 1");
    }
    if let Some(out) = &args.out {
        crate::common::check_out_dir(out)?;
    }
    let mode = crate::common::mode(args.inputs.strict);
    let name = args.inputs.incidents.display().to_string();
    let set = crate::common::load_retrieval_set(&args.inputs.incidents, &args.inputs.links, mode)?;
    let truth = (!set.queries(LinkKind::Duplicate).is_empty()).then(|| known_clusters(&set));
    if truth.is_none() {
        eprintln!("note: {name} has no duplicate links: the groups are not scored");
    }
    // Checked before the models load, so a bad option fails fast.
    GroupConfig {
        threshold: args.threshold.unwrap_or(DEFAULT_THRESHOLD),
        min_group: args.min_group,
        max_group: args.max_group,
        ..GroupConfig::default()
    }
    .validate()?;
    let dev = crate::common::open_device(device)?;
    let mut results = Vec::new();
    let mut maps = Vec::new();
    for (m, model) in args.inputs.models.iter().enumerate() {
        let (enc, dir) = crate::common::load_on(model, &dev)?;
        let (threshold, source) = match (args.threshold, tuned_threshold(&dir)) {
            (Some(t), _) => (t, "given"),
            (None, Some(t)) => (t as f32, "tuned best-F1 threshold of the model folder"),
            (None, None) => (DEFAULT_THRESHOLD, "default"),
        };
        let cfg = GroupConfig {
            threshold,
            min_group: args.min_group,
            max_group: args.max_group,
            ..GroupConfig::default()
        };
        let t = Instant::now();
        let emb = enc.encode(&set.texts, args.inputs.batch_size)?;
        let encode_s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let grouping = group(&emb, &cfg, &mut |_, _| ())?;
        let group_s = t.elapsed().as_secs_f64();
        if args.out.is_some() {
            maps.push((
                model.clone(),
                project_2d(&emb)?,
                grouping.assignment.clone(),
            ));
        }
        let scores = truth
            .as_ref()
            .map(|tr| score_groups(&grouping.assignment, tr))
            .transpose()?;
        eprintln!(
            "{model}: threshold {threshold} ({source}); {} groups holding {} of {} incidents; \
             encoded in {encode_s:.2}s, grouped in {group_s:.2}s",
            grouping.groups.len(),
            grouping.grouped(),
            set.ids.len()
        );
        if source != "given"
            && grouping
                .groups
                .first()
                .is_some_and(|g| g.members.len() > 20)
        {
            eprintln!(
                "note: the largest group holds {} incidents: a pair threshold is tuned on pairs \
                 that are half duplicates, and a backlog has far fewer — raise --threshold if \
                 the groups mix problems",
                grouping.groups[0].members.len()
            );
        }
        if grouping.capped > 0 {
            eprintln!(
                "warning: {} incidents had more than {} neighbours at this threshold; only the \
                 most similar were kept (raise --threshold)",
                grouping.capped, args.max_group
            );
        }
        let file = args
            .out
            .as_ref()
            .map(|out| -> Result<PathBuf> {
                std::fs::create_dir_all(out)
                    .with_context(|| format!("{}: cannot create", out.display()))?;
                let path = out.join(format!("groups-{}.csv", m + 1));
                crate::common::write_file(&path, &groups_csv(&set, &grouping)?)?;
                Ok(path)
            })
            .transpose()?;
        results.push(json!({
            "model": model,
            "threshold": threshold,
            "threshold_source": source,
            "groups": grouping.groups.len(),
            "grouped_incidents": grouping.grouped(),
            "largest_group": grouping.groups.first().map_or(1, |g| g.members.len()),
            "scores": scores,
            "encode_seconds": encode_s,
            "group_seconds": group_s,
            "csv": file,
            "detail": grouping,
        }));
    }
    let summary = json!({
        "incidents": name,
        "count": set.ids.len(),
        "known_clusters": truth.as_ref().map(|t| t.iter().max().map_or(0, |m| m + 1)),
        "min_group": args.min_group,
        "models": results,
    });
    if let Some(out) = &args.out {
        crate::common::write_file(
            &out.join("groups.json"),
            &serde_json::to_vec_pretty(&summary)?,
        )?;
        let svg = map_svg(&set, truth.as_deref(), &maps)?;
        crate::common::write_file(&out.join("map.svg"), svg.as_bytes())?;
    }
    // stdout: the summary without the per-incident detail (that is in groups.json / the CSVs).
    let mut brief = summary.clone();
    for m in brief["models"].as_array_mut().into_iter().flatten() {
        m.as_object_mut().map(|o| o.remove("detail"));
    }
    brief["seconds"] = json!(t_total.elapsed().as_secs_f64());
    println!("{brief}");
    Ok(())
}

/// The map of the tickets, one panel per model side by side, coloured by category when the file
/// has categories, else by known duplicate cluster, else by the first model's groups (the six
/// largest get a colour, the rest are grey).
fn map_svg(
    set: &RetrievalSet,
    truth: Option<&[usize]>,
    maps: &[(String, TicketMap, Vec<usize>)],
) -> Result<String> {
    let Some((_, _, first_groups)) = maps.first() else {
        return Ok(String::new());
    };
    let (labels, what) = colour_labels(set, truth, Some(first_groups));
    let (classes, names) = map_classes(&labels, charts::MAP_CLASSES);
    let (w, h) = CHART_SIZE;
    Ok(charts::to_svg(w * maps.len() as u32, h, |area| {
        for (panel, (model, map, _)) in area.split_evenly((1, maps.len())).iter().zip(maps) {
            let [a, b] = map.explained_variance_ratio;
            let title = format!(
                "{model}: tickets by {what} (PCA, {:.0}% of variance)",
                100.0 * (a + b)
            );
            charts::ticket_map_chart(panel, &map.points, &classes, &names, &title)?;
        }
        Ok(())
    })?)
}

/// One row per incident, in file order: id, group, group size, the central incident's id and
/// title, and the incident's cosine with it (empty for a group of one).
fn groups_csv(set: &RetrievalSet, g: &Grouping) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "id",
        "group",
        "group_size",
        "central_id",
        "group_title",
        "similarity_to_central",
    ])?;
    for (i, &gid) in g.assignment.iter().enumerate() {
        let row: [String; 6] = match g.groups.get(gid) {
            Some(grp) => {
                let pos = grp.members.binary_search(&i).expect("member of its group");
                [
                    set.ids[i].clone(),
                    (gid + 1).to_string(),
                    grp.members.len().to_string(),
                    set.ids[grp.central].clone(),
                    set.titles[grp.central].clone(),
                    format!("{:.4}", grp.similarity_to_central[pos]),
                ]
            }
            None => [
                set.ids[i].clone(),
                (gid + 1).to_string(),
                "1".into(),
                set.ids[i].clone(),
                set.titles[i].clone(),
                String::new(),
            ],
        };
        w.write_record(&row)?;
    }
    w.into_inner().context("writing groups CSV")
}
