//! `cargo xtask cycles`: no module of a crate may depend, through any chain, on itself; and
//! in a crate with declared layers ([`LAYERS`]: zuora-core), no module may use one above it.
//!
//! Each crate's top-level modules (a file `src/name.rs` or a folder `src/name/`) are the
//! nodes; a mention of `crate::other` (in a path or a `use crate::{…}` group, or an item the
//! crate root re-exports from `other`) is an edge; comment lines (doc links) are not. Strongly connected components of more than one
//! module are cycles, reported with the modules in them. Text-based on purpose: it needs no
//! compiler internals, and the code base writes its paths plainly.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Graph = BTreeMap<String, BTreeSet<String>>;

/// The layer order of the crates that declare one, lowest first: a module may use the ones
/// before it, never one after. Every top-level module of such a crate must be listed. The one
/// place this order is written (zuora-core's `lib.rs` declares its modules in the same order).
pub const LAYERS: &[(&str, &[&str])] = &[(
    "crates/zuora-core/src",
    &[
        "values",
        "filters",
        "driver",
        "responses",
        "exports",
        "errors",
        "operations",
        "policies",
        "config",
        "machines",
        "pulls",
        "client",
    ],
)];

/// Every edge of `graph` that runs upward or sideways in `layers`, and every module that is
/// in no layer.
fn layer_violations(graph: &Graph, layers: &[&str]) -> Vec<String> {
    let rank = |module: &str| layers.iter().position(|layer| *layer == module);
    let mut found = Vec::new();
    for (module, edges) in graph {
        let Some(from) = rank(module) else {
            found.push(format!("{module} is in no declared layer"));
            continue;
        };
        for other in edges {
            match rank(other) {
                Some(to) if to < from => {}
                Some(_) => found.push(format!("{module} uses {other}, a layer above it")),
                None => found.push(format!("{other} is in no declared layer")),
            }
        }
    }
    found
}

/// The layer violations of the crate at `src` under `layers`.
pub fn check_layers(src: &Path, layers: &[&str]) -> Result<(), String> {
    let violations = layer_violations(&graph_of(src)?, layers);
    if violations.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}: layers broken ({}):\n  {}",
            src.display(),
            layers.join(" < "),
            violations.join("\n  ")
        ))
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_dir() {
            rust_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

/// The top-level module a file belongs to (`None` for the crate root files).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src).ok()?;
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "lib" | "main")).then(|| name.to_owned())
}

/// Every first segment `text` names through `crate::`: a module, or an item the crate root
/// re-exports.
fn mentions(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (at, _) in text.match_indices("crate::") {
        let rest = &text[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // `use crate::{a, b::c, d::{e, f}}`: the first segment of each top-level item.
            let mut depth = 0usize;
            let mut item_start = true;
            let mut name = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        if !name.is_empty() {
                            found.insert(std::mem::take(&mut name));
                        }
                        item_start = true;
                    }
                    c if item_start && (c.is_alphanumeric() || c == '_') => name.push(c),
                    _ if item_start && !name.is_empty() => {
                        found.insert(std::mem::take(&mut name));
                        item_start = false;
                    }
                    _ => {}
                }
            }
            if !name.is_empty() {
                found.insert(name);
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.insert(name);
            }
        }
    }
    found
}

/// Items the crate root re-exports (`pub use module::{A, B};`), by name, with their module.
fn reexports(src: &Path) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    let root = ["lib.rs", "main.rs"]
        .iter()
        .filter_map(|f| std::fs::read_to_string(src.join(f)).ok())
        .flat_map(|text| {
            // Comments (a statement's leading doc or remark) are not code.
            text.lines()
                .filter(|line| !line.trim_start().starts_with("//"))
                .map(|line| format!("{line}\n"))
                .collect::<Vec<_>>()
        })
        .collect::<String>();
    for statement in root.split(';') {
        let Some(path) = statement.trim().strip_prefix("pub use ") else {
            continue;
        };
        let Some((module, items)) = path.split_once("::") else {
            continue;
        };
        let items = items.trim().trim_start_matches('{').trim_end_matches('}');
        for item in items.split(',') {
            let name = item.rsplit("::").next().unwrap_or_default().trim();
            let name = name.rsplit(" as ").next().unwrap_or_default().trim();
            if !name.is_empty() {
                map.insert(name.to_owned(), module.trim().to_owned());
            }
        }
    }
    map
}

fn graph_of(src: &Path) -> Result<Graph, String> {
    let mut files = Vec::new();
    rust_files(src, &mut files)?;
    let modules: BTreeSet<String> = files.iter().filter_map(|f| module_of(src, f)).collect();
    let reexported = reexports(src);
    let mut graph = Graph::new();
    for file in &files {
        let Some(module) = module_of(src, file) else {
            continue;
        };
        let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
        // Comments (doc links included) are not dependencies.
        let text: String = text
            .lines()
            .filter(|line| !line.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let edges = graph.entry(module.clone()).or_default();
        for name in mentions(&text) {
            let other = reexported.get(&name).cloned().unwrap_or(name);
            if other != module && modules.contains(&other) {
                edges.insert(other);
            }
        }
    }
    Ok(graph)
}

/// Strongly connected components with more than one module (Tarjan's algorithm).
fn cycles(graph: &Graph) -> Vec<Vec<String>> {
    struct State<'g> {
        graph: &'g Graph,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        found: Vec<Vec<String>>,
    }
    fn visit<'g>(state: &mut State<'g>, node: &'g str) {
        let n = state.index.len();
        state.index.insert(node, n);
        state.low.insert(node, n);
        state.stack.push(node);
        state.on_stack.insert(node);
        for next in state.graph.get(node).into_iter().flatten() {
            let next = next.as_str();
            if !state.index.contains_key(next) {
                visit(state, next);
                let low = state.low[node].min(state.low[next]);
                state.low.insert(node, low);
            } else if state.on_stack.contains(next) {
                let low = state.low[node].min(state.index[next]);
                state.low.insert(node, low);
            }
        }
        if state.low[node] == state.index[node] {
            let mut component = Vec::new();
            while let Some(top) = state.stack.pop() {
                state.on_stack.remove(top);
                component.push(top.to_owned());
                if top == node {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                state.found.push(component);
            }
        }
    }
    let mut state = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for node in graph.keys() {
        if !state.index.contains_key(node.as_str()) {
            visit(&mut state, node);
        }
    }
    state.found
}

