//! What changed in a key between two looks, so the visualizer can highlight what the last command did:
//! elements added, removed, changed or moved. Pure functions over `introspect::View`s.

use std::collections::{HashMap, HashSet};

use crate::introspect::View;

/// The changes between an earlier and a later view of the same key.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Changes {
    /// Positions (list index, rank, entry position) or names (hash field, set member) that are new.
    pub added: HashSet<Vec<u8>>,
    /// Elements that are gone, as their text.
    pub removed: Vec<Vec<u8>>,
    /// Hash fields whose value changed, zset members whose score changed.
    pub changed: HashSet<Vec<u8>>,
    /// Sorted-set members whose rank changed: member → rank before.
    pub moved: HashMap<Vec<u8>, usize>,
    /// List positions that are new (a list may hold the same value twice, so positions, not values).
    pub added_at: HashSet<usize>,
    /// The string's value changed.
    pub value_changed: bool,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        *self == Changes::default()
    }
}

/// Lists longer than this are compared by their ends only (LCS is quadratic).
const LCS_LIMIT: usize = 600;

pub fn diff(before: &View, after: &View) -> Changes {
    let mut c = Changes::default();
    match (before, after) {
        (View::Str { bytes: a, .. }, View::Str { bytes: b, .. }) => c.value_changed = a != b,
        (View::List { items: a, .. }, View::List { items: b, .. }) => diff_sequence(a, b, &mut c),
        (View::Set { members: a, .. }, View::Set { members: b, .. }) => {
            let before: HashSet<&Vec<u8>> = a.iter().collect();
            let after: HashSet<&Vec<u8>> = b.iter().collect();
            c.added = b.iter().filter(|m| !before.contains(m)).cloned().collect();
            c.removed = a.iter().filter(|m| !after.contains(m)).cloned().collect();
        }
        (View::Hash { fields: a, .. }, View::Hash { fields: b, .. }) => {
            let before: HashMap<&Vec<u8>, &Vec<u8>> = a.iter().map(|(f, v)| (f, v)).collect();
            let after: HashSet<&Vec<u8>> = b.iter().map(|(f, _)| f).collect();
            for (f, v) in b {
                match before.get(f) {
                    None => {
                        c.added.insert(f.clone());
                    }
                    Some(old) if *old != v => {
                        c.changed.insert(f.clone());
                    }
                    Some(_) => {}
                }
            }
            c.removed = a.iter().filter(|(f, _)| !after.contains(f)).map(|(f, _)| f.clone()).collect();
        }
        (View::ZSet { members: a, .. }, View::ZSet { members: b, .. }) => {
            let before: HashMap<&Vec<u8>, (usize, f64)> = a.iter().enumerate().map(|(r, (m, s))| (m, (r, *s))).collect();
            let after: HashSet<&Vec<u8>> = b.iter().map(|(m, _)| m).collect();
            for (rank, (m, score)) in b.iter().enumerate() {
                match before.get(m) {
                    None => {
                        c.added.insert(m.clone());
                    }
                    Some(&(old_rank, old_score)) => {
                        if old_score.to_bits() != score.to_bits() {
                            c.changed.insert(m.clone());
                        }
                        if old_rank != rank {
                            c.moved.insert(m.clone(), old_rank);
                        }
                    }
                }
            }
            c.removed = a.iter().filter(|(m, _)| !after.contains(m)).map(|(m, _)| m.clone()).collect();
        }
        (View::Stream { entries: a, .. }, View::Stream { entries: b, .. }) => {
            let before: HashSet<&str> = a.iter().map(|e| e.id.as_str()).collect();
            let after: HashSet<&str> = b.iter().map(|e| e.id.as_str()).collect();
            c.added = b.iter().filter(|e| !before.contains(e.id.as_str())).map(|e| e.id.as_bytes().to_vec()).collect();
            c.removed = a.iter().filter(|e| !after.contains(e.id.as_str())).map(|e| e.id.as_bytes().to_vec()).collect();
        }
        // The key changed type (DEL then another type): everything is new.
        _ => c.value_changed = true,
    }
    c
}

