//! Small ordered maps and sets: a `Vec` of entries kept sorted by key, searched by bisection.
//!
//! Why not `std::collections::BTreeMap`: the core's maps are small (an input object's fields, a batch's metrics and
//! periods: tens, at most a few thousand entries) and there are many key/value types. Every `BTreeMap<K, V>` type
//! brings its own copy of the B-tree's node code and, through `collect`, of the stable sort: about 80 KB of the wasm
//! for fifteen types. A sorted `Vec` needs a bisection and a `Vec::insert` per type, and iterates in key order as a
//! `BTreeMap` does, which the rules rely on (deterministic output, first error by field name).
//!
//! Inserting is O(n) (a move of the tail), except at the end (keys arriving in order), which is where `collect` from
//! another ordered source puts them; at the sizes above that costs less than the tree's node allocations. A map built
//! from input of any size and order (a request body's object, up to 1 MiB: keys may arrive in descending order,
//! which would cost n²/2 moves) is built with [`SortedMap::from_pairs`]: one sort, O(n log n).

use std::borrow::Borrow;

/// An ordered map. Iteration is in ascending key order; inserting an existing key replaces its value.
#[derive(Debug, Clone, PartialEq)]
pub struct SortedMap<K, V> {
    entries: Vec<(K, V)>,
}

impl<K, V> Default for SortedMap<K, V> {
    fn default() -> Self {
        SortedMap {
            entries: Vec::new(),
        }
    }
}

impl<K: Ord, V> SortedMap<K, V> {
    pub fn new() -> Self {
        Self::default()
    }

    fn find<Q: Ord + ?Sized>(&self, key: &Q) -> std::result::Result<usize, usize>
    where
        K: Borrow<Q>,
    {
        self.entries.binary_search_by(|(k, _)| k.borrow().cmp(key))
    }

    pub fn get<Q: Ord + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(|i| &self.entries[i].1)
    }

    pub fn get_mut<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
    {
        match self.find(key) {
            Ok(i) => Some(&mut self.entries[i].1),
            Err(_) => None,
        }
    }

    pub fn contains_key<Q: Ord + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.find(key).is_ok()
    }

    /// Sets `key` to `value`; answers the value it replaced.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        if self.entries.last().is_none_or(|(last, _)| *last < key) {
            self.entries.push((key, value));
            return None;
        }
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            Err(i) => {
                self.entries.insert(i, (key, value));
                None
            }
        }
    }

    /// A map of `pairs` in any order, a later pair with the same key replacing an earlier one (as `collect` does), in
    /// O(n log n) whatever the order.
    pub fn from_pairs(mut pairs: Vec<(K, V)>) -> Self {
        // Stable: pairs with equal keys stay in arrival order, and the last of each run is the one kept.
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        let mut entries: Vec<(K, V)> = Vec::with_capacity(pairs.len());
        for (k, v) in pairs {
            match entries.last_mut() {
                Some(last) if last.0 == k => last.1 = v,
                _ => entries.push((k, v)),
            }
        }
        SortedMap { entries }
    }

    /// The place of `key`, to fill when empty (as `BTreeMap::entry`, for `or_insert_with`).
    pub fn entry(&mut self, key: K) -> Entry<'_, K, V> {
        Entry { map: self, key }
    }

    pub fn remove<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(|i| self.entries.remove(i).1)
    }
}

/// The place of one key in a [`SortedMap`].
pub struct Entry<'a, K, V> {
    map: &'a mut SortedMap<K, V>,
    key: K,
}

impl<'a, K: Ord, V> Entry<'a, K, V> {
    /// The value under the key, made by `make` when there is none.
    pub fn or_insert_with(self, make: impl FnOnce() -> V) -> &'a mut V {
        let entries = &mut self.map.entries;
        let i = match entries.binary_search_by(|(k, _)| k.cmp(&self.key)) {
            Ok(i) => i,
            Err(i) => {
                entries.insert(i, (self.key, make()));
                i
            }
        };
        &mut entries[i].1
    }
}

impl<K: Ord + Borrow<Q>, V, Q: Ord + ?Sized> std::ops::Index<&Q> for SortedMap<K, V> {
    type Output = V;
    /// As `BTreeMap`: a missing key is a bug of the caller's, and panics.
    fn index(&self, key: &Q) -> &V {
        self.get(key).expect("key present in SortedMap")
    }
}

impl<K, V> SortedMap<K, V> {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&K, &V)> + ExactSizeIterator {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &K> + ExactSizeIterator {
        self.entries.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> + ExactSizeIterator {
        self.entries.iter().map(|(_, v)| v)
    }

    pub fn values_mut(&mut self) -> impl DoubleEndedIterator<Item = &mut V> + ExactSizeIterator {
        self.entries.iter_mut().map(|(_, v)| v)
    }
}

impl<K: Ord, V> FromIterator<(K, V)> for SortedMap<K, V> {
    /// As `BTreeMap`: a later pair with the same key replaces an earlier one.
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut map = SortedMap::new();
        for (k, v) in iter {
            map.insert(k, v);
        }
        map
    }
}

