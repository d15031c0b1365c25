//! The workspace's layering, checked from the source on every test run:
//! - no cycle between sibling modules in any crate (`a` uses `b` and `b`
//!   uses `a`, directly or through other siblings);
//! - the lab (`sim`) never depends on the product (`svmdr`).
//!
//! Modules are the files under each crate's `src/` plus top-level inline
//! `mod x { … }` blocks. References are the `crate::`, `super::` and `self::`
//! paths in the code (comments stripped), `use` groups included. Test
//! modules (`tests`, `tests_*`, `testutil`, and the `*_tests.rs` files
//! included as `#[path] mod tests`) may reach anything and are left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module's path within its crate (`["plan", "engine"]`).
type ModPath = Vec<String>;

/// The crates whose modules are checked.
const CRATES: &[&str] = &["svmdr", "sim", "kubectl-svmdr", "ark-plugin", "watcher"];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("svmdr sits in the workspace")
        .to_path_buf()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            // `src/bin/*` are crates of their own.
            if p.file_name().is_some_and(|n| n != "bin") {
                rust_files(&p, out);
            }
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// `src/plan/engine.rs` → `["plan", "engine"]`; `lib.rs`, `main.rs` and
/// `mod.rs` name their folder.
fn module_of(src: &Path, file: &Path) -> ModPath {
    let rel = file.strip_prefix(src).expect("file under src");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().expect("a file name");
    let stem = last.trim_end_matches(".rs");
    if !(parts.is_empty() && (stem == "lib" || stem == "main")) && stem != "mod" {
        parts.push(stem.to_string());
    }
    parts
}

/// The code of a file without comments, and the module of each line
/// (top-level inline `mod x {` blocks are modules of their own).
fn code_lines(text: &str, module: &ModPath) -> Vec<(String, ModPath)> {
    let mut out = Vec::new();
    let mut inline: Option<ModPath> = None;
    for line in text.lines() {
        let code = match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        };
        if inline.is_some() && line == "}" {
            inline = None;
            continue;
        }
        if inline.is_none()
            && let Some(name) = inline_mod(line)
        {
            let mut m = module.clone();
            m.push(name);
            inline = Some(m);
            continue;
        }
        out.push((
            code.to_string(),
            inline.clone().unwrap_or_else(|| module.clone()),
        ));
    }
    out
}

/// `mod tests {` / `pub(crate) mod x {` at the start of a line.
fn inline_mod(line: &str) -> Option<String> {
    let rest = line
        .strip_prefix("pub(crate) ")
        .or_else(|| line.strip_prefix("pub "))
        .unwrap_or(line);
    let name = rest.strip_prefix("mod ")?.strip_suffix(" {")?;
    name.chars()
        .all(|c| c.is_alphanumeric() || c == '_')
        .then(|| name.to_string())
}

fn ident_at(s: &[u8], mut i: usize) -> (String, usize) {
    let start = i;
    while i < s.len() && (s[i].is_ascii_alphanumeric() || s[i] == b'_') {
        i += 1;
    }
    (String::from_utf8_lossy(&s[start..i]).into_owned(), i)
}