/// `--graph`: prints every crate's module edges (for planning a layering).
pub fn run(args: &[&str]) -> Result<(), String> {
    let print_graph = args == ["--graph"];
    let mut crates: Vec<PathBuf> = std::fs::read_dir("crates")
        .map_err(|e| e.to_string())?
        .filter_map(|entry| entry.ok().map(|e| e.path().join("src")))
        .filter(|src| src.is_dir())
        .collect();
    crates.push("xtask/src".into());
    crates.push("tests/src".into());
    crates.sort();
    let mut failures = Vec::new();
    for src in &crates {
        let graph = graph_of(src)?;
        if print_graph {
            for (module, edges) in &graph {
                let edges: Vec<&str> = edges.iter().map(String::as_str).collect();
                println!("{}: {module} -> {}", src.display(), edges.join(" "));
            }
        }
        for cycle in cycles(&graph) {
            failures.push(format!("{}: {}", src.display(), cycle.join(" <-> ")));
        }
    }
    for (src, layers) in LAYERS {
        if let Err(broken) = check_layers(Path::new(src), layers) {
            failures.push(broken);
        }
    }
    if failures.is_empty() {
        eprintln!(
            "no module cycle in {} crates; every declared layer order holds",
            crates.len()
        );
        Ok(())
    } else {
        Err(format!(
            "module cycles or broken layers:\n  {}",
            failures.join("\n  ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_paths_and_use_groups() {
        let text = "use crate::{a::X, b, c::{d, e}};\nlet x = crate::f::g();\nuse crate::h;";
        let found: Vec<String> = mentions(text).into_iter().collect();
        assert_eq!(found, ["a", "b", "c", "f", "h"]);
    }

    /// A copy of zuora-core's sources, with `plant` appended to one file of its lowest
    /// layer, checked against the declared order.
    fn check_a_copy_with(plant: &str) -> Result<(), String> {
        let (src, layers) = LAYERS[0];
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(src);
        let scratch = std::env::temp_dir().join(format!(
            "zuora-layers-{}-{}",
            std::process::id(),
            plant.len()
        ));
        let _ = std::fs::remove_dir_all(&scratch);
        let mut files = Vec::new();
        rust_files(&root, &mut files)?;
        for file in files {
            let relative = file.strip_prefix(&root).map_err(|e| e.to_string())?;
            let copy = scratch.join(relative);
            std::fs::create_dir_all(copy.parent().unwrap_or(&scratch))
                .map_err(|e| e.to_string())?;
            std::fs::copy(&file, &copy).map_err(|e| e.to_string())?;
        }
        let target = scratch.join("values/ids.rs");
        let mut text = std::fs::read_to_string(&target).map_err(|e| e.to_string())?;
        text.push_str(plant);
        std::fs::write(&target, text).map_err(|e| e.to_string())?;
        let outcome = check_layers(&scratch, layers);
        let _ = std::fs::remove_dir_all(&scratch);
        outcome
    }

    #[test]
    fn the_core_keeps_its_layers_and_an_upward_import_is_caught() {
        let (src, layers) = LAYERS[0];
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(src);
        assert_eq!(check_layers(&root, layers), Ok(()));
        // A comment naming a higher layer is not an import.
        assert_eq!(
            check_a_copy_with("\n// see crate::machines::Task\n"),
            Ok(())
        );
        // Through a public module's path, as a user of the crate writes it.
        let broken = check_a_copy_with("\n#[allow(unused)]\nuse crate::machines::Task;\n");
        let message = broken.expect_err("an upward import must fail the check");
        assert!(message.contains("values uses machines"), "{message}");
        // Through a root re-export too.
        let broken = check_a_copy_with("\n#[allow(unused)]\nuse crate::ClientConfig;\n");
        let message = broken.expect_err("an upward import through a root re-export must fail");
        assert!(message.contains("values uses config"), "{message}");
    }

    #[test]
    fn a_module_outside_the_layers_is_named() {
        let mut graph = Graph::new();
        graph.entry("low".into()).or_default();
        graph
            .entry("stray".into())
            .or_default()
            .insert("low".into());
        graph.entry("high".into()).or_default().insert("low".into());
        graph
            .entry("low2".into())
            .or_default()
            .insert("high".into());
        let found = layer_violations(&graph, &["low", "low2", "high"]);
        assert_eq!(
            found,
            [
                "low2 uses high, a layer above it",
                "stray is in no declared layer"
            ]
        );
    }

    #[test]
    fn finds_a_cycle_and_nothing_else() {
        let mut graph = Graph::new();
        for (from, to) in [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")] {
            graph.entry(from.into()).or_default().insert(to.into());
        }
        assert_eq!(cycles(&graph), vec![vec!["a", "b", "c"]]);
    }
}
