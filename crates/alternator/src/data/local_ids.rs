//! Chunk-local ids: small integer ids coded as themselves, other ids in the chunk's own id
//! map, and their merge into the global order of first appearance.

use crate::ids::IdMap;

/// Ids that are plain decimal integers below this use a direct table instead of a hash.
pub(super) const DIRECT_LIMIT: usize = 1 << 22;

/// The value of a canonical decimal id below [`DIRECT_LIMIT`]: 1 to 7 digits, no leading
/// zero (so that distinct strings never share a value).
fn small_id(b: &[u8]) -> Option<usize> {
    if b.is_empty() || b.len() > 7 || (b.len() > 1 && b.first() == Some(&b'0')) {
        return None;
    }
    let mut n = 0usize;
    for &c in b {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n = n * 10 + usize::from(d);
    }
    (n < DIRECT_LIMIT).then_some(n)
}

/// `n` in decimal, written into `buf` (room for [`DIRECT_LIMIT`]'s 7 digits).
fn decimal(mut n: usize, buf: &mut [u8; 8]) -> &str {
    let mut k = buf.len();
    loop {
        k -= 1;
        buf[k] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 || k == 0 {
            break;
        }
    }
    std::str::from_utf8(&buf[k..]).unwrap_or_default()
}

/// One chunk's ids, as codes written to the output arrays until the merge turns them into
/// global indices. A canonical small integer id (see [`small_id`]) is its own code, and is
/// remembered in a bitset (a few KiB, where a table of indices would not stay in cache);
/// another id is [`STR_TAG`] plus its index in a chunk-local [`IdMap`].
#[derive(Default)]
pub(super) struct LocalIds {
    /// Ids in order of first appearance in the chunk.
    order: Vec<LocalId>,
    /// Bit `n` is set once integer id `n` is seen.
    seen: Vec<u64>,
    strs: IdMap,
}

/// Marks codes of ids that are not small integers.
const STR_TAG: u32 = 1 << 31;

#[derive(Clone, Copy)]
enum LocalId {
    Num(u32),
    Str(u32),
}

/// `table[n]`, growing the table (zero-filled) to hold `n`.
fn direct_slot(table: &mut Vec<u32>, n: usize) -> Option<&mut u32> {
    if n >= table.len() {
        table.resize((n + 1).next_power_of_two().min(DIRECT_LIMIT), 0);
    }
    table.get_mut(n)
}

impl LocalIds {
    /// The code of the canonical small integer id `n` (see [`small_id`]).
    #[inline(always)]
    pub(super) fn code_small(&mut self, n: usize) -> u32 {
        if self.seen.get(n / 64).is_none_or(|w| w & (1 << (n % 64)) == 0) {
            self.add_small(n);
        }
        n as u32
    }

    #[inline(never)]
    fn add_small(&mut self, n: usize) {
        if n / 64 >= self.seen.len() {
            self.seen.resize((n / 64 + 1).next_power_of_two(), 0);
        }
        if let Some(w) = self.seen.get_mut(n / 64) {
            *w |= 1 << (n % 64);
        }
        self.order.push(LocalId::Num(n as u32));
    }

    /// The code of `id`; `digits` is its value when it is all digits (a hint that spares
    /// reading them again). `None` past 2^31 distinct other ids in one chunk.
    pub(super) fn code(&mut self, id: &str, digits: Option<u64>) -> Option<u32> {
        let small = match digits {
            Some(v) => {
                let b = id.as_bytes();
                let canonical = b.len() <= 7 && (b.len() == 1 || b.first() != Some(&b'0'));
                (canonical && v < DIRECT_LIMIT as u64).then_some(v as usize)
            }
            None => small_id(id.as_bytes()),
        };
        if let Some(n) = small {
            return Some(self.code_small(n));
        }
        let known = self.strs.len();
        let j = self.strs.get_or_insert(id);
        if j as usize == known {
            self.order.push(LocalId::Str(j));
        }
        (j < STR_TAG).then_some(STR_TAG | j)
    }

    /// Adds the chunk's ids that are new to `global`, in order of first appearance; `table`
    /// maps integer ids to their global index + 1. Returns the global index of each
    /// chunk-local other id.
    pub(super) fn globalize(&self, global: &mut IdMap, table: &mut Vec<u32>) -> Vec<u32> {
        let mut buf = [0u8; 8];
        let mut str_global = vec![0u32; self.strs.len()];
        for &id in &self.order {
            match id {
                LocalId::Num(n) => {
                    let n = n as usize;
                    if table.get(n).is_none_or(|&v| v == 0) {
                        let g = global.get_or_insert(decimal(n, &mut buf));
                        if let Some(slot) = direct_slot(table, n) {
                            *slot = g + 1;
                        }
                    }
                }
                LocalId::Str(j) => {
                    let g = global.get_or_insert(self.strs.id(j).unwrap_or_default());
                    if let Some(slot) = str_global.get_mut(j as usize) {
                        *slot = g;
                    }
                }
            }
        }
        str_global
    }
}

/// The global index of a chunk's id code (see [`LocalIds`]).
#[inline(always)]
pub(super) fn global_index(code: u32, table: &[u32], str_global: &[u32]) -> u32 {
    let g = if code & STR_TAG != 0 {
        str_global.get((code & !STR_TAG) as usize).copied()
    } else {
        table.get(code as usize).map(|v| v.saturating_sub(1))
    };
    g.unwrap_or_default()
}
