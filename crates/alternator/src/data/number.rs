//! Reading numbers: leading digits eight bytes at a time (SWAR), plain decimals to the
//! correctly rounded `f32`, timestamps.

/// 10ⁿ for n = 0..=8.
pub(super) const POW10_U64: [u64; 9] =
    [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000];

/// The number `n` of leading ASCII digits of the eight bytes of `w` (little-endian: the first
/// byte is the lowest) and their value, without a branch per byte.
#[inline(always)]
pub(super) fn swar_digits(w: u64) -> (usize, u64) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    // A byte is a digit iff its high nibble is 3 and stays 3 after adding 6. A carry out of a
    // byte (only from 0xFA..=0xFF, itself not a digit) can only disturb later bytes, which do
    // not count once an earlier one is not a digit.
    let hi = w & (0xF0 * ONES);
    let hi6 = w.wrapping_add(0x06 * ONES) & (0xF0 * ONES);
    let not_digit = (hi ^ (0x30 * ONES)) | (hi6 ^ (0x30 * ONES));
    let n = (not_digit.trailing_zeros() / 8) as usize;
    if n == 0 {
        return (0, 0);
    }
    // The n digits moved to the top bytes (zeros below them are leading zero digits), then
    // combined pairwise: 10·a + b, 100·ab + cd, 10⁴·abcd + efgh.
    let d = (w << (8 * (8 - n))) & (0x0F * ONES);
    let d = (d.wrapping_mul(10 << 8 | 1) >> 8) & 0x00FF_00FF_00FF_00FF;
    let d = (d.wrapping_mul(100 << 16 | 1) >> 16) & 0x0000_FFFF_0000_FFFF;
    let v = d.wrapping_mul(10_000 << 32 | 1) >> 32;
    (n, v)
}

/// The number of leading ASCII digits of the eight bytes of `w` (the first half of
/// [`swar_digits`], for a field that is skipped, not read).
#[inline(always)]
pub(super) fn swar_digit_count(w: u64) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let hi = w & (0xF0 * ONES);
    let hi6 = w.wrapping_add(0x06 * ONES) & (0xF0 * ONES);
    let not_digit = (hi ^ (0x30 * ONES)) | (hi6 ^ (0x30 * ONES));
    (not_digit.trailing_zeros() / 8) as usize
}

/// Exact powers of ten: every one up to 10^22 is an `f64` without rounding.
const POW10: [f64; 16] =
    [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/// `s.parse::<f32>()`, bit for bit, with a fast path for plain decimals like `4`, `3.5`,
/// `-0.722`.
pub(super) fn parse_f32(s: &str) -> Result<f32, std::num::ParseFloatError> {
    match parse_f32_fast(s.as_bytes()) {
        Some(v) => Ok(v),
        None => s.parse(),
    }
}

/// `[-]digits[.digits]` with at most 15 digits, else `None` (left to the standard parser).
///
/// Why this is the correctly rounded `f32`, as `str::parse` gives: the digits without the
/// dot form an integer `m < 10^15 < 2^53`, and `10^f` (`f` ≤ 15 fraction digits) is exact
/// too, so `m / 10^f` is one IEEE division: the `f64` nearest to the decimal value `q`.
/// Rounding that `f64` to `f32` rounds `q` itself unless the `f64` lands exactly halfway
/// between two `f32`s (f32 midpoints are `f64`s, and rounding to `f64` never crosses one:
/// `q` and its `f64` are on the same side of every midpoint, or the `f64` is the midpoint).
/// The halfway case — the 29 bits an `f32` does not keep are exactly `1 << 28` — is left to
/// the standard parser. Values here lie between 10^-15 and 10^15, far from the `f32`
/// subnormal and overflow ranges, so those 29 bits are the right ones to look at.
pub(super) fn parse_f32_fast(b: &[u8]) -> Option<f32> {
    let (neg, digits) = match b.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, b),
    };
    let mut m = 0u64;
    let mut ndigits = 0usize;
    let mut frac: Option<usize> = None;
    for &c in digits {
        match c {
            b'0'..=b'9' => {
                m = m * 10 + u64::from(c - b'0');
                ndigits += 1;
                if ndigits > 15 {
                    return None;
                }
                if let Some(f) = &mut frac {
                    *f += 1;
                }
            }
            // A dot after at least one digit (`.5` is left to the standard parser).
            b'.' if frac.is_none() && ndigits > 0 => frac = Some(0),
            _ => return None,
        }
    }
    if ndigits == 0 {
        return None;
    }
    let v = match frac {
        // An integer: `m` is exact as an `f64`, so one rounding to `f32`.
        None | Some(0) => m as f64 as f32,
        Some(f) => {
            let x = m as f64 / *POW10.get(f)?;
            if x.to_bits() & ((1 << 29) - 1) == 1 << 28 {
                return None;
            }
            x as f32
        }
    };
    Some(if neg { -v } else { v })
}

/// A timestamp as an integer (seconds or any unit), or a float truncated to an integer.
pub(super) fn parse_time(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    // Fast path: up to 18 plain digits cannot overflow an i64 (what `parse::<i64>` gives).
    if !b.is_empty() && b.len() <= 18 && b.iter().all(u8::is_ascii_digit) {
        return Some(b.iter().fold(0i64, |acc, &d| acc * 10 + i64::from(d - b'0')));
    }
    s.parse::<i64>()
        .ok()
        .or_else(|| s.parse::<f64>().ok().filter(|v| v.is_finite()).map(|v| v as i64))
}