impl<K: Ord, V, const N: usize> From<[(K, V); N]> for SortedMap<K, V> {
    fn from(pairs: [(K, V); N]) -> Self {
        pairs.into_iter().collect()
    }
}

impl<K, V> IntoIterator for SortedMap<K, V> {
    type Item = (K, V);
    type IntoIter = std::vec::IntoIter<(K, V)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<'a, K, V> IntoIterator for &'a SortedMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, (K, V)>, fn(&'a (K, V)) -> (&'a K, &'a V)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(k, v)| (k, v))
    }
}

/// An ordered set of distinct values.
#[derive(Debug, Clone, PartialEq)]
pub struct SortedSet<T> {
    items: Vec<T>,
}

impl<T> Default for SortedSet<T> {
    fn default() -> Self {
        SortedSet { items: Vec::new() }
    }
}

impl<T: Ord> SortedSet<T> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `value`; answers whether it was new.
    pub fn insert(&mut self, value: T) -> bool {
        match self.items.binary_search(&value) {
            Ok(_) => false,
            Err(i) => {
                self.items.insert(i, value);
                true
            }
        }
    }

    pub fn contains<Q: Ord + ?Sized>(&self, value: &Q) -> bool
    where
        T: Borrow<Q>,
    {
        self.items
            .binary_search_by(|t| t.borrow().cmp(value))
            .is_ok()
    }
}

impl<T> SortedSet<T> {
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.items.iter()
    }
}

impl<T: Ord> FromIterator<T> for SortedSet<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut set = SortedSet::new();
        for t in iter {
            set.insert(t);
        }
        set
    }
}

impl<T> IntoIterator for SortedSet<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

impl<'a, T> IntoIterator for &'a SortedSet<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::XorShift;
    use std::collections::{BTreeMap, BTreeSet};

    /// The same operations on a `SortedMap` and a `BTreeMap` give the same answers and the same order.
    #[test]
    fn behaves_as_a_btree_map() {
        let mut rng = XorShift::new(7);
        for _ in 0..200 {
            let mut ours: SortedMap<i64, i64> = SortedMap::new();
            let mut std_map: BTreeMap<i64, i64> = BTreeMap::new();
            for _ in 0..rng.range(0, 60) {
                let k = rng.range(-20, 20);
                let v = rng.range(0, 1000);
                match rng.range(0, 4) {
                    0 => assert_eq!(ours.remove(&k), std_map.remove(&k)),
                    1 => {
                        *ours.entry(k).or_insert_with(|| v) += 1;
                        *std_map.entry(k).or_insert_with(|| v) += 1;
                    }
                    _ => assert_eq!(ours.insert(k, v), std_map.insert(k, v)),
                }
                assert_eq!(ours.get(&k), std_map.get(&k));
                assert_eq!(ours.contains_key(&(k + 1)), std_map.contains_key(&(k + 1)));
            }
            assert_eq!(ours.len(), std_map.len());
            assert!(ours.iter().eq(std_map.iter()));
            let pairs: Vec<(i64, i64)> = std_map.clone().into_iter().rev().collect();
            let collected: SortedMap<i64, i64> = pairs.iter().copied().collect();
            assert!(collected.iter().eq(std_map.iter()));
        }
    }

    /// Built at once from pairs in any order (ascending, descending, shuffled, with repeats): the same map as
    /// `BTreeMap` collects.
    #[test]
    fn from_pairs_is_collect_in_any_order() {
        let mut rng = XorShift::new(13);
        for n in [0, 1, 2, 10, 1000] {
            for order in 0..3 {
                let mut pairs: Vec<(i64, i64)> =
                    (0..n).map(|i| (rng.range(0, n / 2 + 1), i)).collect();
                match order {
                    0 => pairs.sort(),
                    1 => pairs.sort_by(|a, b| b.0.cmp(&a.0)),
                    _ => {}
                }
                let want: BTreeMap<i64, i64> = pairs.iter().copied().collect();
                let ours = SortedMap::from_pairs(pairs.clone());
                assert!(ours.iter().eq(want.iter()), "n {n} order {order}");
                let collected: SortedMap<i64, i64> = pairs.into_iter().collect();
                assert!(collected.iter().eq(want.iter()));
            }
        }
    }

    #[test]
    fn later_pairs_win_when_collected() {
        let m: SortedMap<&str, i32> = [("b", 1), ("a", 2), ("b", 3)].into_iter().collect();
        assert_eq!(m.iter().collect::<Vec<_>>(), vec![(&"a", &2), (&"b", &3)]);
    }

    #[test]
    fn sets_behave_as_btree_sets() {
        let mut rng = XorShift::new(11);
        for _ in 0..100 {
            let mut ours = SortedSet::new();
            let mut std_set = BTreeSet::new();
            for _ in 0..rng.range(0, 50) {
                let v = rng.range(0, 30);
                assert_eq!(ours.insert(v), std_set.insert(v));
                assert_eq!(ours.contains(&(v + 1)), std_set.contains(&(v + 1)));
            }
            assert!(ours.iter().eq(std_set.iter()));
        }
    }
}
