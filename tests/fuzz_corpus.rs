//! Replays every input of the fuzz corpora (`fuzz/corpus/<target>/`) through its target, as
//! part of `cargo test`: what the fuzzers found once stays covered on stable, without them.

use std::path::Path;

use slbcert::fuzzing::TARGETS;

#[test]
fn every_corpus_input_runs_clean() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let mut replayed = 0;
    for (name, target) in TARGETS {
        let folder = corpus.join(name);
        let entries = std::fs::read_dir(&folder)
            .unwrap_or_else(|error| panic!("{}: {error}", folder.display()));
        let mut inputs = 0;
        for entry in entries {
            let path = entry.unwrap().path();
            let data = match std::fs::read(&path) {
                Ok(data) => data,
                // A fuzzer running beside the tests replaces its corpus files as it goes.
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
                Err(error) => panic!("{}: {error}", path.display()),
            };
            let outcome = std::panic::catch_unwind(|| target(&data));
            assert!(outcome.is_ok(), "{name}: {} fails", path.display());
            inputs += 1;
        }
        assert!(inputs > 0, "{name} has no corpus");
        replayed += inputs;
    }
    println!("replayed {replayed} corpus inputs");
}
