//! Where the delimiters of an IIS log are: the spaces and line ends of a block, the `&`s of a
//! query, the `_`s of a `Log=` value. Found 64 bytes at a time as bit masks (SIMD compares from
//! the `wide` crate, no unsafe code) and walked with `trailing_zeros`.
//!
//! Hand-written on purpose: memchr is built for bytes that are rare, and each of its calls sets up
//! a vector search; a log line has a delimiter every twenty bytes or so, so one call per
//! delimiter cost more than the rest of the line's reading. A mask costs a few instructions per
//! 16 bytes whatever the number of matches.

use wide::u8x16;

/// The bits of the bytes of `bytes[at..]` (the first 64 of them, fewer at the end) equal to `a`
/// and to `b`: bit i for byte `at + i`. Read 16 bytes at a time; the last lane of a slice that
/// ends inside it is the slice's last 16 bytes, shifted (no copy).
#[inline(always)]
fn masks(bytes: &[u8], at: usize, a: u8, b: u8) -> (u64, u64) {
    let (va, vb) = (u8x16::splat(a), u8x16::splat(b));
    // A whole chunk (all but the end of a slice): four plain loads.
    if let Some(chunk) = bytes.get(at..at + 64) {
        let (mut ma, mut mb) = (0u64, 0u64);
        for (k, lane) in chunk.chunks_exact(16).enumerate() {
            let v = u8x16::from(<[u8; 16]>::try_from(lane).unwrap_or_default());
            ma |= u64::from(v.simd_eq(va).to_bitmask() as u16) << (16 * k);
            mb |= u64::from(v.simd_eq(vb).to_bitmask() as u16) << (16 * k);
        }
        return (ma, mb);
    }
    let len = bytes.len();
    let (mut ma, mut mb) = (0u64, 0u64);
    for k in 0..4 {
        let start = at + 16 * k;
        if start >= len {
            break;
        }
        let (lane, skip) = match bytes.get(start..start + 16) {
            Some(l) => (l, 0),
            None if len >= 16 => (&bytes[len - 16..], start + 16 - len),
            None => {
                // A slice shorter than a lane: byte by byte.
                for (i, &c) in bytes[start..].iter().enumerate() {
                    ma |= u64::from(c == a) << (16 * k + i);
                    mb |= u64::from(c == b) << (16 * k + i);
                }
                break;
            }
        };
        let v = u8x16::from(<[u8; 16]>::try_from(lane).unwrap_or_default());
        let bits = |m: u32| u64::from((m as u16) >> skip) << (16 * k);
        ma |= bits(v.simd_eq(va).to_bitmask());
        mb |= bits(v.simd_eq(vb).to_bitmask());
    }
    (ma, mb)
}

/// The positions of `byte` in `bytes`, in order.
pub fn positions(bytes: &[u8], byte: u8) -> Positions<'_> {
    Positions {
        bytes,
        byte,
        base: 0,
        bits: masks(bytes, 0, byte, byte).0,
    }
}

pub struct Positions<'a> {
    bytes: &'a [u8],
    byte: u8,
    /// Where the chunk of `bits` starts.
    base: usize,
    /// The matches of the chunk not yet given.
    bits: u64,
}

impl Iterator for Positions<'_> {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        while self.bits == 0 {
            self.base += 64;
            if self.base >= self.bytes.len() {
                return None;
            }
            self.bits = masks(self.bytes, self.base, self.byte, self.byte).0;
        }
        let at = self.base + self.bits.trailing_zeros() as usize;
        self.bits &= self.bits - 1;
        Some(at)
    }
}

/// The pieces of `bytes` between its `byte`s, as ranges, in order: empty ones too, and the one
/// after the last `byte` (`a&&b` is `a`, ``, `b`). Walked by hand: a chain of adapters cost more
/// than reading the pieces.
pub fn pieces(bytes: &[u8], byte: u8) -> Pieces<'_> {
    Pieces {
        ends: positions(bytes, byte),
        len: bytes.len(),
        start: 0,
    }
}

pub struct Pieces<'a> {
    ends: Positions<'a>,
    len: usize,
    /// Where the next piece starts (beyond the end: none left).
    start: usize,
}

impl Iterator for Pieces<'_> {
    type Item = std::ops::Range<usize>;

    #[inline]
    fn next(&mut self) -> Option<std::ops::Range<usize>> {
        if self.start > self.len {
            return None;
        }
        let end = self.ends.next().unwrap_or(self.len);
        let piece = self.start..end;
        self.start = end + 1;
        Some(piece)
    }
}

