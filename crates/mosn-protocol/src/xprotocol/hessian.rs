//! Just enough of Hessian 2.0 serialization for the proxy to read a dubbo request: strings,
//! and skipping any other value to reach the attachments map that follows the arguments. Every
//! read is bounds-checked and nesting is limited, so any input ends in a value or `None`.

/// How deep lists, maps and objects may nest before the input is refused.
const MAX_DEPTH: usize = 32;

pub struct Reader<'a> {
    bytes: &'a [u8],
    /// The field count of each class definition seen, for objects that refer to them.
    classes: Vec<usize>,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader {
            bytes,
            classes: Vec::new(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.first().copied()
    }

    fn byte(&mut self) -> Option<u8> {
        let (first, rest) = self.bytes.split_first()?;
        self.bytes = rest;
        Some(*first)
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (taken, rest) = self.bytes.split_at_checked(n)?;
        self.bytes = rest;
        Some(taken)
    }

    fn u16(&mut self) -> Option<usize> {
        let b = self.take(2)?;
        Some(usize::from(u16::from_be_bytes([b[0], b[1]])))
    }

    /// A string, or `None` when the next value is not one (or null, read as empty).
    pub fn string(&mut self) -> Option<String> {
        let mut text = String::new();
        loop {
            let tag = self.byte()?;
            let (chars, last) = match tag {
                b'N' => return Some(text),
                0x00..=0x1f => (usize::from(tag), true),
                0x30..=0x33 => (
                    usize::from(tag - 0x30) << 8 | usize::from(self.byte()?),
                    true,
                ),
                b'S' => (self.u16()?, true),
                b'R' => (self.u16()?, false),
                _ => return None,
            };
            let bytes = self.take_chars(chars)?;
            text.push_str(&String::from_utf8_lossy(bytes));
            if last {
                return Some(text);
            }
        }
    }

    /// The bytes of `chars` UTF-16 units of UTF-8 text (a 4-byte sequence is two units, as
    /// Java counts it).
    fn take_chars(&mut self, chars: usize) -> Option<&'a [u8]> {
        let mut len = 0;
        let mut units = 0;
        while units < chars {
            let lead = *self.bytes.get(len)?;
            let (width, count) = match lead {
                0x00..=0x7f => (1, 1),
                0xc0..=0xdf => (2, 1),
                0xe0..=0xef => (3, 1),
                0xf0..=0xf7 => (4, 2),
                _ => return None,
            };
            len += width;
            units += count;
        }
        self.take(len)
    }

    /// An int in any of its encodings.
    fn int(&mut self) -> Option<i64> {
        let tag = self.byte()?;
        let value = match tag {
            0x80..=0xbf => i64::from(tag) - 0x90,
            0xc0..=0xcf => ((i64::from(tag) - 0xc8) << 8) + i64::from(self.byte()?),
            0xd0..=0xd7 => {
                let b = self.take(2)?;
                ((i64::from(tag) - 0xd4) << 16) + (i64::from(b[0]) << 8) + i64::from(b[1])
            }
            b'I' => {
                let b = self.take(4)?;
                i64::from(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
            }
            _ => return None,
        };
        Some(value)
    }

    /// A count read as an int, refused when negative or larger than what is left to read (each
    /// counted item takes at least a byte).
    fn count(&mut self) -> Option<usize> {
        let n = usize::try_from(self.int()?).ok()?;
        (n <= self.bytes.len()).then_some(n)
    }

    /// A type name (a string) or a reference to an earlier one (an int).
    fn skip_type(&mut self) -> Option<()> {
        match self.peek()? {
            0x00..=0x1f | 0x30..=0x33 | b'S' | b'R' => self.string().map(drop),
            _ => self.int().map(drop),
        }
    }

    /// Skips one value of any type.
    pub fn skip(&mut self) -> Option<()> {
        self.skip_at(0)
    }

    fn skip_at(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        let tag = self.peek()?;
        match tag {
            b'N' | b'T' | b'F' | 0x5b | 0x5c => self.take(1).map(drop),
            0x80..=0xbf | 0xc0..=0xcf | 0xd0..=0xd7 | b'I' => self.int().map(drop),
            0xd8..=0xef => self.take(1).map(drop),
            0xf0..=0xff | 0x5d => self.take(2).map(drop),
            0x38..=0x3f | 0x5e => self.take(3).map(drop),
            b'Y' | 0x5f | 0x4b => self.take(5).map(drop),
            b'L' | b'D' | b'J' => self.take(9).map(drop),
            0x00..=0x1f | 0x30..=0x33 | b'S' | b'R' => self.string().map(drop),
            0x20..=0x2f => self.take(1 + usize::from(tag - 0x20)).map(drop),
            0x34..=0x37 => {
                self.byte()?;
                let len = usize::from(tag - 0x34) << 8 | usize::from(self.byte()?);
                self.take(len).map(drop)
            }
            b'A' | b'B' => {
                let mut last = false;
                while !last {
                    last = self.byte()? == b'B';
                    let len = self.u16()?;
                    self.take(len)?;
                }
                Some(())
            }
            b'U' | b'M' => {
                self.byte()?;
                self.skip_type()?;
                self.skip_until_end(depth)
            }
            b'W' | b'H' => {
                self.byte()?;
                self.skip_until_end(depth)
            }
            b'V' => {
                self.byte()?;
                self.skip_type()?;
                let n = self.count()?;
                self.skip_values(n, depth)
            }
            b'X' => {
                self.byte()?;
                let n = self.count()?;
                self.skip_values(n, depth)
            }
            0x70..=0x77 => {
                self.byte()?;
                self.skip_type()?;
                self.skip_values(usize::from(tag - 0x70), depth)
            }
            0x78..=0x7f => {
                self.byte()?;
                self.skip_values(usize::from(tag - 0x78), depth)
            }
            b'C' => {
                self.byte()?;
                self.string()?;
                let fields = self.count()?;
                for _ in 0..fields {
                    self.string()?;
                }
                self.classes.push(fields);
                // A definition is followed by the value that uses it.
                self.skip_at(depth + 1)
            }
            b'O' => {
                self.byte()?;
                let class = usize::try_from(self.int()?).ok()?;
                self.skip_object(class, depth)
            }
            0x60..=0x6f => {
                self.byte()?;
                self.skip_object(usize::from(tag - 0x60), depth)
            }
            b'Q' => {
                self.byte()?;
                self.int().map(drop)
            }
            _ => None,
        }
    }

    fn skip_values(&mut self, n: usize, depth: usize) -> Option<()> {
        (0..n).try_for_each(|_| self.skip_at(depth + 1))
    }

    fn skip_object(&mut self, class: usize, depth: usize) -> Option<()> {
        let fields = *self.classes.get(class)?;
        self.skip_values(fields, depth)
    }

    /// Values up to and including the end marker `Z`.
    fn skip_until_end(&mut self, depth: usize) -> Option<()> {
        loop {
            if self.peek()? == b'Z' {
                self.byte();
                return Some(());
            }
            self.skip_at(depth + 1)?;
        }
    }

    /// A map whose string keys and values are kept (other entries are skipped), as dubbo's
    /// attachments are.
    pub fn string_map(&mut self) -> Option<Vec<(String, String)>> {
        match self.byte()? {
            b'H' => {}
            b'M' => self.skip_type()?,
            b'N' => return Some(Vec::new()),
            _ => return None,
        }
        let mut entries = Vec::new();
        loop {
            if self.peek()? == b'Z' {
                return Some(entries);
            }
            let key = self.string_or_skip()?;
            let value = self.string_or_skip()?;
            if let (Some(key), Some(value)) = (key, value) {
                entries.push((key, value));
            }
        }
    }

    /// The next value as text when it is a string, a number or a boolean (a `timeout`
    /// attachment is an int); `Some(None)` after skipping any other.
    fn string_or_skip(&mut self) -> Option<Option<String>> {
        let text = match self.peek()? {
            0x00..=0x1f | 0x30..=0x33 | b'S' | b'R' => self.string()?,
            0x80..=0xd7 | b'I' => self.int()?.to_string(),
            0xd8..=0xff | 0x38..=0x3f | b'Y' | b'L' => self.long()?.to_string(),
            b'T' | b'F' => (self.byte()? == b'T').to_string(),
            _ => return self.skip().map(|()| None),
        };
        Some(Some(text))
    }

    /// A long in any of its encodings.
    fn long(&mut self) -> Option<i64> {
        let tag = self.byte()?;
        let value = match tag {
            0xd8..=0xef => i64::from(tag) - 0xe0,
            0xf0..=0xff => ((i64::from(tag) - 0xf8) << 8) + i64::from(self.byte()?),
            0x38..=0x3f => {
                let b = self.take(2)?;
                ((i64::from(tag) - 0x3c) << 16) + (i64::from(b[0]) << 8) + i64::from(b[1])
            }
            b'Y' => {
                let b = self.take(4)?;
                i64::from(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
            }
            b'L' => i64::from_be_bytes(self.take(8)?.try_into().ok()?),
            _ => return None,
        };
        Some(value)
    }
}

/// Writes `text` as a Hessian 2 string (chunked past 65535 units).
pub fn write_string(out: &mut Vec<u8>, text: &str) {
    let units: Vec<&str> = text
        .char_indices()
        .map(|(i, c)| &text[i..i + c.len_utf8()])
        .collect();
    let mut chunks = units.chunks(0xffff).peekable();
    if chunks.peek().is_none() {
        out.push(0x00);
    }
    while let Some(chunk) = chunks.next() {
        let len = chunk.len();
        match (len, chunks.peek().is_some()) {
            (0..=0x1f, false) => out.push(len as u8),
            (0..=0x3ff, false) => out.extend_from_slice(&[0x30 + (len >> 8) as u8, len as u8]),
            (_, more) => {
                out.push(if more { b'R' } else { b'S' });
                out.extend_from_slice(&(len as u16).to_be_bytes());
            }
        }
        chunk
            .iter()
            .for_each(|c| out.extend_from_slice(c.as_bytes()));
    }
}

#[cfg(test)]
mod tests;
