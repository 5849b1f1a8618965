//! [`KeyMap`]: per-key data of one rule, laid out for a million keys.
//!
//! A rule's windows are the one structure that grows with the number of distinct clients, and
//! at a million clients it is what peak memory is made of. A `HashMap<Key, V>` stores its
//! entries in the table itself: at most 7/8 full, growing by doubling, and since hashing
//! scatters the entries over every page, the empty half is resident too. At exactly 1 M keys
//! a hashbrown table has 2²¹ slots (48 % full), so every key cost 2.1 entries.
//!
//! Here the entries are a dense `Vec<(Key, V)>` and the hash table holds only a `u32` index
//! per slot (5 bytes with its control byte): the slack of the table costs ~10 bytes per key
//! instead of ~60, and the vector's own slack (capacity beyond its length) is never written,
//! so never resident. Iteration follows the vector (insertion order, then the order
//! [`KeyMap::retain`] keeps): deterministic, and nothing downstream depends on it beyond that
//! (the state is written sorted, reports sort with total orders).
//!
//! Keys are unique. Indices are `u32`: a map holds fewer than 2³² keys (each costs more than
//! 40 bytes, so that many would need more than 170 GB).

use crate::key::Key;
use hashbrown::HashTable;
use std::hash::BuildHasher;

/// A map from [`Key`] to `V` (see the module docs).
#[derive(Clone)]
pub struct KeyMap<V> {
    index: HashTable<u32>,
    entries: Vec<(Key, V)>,
}

fn hash(k: &Key) -> u64 {
    rustc_hash::FxBuildHasher.hash_one(k)
}

/// The table's rehash function: the hash of the key an index points at.
fn rehash<V>(entries: &[(Key, V)]) -> impl Fn(&u32) -> u64 + '_ {
    move |&i| hash(&entries[i as usize].0)
}

fn index_of(n: usize) -> u32 {
    u32::try_from(n).expect("fewer than 2^32 keys (see the module docs)")
}

impl<V> Default for KeyMap<V> {
    fn default() -> Self {
        KeyMap {
            index: HashTable::new(),
            entries: Vec::new(),
        }
    }
}

impl<V> KeyMap<V> {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Room for `additional` more keys without growing (the vector's room is not resident
    /// until written; the index's is).
    pub fn reserve(&mut self, additional: usize) {
        let KeyMap { index, entries } = self;
        entries.reserve(additional);
        index.reserve(additional, rehash(entries));
    }

    /// Keys held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// No key held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn find(&self, key: &Key) -> Option<usize> {
        let entries = &self.entries;
        self.index
            .find(hash(key), |&i| entries[i as usize].0 == *key)
            .map(|&i| i as usize)
    }

    /// The value of `key`.
    pub fn get(&self, key: &Key) -> Option<&V> {
        self.find(key).map(|i| &self.entries[i].1)
    }

    /// The value of `key`, to change it.
    pub fn get_mut(&mut self, key: &Key) -> Option<&mut V> {
        self.find(key).map(|i| &mut self.entries[i].1)
    }

    /// Whether `key` is held.
    pub fn contains_key(&self, key: &Key) -> bool {
        self.find(key).is_some()
    }

    /// The value of `key`, inserted from `make` when absent (one hash lookup either way).
    pub fn get_or_insert_with(&mut self, key: Key, make: impl FnOnce() -> V) -> &mut V {
        let KeyMap { index, entries } = self;
        let h = hash(&key);
        let i = match index.find(h, |&i| entries[i as usize].0 == key) {
            Some(&i) => i as usize,
            None => {
                let i = entries.len();
                index.insert_unique(h, index_of(i), rehash(entries));
                entries.push((key, make()));
                i
            }
        };
        &mut entries[i].1
    }

    /// Set the value of `key`; returns the value it replaced.
    pub fn insert(&mut self, key: Key, value: V) -> Option<V> {
        let mut value = Some(value);
        let slot = self.get_or_insert_with(key, || value.take().expect("taken once"));
        value.map(|v| std::mem::replace(slot, v))
    }