fn skip_ws(s: &[u8], mut i: usize) -> usize {
    while i < s.len() && s[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// Reads a path tree at `i` (`a::b`, `a::{b, c::d}`), pushing each path
/// under `prefix`. Returns where it stopped.
fn path_tree(s: &[u8], i: usize, prefix: &ModPath, out: &mut Vec<ModPath>) -> usize {
    let mut i = skip_ws(s, i);
    let mut path = prefix.clone();
    loop {
        if s.get(i) == Some(&b'{') {
            i += 1;
            loop {
                i = skip_ws(s, i);
                match s.get(i) {
                    None => return i,
                    Some(b'}') => return i + 1,
                    Some(b',') => i += 1,
                    Some(_) => {
                        let next = path_tree(s, i, &path, out);
                        if next == i {
                            i += 1;
                        } else {
                            i = next;
                        }
                    }
                }
            }
        }
        let (id, next) = ident_at(s, i);
        if id.is_empty() {
            out.push(path);
            return i;
        }
        if id != "self" {
            path.push(id);
        }
        i = skip_ws(s, next);
        if s[i..].starts_with(b"::") {
            i = skip_ws(s, i + 2);
        } else {
            out.push(path);
            return i;
        }
    }
}

/// Every `crate::`/`super::`/`self::` path in `code`, resolved from `module`.
fn references(code: &str, module: &ModPath) -> Vec<ModPath> {
    let s = code.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let boundary =
            i == 0 || !(s[i - 1].is_ascii_alphanumeric() || matches!(s[i - 1], b'_' | b'$' | b':'));
        let base = if !boundary {
            None
        } else if s[i..].starts_with(b"crate::") {
            Some((Vec::new(), i + 7))
        } else if s[i..].starts_with(b"self::") {
            Some((module.clone(), i + 6))
        } else if s[i..].starts_with(b"super::") {
            let mut m = module.clone();
            let mut j = i;
            while s[j..].starts_with(b"super::") {
                m.pop();
                j += 7;
            }
            Some((m, j))
        } else {
            None
        };
        match base {
            Some((prefix, at)) => i = path_tree(s, at, &prefix, &mut out).max(i + 1),
            None => i += 1,
        }
    }
    out
}

/// One sibling edge: in `parent`, module `from` uses module `to`, at `site`.
#[derive(Debug)]
struct Edge {
    parent: ModPath,
    from: String,
    to: String,
    site: String,
}

/// Names a module re-exports (`pub use report::{StatusReport, …}`): the
/// module and the name, to the path it stands for.
type Aliases = BTreeMap<(ModPath, String), ModPath>;

/// Follows re-exports, so that `super::StatusReport` (re-exported by the
/// parent) counts as a use of the module that defines it.
fn resolve(target: &ModPath, modules: &BTreeSet<ModPath>, aliases: &Aliases) -> Option<ModPath> {
    let mut t = target.clone();
    for _ in 0..8 {
        let m: ModPath = (0..=t.len())
            .rev()
            .map(|n| t[..n].to_vec())
            .find(|p| modules.contains(p))?;
        let Some(next) = t.get(m.len()) else {
            return Some(m);
        };
        match aliases.get(&(m.clone(), next.clone())) {
            Some(real) if real != &t[..=m.len()] => {
                let mut r = real.clone();
                r.extend_from_slice(&t[m.len() + 1..]);
                t = r;
            }
            _ => return Some(m),
        }
    }
    None
}

fn sibling_edge(
    from: &ModPath,
    target: &ModPath,
    modules: &BTreeSet<ModPath>,
    aliases: &Aliases,
) -> Option<(ModPath, String, String)> {
    // The module the target is defined in.
    let t = resolve(target, modules, aliases)?;
    let common = from.iter().zip(&t).take_while(|(a, b)| a == b).count();
    if common == from.len() || common == t.len() {
        return None; // the same module, an ancestor or a descendant
    }
    Some((
        from[..common].to_vec(),
        from[common].clone(),
        t[common].clone(),
    ))
}

/// The re-exports of every module: `pub use` paths, `crate::`/`super::`/
/// `self::` ones and those starting with a child module.
fn aliases_of(
    lines_by_file: &[(PathBuf, Vec<(String, ModPath)>)],
    modules: &BTreeSet<ModPath>,
) -> Aliases {
    let mut out = Aliases::new();
    for (_, lines) in lines_by_file {
        for (n, (first, module)) in lines.iter().enumerate() {
            let t = first.trim_start();
            let Some(_) = t
                .strip_prefix("pub use ")
                .or_else(|| t.strip_prefix("pub(crate) use "))
            else {
                continue;
            };
            let mut code = t.to_string();
            let mut k = n;
            while !code.contains(';') && k + 1 < lines.len() {
                k += 1;
                code.push(' ');
                code.push_str(&lines[k].0);
            }
            let rest = code
                .trim_start_matches("pub(crate) use ")
                .trim_start_matches("pub use ");
            let mut paths = Vec::new();
            if rest.starts_with("crate::")
                || rest.starts_with("super::")
                || rest.starts_with("self::")
            {
                paths = references(rest, module);
            } else {
                let mut child = module.clone();
                child.push(ident_at(rest.as_bytes(), 0).0);
                if modules.contains(&child) {
                    path_tree(rest.as_bytes(), 0, module, &mut paths);
                }
            }
            for p in paths {
                if let Some(name) = p.last() {
                    out.insert((module.clone(), name.clone()), p.clone());
                }
            }
        }
    }
    out
}

fn edges_of(krate: &str) -> Vec<Edge> {
    let src = workspace().join(krate).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut lines_by_file = Vec::new();
    let mut modules = BTreeSet::new();
    for f in &files {
        let module = module_of(&src, f);
        let text =
            std::fs::read_to_string(f).unwrap_or_else(|e| panic!("read {}: {e}", f.display()));
        let lines = code_lines(&text, &module);
        for (_, m) in &lines {
            modules.insert(m.clone());
        }
        modules.insert(module);
        lines_by_file.push((f.clone(), lines));
    }
    let aliases = aliases_of(&lines_by_file, &modules);
    let mut edges = Vec::new();
    for (file, lines) in &lines_by_file {
        let is_test = |m: &ModPath| {
            m.iter().any(|p| {
                p == "tests" || p.starts_with("tests_") || p.ends_with("_tests") || p == "testutil"
            })
        };
        // `use` groups span lines: read a statement's lines together.
        let mut n = 0;
        while n < lines.len() {
            let (first, module) = &lines[n];
            if is_test(module) {
                n += 1;
                continue;
            }
            let mut code = first.clone();
            let start = n;
            if first.trim_start().starts_with("use ")
                || first.contains("use crate::")
                || first.contains("use super::")
            {
                while !code.contains(';') && n + 1 < lines.len() {
                    n += 1;
                    code.push(' ');
                    code.push_str(&lines[n].0);
                }
            }
            for target in references(&code, module) {
                if let Some((parent, from, to)) = sibling_edge(module, &target, &modules, &aliases)
                {
                    edges.push(Edge {
                        parent,
                        from,
                        to,
                        site: format!(
                            "{}:{}",
                            file.strip_prefix(workspace()).unwrap_or(file).display(),
                            start + 1
                        ),
                    });
                }
            }
            n += 1;
        }
    }
    edges
}

/// Sibling cycles of one crate, each as `parent: a → b → … → a` with the
/// first place each edge is made.
fn cycles(krate: &str) -> Vec<String> {
    let edges = edges_of(krate);
    let mut graph: BTreeMap<(ModPath, String), BTreeMap<String, String>> = BTreeMap::new();
    for e in &edges {
        graph
            .entry((e.parent.clone(), e.from.clone()))
            .or_default()
            .entry(e.to.clone())
            .or_insert_with(|| e.site.clone());
    }
    let mut found = BTreeSet::new();
    for ((parent, from), tos) in &graph {
        for to in tos.keys() {
            // Is there a way back from `to` to `from`?
            let mut seen = BTreeSet::new();
            let mut stack = vec![vec![to.clone()]];
            while let Some(path) = stack.pop() {
                let last = path.last().expect("non-empty").clone();
                if last == *from {
                    let mut ring = vec![from.clone()];
                    ring.extend(path);
                    let min = ring[..ring.len() - 1]
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, n)| *n)
                        .map_or(0, |(i, _)| i);
                    let mut canon: Vec<String> = ring[min..ring.len() - 1].to_vec();
                    canon.extend_from_slice(&ring[..min]);
                    canon.push(canon[0].clone());
                    let sites: Vec<String> = canon
                        .windows(2)
                        .map(|w| graph[&(parent.clone(), w[0].clone())][&w[1]].clone())
                        .collect();
                    found.insert(format!(
                        "{krate}: {}{} ({})",
                        if parent.is_empty() {
                            String::new()
                        } else {
                            format!("{}: ", parent.join("::"))
                        },
                        canon.join(" → "),
                        sites.join(", ")
                    ));
                    break;
                }
                if !seen.insert(last.clone()) {
                    continue;
                }
                if let Some(next) = graph.get(&(parent.clone(), last)) {
                    for n in next.keys() {
                        let mut p = path.clone();
                        p.push(n.clone());
                        stack.push(p);
                    }
                }
            }
        }
    }
    found.into_iter().collect()
}