/// The lines of a block (ended by `\n`; the last one may have no line break), each with where
/// its spaces are, one at a time as the caller asks ([`Lines::next_line`]): a caller may keep
/// several lines' spaces at once.
pub struct Lines<'a, const N: usize> {
    block: &'a [u8],
    /// Where the chunk of `sp` and `nl` starts.
    base: usize,
    /// The spaces and line ends of the chunk not yet given.
    sp: u64,
    nl: u64,
    /// Where the next line starts.
    start: usize,
}

impl<'a, const N: usize> Lines<'a, N> {
    pub fn new(block: &'a [u8]) -> Lines<'a, N> {
        let (sp, nl) = masks(block, 0, b' ', b'\n');
        Lines {
            block,
            base: 0,
            sp,
            nl,
            start: 0,
        }
    }

    /// The next line: where it is in the block (without its `\n`) and how many spaces it has in
    /// all; the offsets in the line of its first `N` spaces are written to `spaces`.
    #[inline]
    pub fn next_line(&mut self, spaces: &mut [u32; N]) -> Option<(std::ops::Range<usize>, usize)> {
        let mut count = 0usize;
        while self.base < self.block.len() {
            // Spaces before the chunk's next line end belong to this line; then the rest to the
            // next.
            let next_nl = if self.nl == 0 { 64 } else { self.nl.trailing_zeros() };
            let mut before = if next_nl == 64 {
                self.sp
            } else {
                self.sp & ((1u64 << next_nl) - 1)
            };
            self.sp &= !before;
            while before != 0 {
                let at = self.base + before.trailing_zeros() as usize;
                if let Some(s) = spaces.get_mut(count) {
                    *s = (at - self.start) as u32;
                }
                count += 1;
                before &= before - 1;
            }
            if next_nl < 64 {
                let end = self.base + next_nl as usize;
                let line = self.start..end;
                self.start = end + 1;
                self.nl &= self.nl - 1;
                return Some((line, count));
            }
            self.base += 64;
            (self.sp, self.nl) = masks(self.block, self.base, b' ', b'\n');
        }
        if self.start < self.block.len() {
            let line = self.start..self.block.len();
            self.start = self.block.len();
            return Some((line, count));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_those_of_memchr_at_every_length_and_offset() {
        let text: Vec<u8> = (0..300u32)
            .map(|i| if i % 7 == 0 || i % 11 == 3 { b'&' } else { b'a' })
            .collect();
        for from in 0..70 {
            for to in from..text.len() {
                let s = &text[from..to];
                let want: Vec<usize> = memchr::memchr_iter(b'&', s).collect();
                assert_eq!(positions(s, b'&').collect::<Vec<_>>(), want, "{from}..{to}");
            }
        }
        assert_eq!(positions(b"", b'&').count(), 0);
    }

    #[test]
    fn pieces_are_those_of_split_at_every_length_and_offset() {
        let text: Vec<u8> = (0..300u32)
            .map(|i| {
                if i % 7 == 0 || i % 11 == 3 || i % 13 == 4 {
                    b'&'
                } else {
                    b'a'
                }
            })
            .collect();
        for from in 0..70 {
            for to in from..text.len() {
                let s = &text[from..to];
                let want: Vec<&[u8]> = s.split(|&c| c == b'&').collect();
                let got: Vec<&[u8]> = pieces(s, b'&').map(|r| &s[r]).collect();
                assert_eq!(got, want, "{from}..{to}");
            }
        }
    }

    #[test]
    fn lines_and_their_spaces_are_found_across_chunks() {
        let mut block = Vec::new();
        let mut want = Vec::new();
        for i in 0..200usize {
            // Lines of every length from 0 to 199, spaces at varied places, some over the limit.
            let line: Vec<u8> = (0..i).map(|j| if (j * 7 + i) % 5 == 0 { b' ' } else { b'x' }).collect();
            want.push(line.clone());
            block.extend_from_slice(&line);
            block.push(b'\n');
        }
        block.extend_from_slice(b"last line");
        want.push(b"last line".to_vec());
        let mut got = Vec::new();
        let mut lines = Lines::<8>::new(&block);
        let mut spaces = [0u32; 8];
        while let Some((range, count)) = lines.next_line(&mut spaces) {
            let line = &block[range];
            let all: Vec<u32> = memchr::memchr_iter(b' ', line).map(|i| i as u32).collect();
            assert_eq!(count, all.len());
            assert_eq!(&spaces[..count.min(8)], &all[..all.len().min(8)]);
            got.push(line.to_vec());
        }
        assert_eq!(got, want);
        let mut lines = Lines::<8>::new(b"a b\n");
        assert!(lines.next_line(&mut spaces).is_some());
        assert!(
            lines.next_line(&mut spaces).is_none(),
            "a line break at the end starts no empty line"
        );
        assert!(Lines::<8>::new(b"").next_line(&mut spaces).is_none());
    }
}