    /// Every key and value, in the map's order (see the module docs).
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&Key, &V)> + '_ {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// Every key and value, values changeable.
    pub fn iter_mut(&mut self) -> impl ExactSizeIterator<Item = (&Key, &mut V)> + '_ {
        self.entries.iter_mut().map(|(k, v)| (&*k, v))
    }

    /// Every key.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &Key> + '_ {
        self.entries.iter().map(|(k, _)| k)
    }

    /// Every value.
    pub fn values(&self) -> impl ExactSizeIterator<Item = &V> + '_ {
        self.entries.iter().map(|(_, v)| v)
    }

    /// Keep the entries `keep` says yes to (in their order), and give back the memory of
    /// those dropped when that is most of it (a state shrinks as its windows slide).
    pub fn retain(&mut self, mut keep: impl FnMut(&Key, &mut V) -> bool) {
        let before = self.entries.len();
        self.entries.retain_mut(|(k, v)| keep(k, v));
        if self.entries.len() == before {
            return;
        }
        if self.entries.len() < self.entries.capacity() / 4 {
            self.entries.shrink_to_fit();
        }
        self.reindex();
    }

    /// Build the index again over `entries` (after they moved).
    fn reindex(&mut self) {
        let KeyMap { index, entries } = self;
        index.clear();
        if entries.len() < index.capacity() / 4 {
            *index = HashTable::with_capacity(entries.len());
        }
        for (i, (k, _)) in entries.iter().enumerate() {
            index.insert_unique(hash(k), index_of(i), rehash(entries));
        }
    }

    /// The entries, without the index (its memory is freed at once): for a caller that moves
    /// every entry elsewhere and wants to free the vector as it goes (see `engine::absorb`).
    pub fn into_entries(self) -> Vec<(Key, V)> {
        self.entries
    }

    /// A map of `entries`, taking the vector as it is (no copy): what loading a state needs.
    /// A key given twice keeps its last value, as collecting into a `HashMap` does.
    pub fn from_entries(entries: Vec<(Key, V)>) -> Self {
        let mut map = KeyMap {
            index: HashTable::with_capacity(entries.len()),
            entries,
        };
        let KeyMap { index, entries } = &mut map;
        let mut duplicate = false;
        for i in 0..entries.len() {
            let k = entries[i].0;
            let h = hash(&k);
            match index.find_mut(h, |&j| entries[j as usize].0 == k) {
                // Point at the later entry; the earlier one is dropped below.
                Some(j) => {
                    duplicate = true;
                    *j = index_of(i);
                }
                None => {
                    index.insert_unique(h, index_of(i), rehash(entries));
                }
            }
        }
        if duplicate {
            // Only a hand-made (or hostile) state repeats a key: keep the entries the index
            // points at, then index them again.
            let mut live = vec![false; map.entries.len()];
            for &i in map.index.iter() {
                live[i as usize] = true;
            }
            let mut n = 0;
            map.entries.retain(|_| {
                n += 1;
                live[n - 1]
            });
            map.reindex();
        }
        map
    }
}

impl<V> FromIterator<(Key, V)> for KeyMap<V> {
    fn from_iter<I: IntoIterator<Item = (Key, V)>>(iter: I) -> Self {
        let mut m = KeyMap::new();
        for (k, v) in iter {
            m.insert(k, v);
        }
        m
    }
}

impl<'a, V> IntoIterator for &'a KeyMap<V> {
    type Item = (&'a Key, &'a V);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, (Key, V)>, fn(&(Key, V)) -> (&Key, &V)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(k, v)| (k, v))
    }
}

/// Equal when they hold the same keys with equal values, in any order (as for a `HashMap`).
impl<V: PartialEq> PartialEq for KeyMap<V> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|(k, v)| other.get(k) == Some(v))
    }
}

impl<V: Eq> Eq for KeyMap<V> {}

impl<V: std::fmt::Debug> std::fmt::Debug for KeyMap<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    proptest! {
        /// Every operation agrees with a `HashMap` doing the same.
        #[test]
        fn behaves_as_a_hash_map(ops in prop::collection::vec((0u8..4, 0u64..40, any::<u32>()), 0..300)) {
            let mut m: KeyMap<u32> = KeyMap::new();
            let mut model: HashMap<Key, u32> = HashMap::new();
            for (op, k, v) in ops {
                let key = Key(k % 3, k);
                match op {
                    0 => prop_assert_eq!(m.insert(key, v), model.insert(key, v)),
                    1 => {
                        *m.get_or_insert_with(key, || v) += 1;
                        *model.entry(key).or_insert(v) += 1;
                    }
                    2 => {
                        m.retain(|k, x| (k.1 + u64::from(*x)) % 3 != 0);
                        model.retain(|k, x| (k.1 + u64::from(*x)) % 3 != 0);
                    }
                    _ => prop_assert_eq!(m.get(&key), model.get(&key)),
                }
                prop_assert_eq!(m.len(), model.len());
            }
            for (k, v) in &model {
                prop_assert_eq!(m.get(k), Some(v));
            }
            let back: KeyMap<u32> = KeyMap::from_entries(m.clone().into_entries());
            prop_assert_eq!(&back, &m);
        }
    }

    #[test]
    fn from_entries_keeps_the_last_value_of_a_repeated_key() {
        let e = vec![(Key(0, 1), 1), (Key(0, 2), 2), (Key(0, 1), 3)];
        let m = KeyMap::from_entries(e.clone());
        let want: KeyMap<i32> = e.into_iter().collect();
        assert_eq!(m, want);
        assert_eq!(m.len(), 2);
        assert_eq!(m.get(&Key(0, 1)), Some(&3));
        assert_eq!(m.get(&Key(0, 2)), Some(&2));
    }

    #[test]
    fn equality_ignores_order() {
        let a: KeyMap<u8> = [(Key(0, 1), 1), (Key(0, 2), 2)].into_iter().collect();
        let b: KeyMap<u8> = [(Key(0, 2), 2), (Key(0, 1), 1)].into_iter().collect();
        assert_eq!(a, b);
        let c: KeyMap<u8> = [(Key(0, 2), 2), (Key(0, 1), 9)].into_iter().collect();
        assert_ne!(a, c);
    }
}