#[test]
fn no_module_cycles() {
    let all: Vec<String> = CRATES.iter().flat_map(|c| cycles(c)).collect();
    assert!(all.is_empty(), "module cycles:\n{}", all.join("\n"));
}

#[test]
fn the_checker_sees_a_cycle() {
    let m = |p: &[&str]| -> ModPath { p.iter().map(|s| (*s).to_string()).collect() };
    let modules: BTreeSet<ModPath> = [m(&[]), m(&["a"]), m(&["a", "x"]), m(&["a", "y"])].into();
    let refs = references(
        "use super::{y::Thing, x};\nlet v = crate::a::x::f();",
        &m(&["a", "x"]),
    );
    assert_eq!(
        refs,
        vec![m(&["a", "y", "Thing"]), m(&["a", "x"]), m(&["a", "x", "f"])]
    );
    let none = Aliases::new();
    assert_eq!(
        sibling_edge(&m(&["a", "x"]), &m(&["a", "y", "Thing"]), &modules, &none),
        Some((m(&["a"]), "x".into(), "y".into()))
    );
    assert_eq!(
        sibling_edge(&m(&["a", "x"]), &m(&["a", "Item"]), &modules, &none),
        None
    );
    assert_eq!(
        sibling_edge(&m(&["a", "x"]), &m(&["a", "x", "f"]), &modules, &none),
        None
    );
}

#[test]
fn sim_does_not_depend_on_svmdr() {
    let manifest =
        std::fs::read_to_string(workspace().join("sim/Cargo.toml")).expect("sim/Cargo.toml");
    let deps: Vec<&str> = manifest
        .lines()
        .filter(|l| l.trim_start().starts_with("svmdr"))
        .collect();
    assert!(deps.is_empty(), "sim depends on svmdr: {deps:?}");
    let mut files = Vec::new();
    rust_files(&workspace().join("sim"), &mut files);
    let uses: Vec<String> = files
        .iter()
        .filter(|f| !f.components().any(|c| c.as_os_str() == "target"))
        .filter(|f| std::fs::read_to_string(f).is_ok_and(|t| t.contains("svmdr::")))
        .map(|f| f.display().to_string())
        .collect();
    assert!(uses.is_empty(), "sim code names svmdr::: {uses:?}");
}