/// A list's change as positions added and values removed, by the longest common subsequence (so LPUSH marks
/// the head, LREM marks what went, LSET marks one cell).
fn diff_sequence(a: &[Vec<u8>], b: &[Vec<u8>], c: &mut Changes) {
    if a.len() > LCS_LIMIT || b.len() > LCS_LIMIT {
        // Long lists: common prefix and suffix, the middle counts as replaced.
        let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
        let suffix = a[prefix..].iter().rev().zip(b[prefix..].iter().rev()).take_while(|(x, y)| x == y).count();
        c.added_at = (prefix..b.len() - suffix).collect();
        c.removed = a[prefix..a.len() - suffix].to_vec();
        return;
    }
    let (n, m) = (a.len(), b.len());
    // lcs[i][j]: length of the LCS of a[i..] and b[j..].
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            c.added_at.insert(j);
            j += 1;
        } else {
            c.removed.push(a[i].clone());
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::introspect::StreamEntry;

    fn b(s: &str) -> Vec<u8> {
        s.as_bytes().to_vec()
    }

    fn list(items: &[&str]) -> View {
        View::List { items: items.iter().map(|s| b(s)).collect(), len: items.len() }
    }

    #[test]
    fn list_pushes_pops_and_removals_are_found_by_position() {
        let c = diff(&list(&["a", "b"]), &list(&["x", "a", "b"]));
        assert_eq!(c.added_at, HashSet::from([0]));
        assert!(c.removed.is_empty());
        let c = diff(&list(&["a", "b", "c"]), &list(&["a", "c"]));
        assert_eq!(c.removed, [b("b")]);
        assert!(c.added_at.is_empty());
        let c = diff(&list(&["a", "a"]), &list(&["a", "a", "a"]));
        assert_eq!(c.added_at.len(), 1);
        let c = diff(&list(&["a", "b"]), &list(&["a", "z"]));
        assert_eq!((c.added_at, c.removed), (HashSet::from([1]), vec![b("b")]));
    }

    #[test]
    fn long_lists_compare_their_ends() {
        let a: Vec<String> = (0..1000).map(|i| i.to_string()).collect();
        let mut bb = a.clone();
        bb.insert(0, "new".into());
        let refs = |v: &[String]| View::List { items: v.iter().map(|s| b(s)).collect(), len: v.len() };
        let c = diff(&refs(&a), &refs(&bb));
        assert_eq!(c.added_at, HashSet::from([0]));
        assert!(c.removed.is_empty());
    }

    #[test]
    fn hash_fields_added_changed_and_removed() {
        let h = |f: &[(&str, &str)]| View::Hash { fields: f.iter().map(|(k, v)| (b(k), b(v))).collect(), len: f.len() };
        let c = diff(&h(&[("name", "a"), ("age", "1")]), &h(&[("name", "b"), ("city", "x")]));
        assert_eq!(c.added, HashSet::from([b("city")]));
        assert_eq!(c.changed, HashSet::from([b("name")]));
        assert_eq!(c.removed, [b("age")]);
    }

    #[test]
    fn zset_members_move_when_their_rank_changes() {
        let z = |m: &[(&str, f64)]| View::ZSet { members: m.iter().map(|(k, s)| (b(k), *s)).collect(), len: m.len() };
        let c = diff(&z(&[("a", 1.0), ("b", 2.0), ("c", 3.0)]), &z(&[("b", 2.0), ("c", 3.0), ("a", 10.0)]));
        assert_eq!(c.changed, HashSet::from([b("a")]));
        assert_eq!(c.moved.get(&b("a")), Some(&0));
        assert_eq!(c.moved.get(&b("b")), Some(&1));
        let c = diff(&z(&[("a", 1.0)]), &z(&[("a", 1.0), ("n", 0.5)]));
        assert_eq!(c.added, HashSet::from([b("n")]));
    }

    #[test]
    fn sets_streams_and_strings() {
        let s = |m: &[&str]| View::Set { members: m.iter().map(|x| b(x)).collect(), len: m.len() };
        let c = diff(&s(&["a", "b"]), &s(&["b", "c"]));
        assert_eq!((c.added, c.removed), (HashSet::from([b("c")]), vec![b("a")]));
        let st = |ids: &[&str]| View::Stream {
            entries: ids.iter().map(|id| StreamEntry { id: id.to_string(), fields: vec![] }).collect(),
            len: ids.len(),
            last_id: String::new(),
            groups: vec![],
        };
        let c = diff(&st(&["1-0"]), &st(&["1-0", "2-0"]));
        assert_eq!(c.added, HashSet::from([b("2-0")]));
        let str_ = |v: &str| View::Str { bytes: b(v), int: None, hll: None };
        assert!(diff(&str_("a"), &str_("b")).value_changed);
        assert!(diff(&str_("a"), &str_("a")).is_empty());
        assert!(diff(&str_("a"), &list(&["a"])).value_changed);
    }
}
