//! Which records a day's index already holds, so that a record sent twice — a capture replayed
//! again, a batch resent because its acknowledgement was lost, the same line twice in one file —
//! is kept once, whichever batches the copies fall in.
//!
//! A record's id is 128 bits of its content hash, kept in the `_id` and `_seq` fast columns.
//! When a day is opened for writing, its ids are read into a sorted list (16 bytes a record,
//! for the days being written only), with a Bloom filter in front that answers "surely new" for almost
//! every record at the cost of a few memory reads; the rare "maybe" (1 in 100 of new records,
//! all of a replayed capture's) is settled by a binary search. Tantivy's delete-then-add would
//! do the same job with a term index on `_id`, a lookup per record per segment at every commit
//! and a queue of deletes in memory until then: measured at a million records, 27 % of
//! ingest's time and 1.1 GB more memory at its peak.

use std::collections::HashSet;

use fastbloom::BloomFilter;
use tantivy::Index;

use super::schema::Fields;

/// False positives of each filter: the share of new records that need the binary search.
const FALSE_POSITIVES: f64 = 0.01;

/// Records the first filter of a day is sized for; each next one holds twice the last.
const FIRST_CAPACITY: usize = 1 << 20;

pub struct Known {
    /// Filters of growing capacity; the last one takes new ids (a filter filled past its
    /// capacity would answer "maybe" ever more often).
    filters: Vec<BloomFilter>,
    capacity: usize,
    in_last: usize,
    /// Ids held, sorted: those of the day's segments at opening, and those taken since and
    /// merged in at each commit.
    held: Vec<u128>,
    /// Ids taken since the last commit: a second copy within one batch is found here.
    taken: HashSet<u128, foldhash::fast::RandomState>,
}

impl Known {
    /// The ids a day's committed segments hold (read from their `_id` and `_seq` columns).
    pub fn open(index: &Index, fields: &Fields) -> tantivy::Result<Self> {
        let (high, low) = (fields.schema.get_field_name(fields.id), fields.schema.get_field_name(fields.seq));
        let searcher = super::reader(index)?.searcher();
        let mut held = Vec::with_capacity(searcher.num_docs() as usize);
        for segment in searcher.segment_readers() {
            let (high, low) = (segment.fast_fields().u64(high)?, segment.fast_fields().u64(low)?);
            held.extend(
                segment
                    .doc_ids_alive()
                    .filter_map(|doc| Some(u128::from(high.first(doc)?) << 64 | u128::from(low.first(doc)?))),
            );
        }
        held.sort_unstable();
        let capacity = (2 * held.len()).max(FIRST_CAPACITY);
        let mut first = filter(capacity);
        held.iter().for_each(|id| {
            first.insert_hash(bloom_hash(*id));
        });
        Ok(Known { filters: vec![first], capacity, in_last: held.len(), held, taken: HashSet::default() })
    }

    /// Takes the record `id` unless a commit holds it or it was taken since; returns whether
    /// it was taken.
    pub fn take(&mut self, id: u128) -> bool {
        if self.in_last >= self.capacity {
            self.capacity *= 2;
            self.filters.push(filter(self.capacity));
            self.in_last = 0;
        }
        let hash = bloom_hash(id);
        let (last, older) = self.filters.split_last_mut().expect("one filter at least");
        // One visit to the last filter's block both asks and inserts (a held id inserted again
        // changes nothing: it answers "maybe" either way). Counted all the same, so that a
        // replay's ids do not fill the filter past its capacity unseen.
        let maybe = last.insert_hash(hash) | older.iter().any(|f| f.contains_hash(hash));
        self.in_last += 1;
        if maybe && self.held.binary_search(&id).is_ok() {
            return false;
        }
        self.taken.insert(id)
    }

    /// A commit holds the records taken so far.
    pub fn committed(&mut self) {
        let mut taken: Vec<u128> = self.taken.drain().collect();
        taken.sort_unstable();
        self.held.append(&mut taken);
        // Two sorted runs: the stable sort finds them and merges them, in linear time.
        self.held.sort();
    }
}

fn filter(capacity: usize) -> BloomFilter {
    BloomFilter::with_false_pos(FALSE_POSITIVES).expected_items(capacity)
}

/// The filter's hash of an id: the id is a hash already, uniform in every bit, so its two
/// halves folded together serve; hashing it again (the `bloomfilter` crate ran SipHash twice,
/// then a division per probe) was work for nothing.
fn bloom_hash(id: u128) -> u64 {
    (id >> 64) as u64 ^ id as u64
}
