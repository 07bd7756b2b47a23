//! The crate's top-level modules import each other in one direction only (docs/architecture.md
//! lists the layers): any cycle between them fails this test, naming the files that close it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each top-level module, the modules it names as `crate::x`, and a file that does.
type Imports = BTreeMap<String, BTreeMap<String, String>>;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn imports(src: &Path) -> Imports {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let top = |path: &Path| -> String {
        let relative = path.strip_prefix(src).unwrap();
        let first = relative.components().next().unwrap().as_os_str();
        first.to_str().unwrap().trim_end_matches(".rs").to_owned()
    };
    let modules: BTreeSet<String> = files.iter().map(|f| top(f)).collect();
    let mut imports = Imports::new();
    for file in &files {
        let from = top(file);
        if from == "lib" || from == "main" {
            continue;
        }
        let text = std::fs::read_to_string(file).unwrap();
        // Unit tests may reach anywhere; only the code itself is layered.
        let code = text.split("#[cfg(test)]\nmod tests").next().unwrap();
        for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
            for (at, _) in line.match_indices("crate::") {
                let rest = &line[at + "crate::".len()..];
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                if name != from && modules.contains(&name) {
                    let shown = file.strip_prefix(src).unwrap().display().to_string();
                    imports
                        .entry(from.clone())
                        .or_default()
                        .entry(name)
                        .or_insert(shown);
                }
            }
        }
    }
    imports
}

/// A path of imports from `from` back to `to`, if there is one.
fn path_back(imports: &Imports, from: &str, to: &str) -> Option<Vec<String>> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![(from.to_owned(), vec![from.to_owned()])];
    while let Some((at, path)) = stack.pop() {
        if at == to {
            return Some(path);
        }
        if !seen.insert(at.clone()) {
            continue;
        }
        for next in imports.get(&at).into_iter().flat_map(|m| m.keys()) {
            let mut longer = path.clone();
            longer.push(next.clone());
            stack.push((next.clone(), longer));
        }
    }
    None
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let imports = imports(&src);
    assert!(
        imports.len() > 10,
        "found the modules: {:?}",
        imports.keys()
    );
    let mut cycles = Vec::new();
    for (from, names) in &imports {
        for (to, file) in names {
            if let Some(back) = path_back(&imports, to, from) {
                cycles.push(format!(
                    "{from} -> {to} ({file}), back by {}",
                    back.join(" -> ")
                ));
            }
        }
    }
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

#[test]
fn a_cycle_is_found_when_there_is_one() {
    let mut imports = Imports::new();
    let edge = |imports: &mut Imports, a: &str, b: &str| {
        imports
            .entry(a.into())
            .or_default()
            .insert(b.into(), "f.rs".into());
    };
    edge(&mut imports, "api", "access");
    edge(&mut imports, "access", "store");
    assert_eq!(path_back(&imports, "access", "api"), None);
    edge(&mut imports, "store", "api");
    assert_eq!(
        path_back(&imports, "access", "api").unwrap(),
        ["access", "store", "api"]
    );
}
