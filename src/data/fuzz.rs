//! Property test: malformed input never panics a loader. Valid files of every shape are mutated with
//! a seeded generator (byte flips, deletions, insertions of the bytes that matter to the formats —
//! quotes, delimiters, brackets, line ends, invalid UTF-8 — truncation, repeated and spliced slices)
//! and fed to every loader in both modes. Each result must be either records with a consistent
//! report, or an error that names the file.

use std::panic::{catch_unwind, AssertUnwindSafe};

use super::incidents::load_incidents;
use super::load::Mode;
use super::pairs::load_training_pairs;
use super::relationships::load_relationship_pairs;
use crate::rng::Rng;

/// Valid inputs of every shape the loaders accept.
const CORPUS: [&[u8]; 11] = [
    br#"{"positive_pairs": [["vpn drops", "vpn disconnects"], {"text1": "a", "text2": "b"}], "negative_pairs": [["printer", "password"]]}"#,
    br#"[{"ticket_a": "x", "ticket_b": "y", "label": 1.0}, {"sentence1": "u", "sentence2": "v", "score": "0.25"}, ["m", "n", 0.5]]"#,
    b"{\"a\": \"x\", \"b\": \"y\", \"label\": 0.5}\n{\"a\": \"z\", \"b\": \"w\", \"label\": 1}\n",
    b"text_a,text_b,label\n\"vpn, down\",\"vpn \"\"broken\"\"\",1\nprinter,password,0\n",
    b"text1\ttext2\tscore\nx\ty\t0.5\n",
    b"main-captions\tMSRvid\t2012test\t0001\t5.000\tA man.\tA man.\nmain-captions\tMSRvid\t2012test\t0002\t1.0\tA dog.\tA cat.\n",
    br#"[{"ticket_a": "vpn down", "ticket_b": "vpn broken", "relationship": "duplicate", "id_a": 7}, {"text1": "switch", "text2": "vpn", "relation": "causal"}]"#,
    b"text_a;text_b;relationship\na;b;related\nc;d;none\n",
    b"number,short_description,description,category,resolution,duplicate_of,caused_by,related_to\nINC1,VPN down,\"Error 809, again\",Network,Restart,,,\nINC2,vpn!!,,Network,Restart,INC1,,INC1;INC3\n",
    br#"{"result": [{"number": "INC1", "title": "Printer jam", "category": "Hardware", "related_to": ["INC2", 3]}, {"sys_id": 2, "description": "x"}]}"#,
    b"{\"id\": \"A\", \"summary\": \"x\"}\n{\"id\": \"B\", \"summary\": \"y\", \"caused_by\": \"A\"}\n",
];

/// Bytes that change how a file is parsed.
const INTERESTING: &[u8] = b"\"',;\t\n\r{}[]:\\ 0123456789.-e\xff\xc3\xa9\x00nulltruefalse";

fn mutate(rng: &mut Rng) -> Vec<u8> {
    let mut v = CORPUS[rng.below(CORPUS.len())].to_vec();
    for _ in 0..1 + rng.below(8) {
        let len = v.len().max(1);
        let at = rng.below(len).min(v.len());
        match rng.below(7) {
            0 if !v.is_empty() => {
                let i = at.min(v.len() - 1);
                v[i] = rng.next_u64() as u8;
            }
            1 if !v.is_empty() => {
                let end = (at + 1 + rng.below(8)).min(v.len());
                v.drain(at..end);
            }
            2 => v.insert(at, INTERESTING[rng.below(INTERESTING.len())]),
            3 => v.truncate(at),
            4 if !v.is_empty() => {
                let end = (at + 1 + rng.below(40)).min(v.len());
                let slice = v[at..end].to_vec();
                let to = rng.below(v.len() + 1);
                v.splice(to..to, slice);
            }
            5 => {
                let other = CORPUS[rng.below(CORPUS.len())];
                let from = rng.below(other.len());
                let to = rng.below(v.len() + 1);
                v.splice(to..to, other[from..].iter().copied());
            }
            _ => v.insert(at, b"\xff\xfe\xc3\x28"[rng.below(4)]),
        }
    }
    v
}

#[test]
fn malformed_inputs_never_panic() {
    const INPUTS: usize = 12_000;
    let mut rng = Rng::new(20261123);
    let (mut ok, mut err) = (0usize, 0usize);
    for n in 0..INPUTS {
        let input = mutate(&mut rng);
        for mode in [Mode::Skip, Mode::Strict] {
            let result = catch_unwind(AssertUnwindSafe(|| {
                let file = "fuzz.dat";
                let check = |r: crate::Result<(usize, super::load::LoadReport)>| match r {
                    Ok((n, report)) => {
                        assert!(n > 0, "a successful load has records");
                        assert_eq!(report.kept, n);
                        assert_eq!(report.read, report.kept + report.skipped_total());
                        if mode == Mode::Strict {
                            assert_eq!(report.skipped_total(), 0);
                        }
                        true
                    }
                    Err(e) => {
                        let msg = e.to_string();
                        assert!(
                            msg.starts_with("fuzz.dat: "),
                            "error without the file: {msg}"
                        );
                        false
                    }
                };
                let p = load_training_pairs(&input, file, mode).map(|l| {
                    assert!(l.records.iter().all(|p| !p.a.trim().is_empty()
                        && !p.b.trim().is_empty()
                        && (0.0..=1.0).contains(&p.label)));
                    (l.records.len(), l.report)
                });
                let r = load_relationship_pairs(&input, file, mode)
                    .map(|l| (l.records.len(), l.report));
                let i = load_incidents(&input, file, mode).map(|l| {
                    assert!(l
                        .records
                        .iter()
                        .all(|i| !i.id.is_empty() && !i.text().is_empty()));
                    (l.records.len(), l.report)
                });
                [check(p), check(r), check(i)]
            }));
            match result {
                Ok(outcomes) => {
                    ok += outcomes.iter().filter(|&&o| o).count();
                    err += outcomes.iter().filter(|&&o| !o).count();
                }
                Err(_) => panic!(
                    "a loader panicked on input {n} ({mode:?}): {:?}",
                    String::from_utf8_lossy(&input)
                ),
            }
        }
    }
    println!(
        "{INPUTS} malformed inputs x 3 loaders x 2 modes: {ok} loaded, {err} clear errors, 0 panics"
    );
    assert_eq!(ok + err, INPUTS * 6);
    // The generator must exercise both outcomes, or it is not testing much.
    assert!(ok > INPUTS / 10 && err > INPUTS / 10, "ok {ok}, err {err}");
}
