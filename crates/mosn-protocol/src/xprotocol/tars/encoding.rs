//! The TARS encoding, as much of it as the proxy needs. A value is a head, then its data; the
//! head's high four bits are the field's tag (15 meaning "the tag is the next byte") and the low
//! four its type. Integers are big-endian and written in the fewest bytes that hold them (zero
//! takes none), so a reader accepts any width. Every read is bounds-checked and nesting is
//! limited, so any input ends in a value or `None`.

use bytes::{BufMut, BytesMut};

pub const INT1: u8 = 0;
const INT2: u8 = 1;
const INT4: u8 = 2;
const INT8: u8 = 3;
const FLOAT: u8 = 4;
const DOUBLE: u8 = 5;
pub const STRING1: u8 = 6;
pub const STRING4: u8 = 7;
const MAP: u8 = 8;
const LIST: u8 = 9;
const STRUCT_BEGIN: u8 = 10;
const STRUCT_END: u8 = 11;
const ZERO: u8 = 12;
const SIMPLE_LIST: u8 = 13;

pub fn is_int(kind: u8) -> bool {
    matches!(kind, INT1 | INT2 | INT4 | INT8 | ZERO)
}

/// How deep lists, maps and structs may nest before the input is refused.
const MAX_DEPTH: usize = 32;

/// One field of a struct: its type, where its head starts, and where its data ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub kind: u8,
    pub start: usize,
    /// Where the data starts, after the head.
    pub data: usize,
    pub end: usize,
}

pub struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    /// A reader of `bytes` from offset `at`.
    pub fn at(bytes: &'a [u8], at: usize) -> Reader<'a> {
        Reader { bytes, at }
    }

    pub fn at_end(&self) -> bool {
        self.at == self.bytes.len()
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let taken = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(taken)
    }

    fn byte(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    /// The next head: its tag and type.
    fn head(&mut self) -> Option<(u8, u8)> {
        let head = self.byte()?;
        let tag = match head >> 4 {
            15 => self.byte()?,
            tag => tag,
        };
        Some((tag, head & 0x0f))
    }

    /// The next field, skipped over: its tag and where it lies.
    pub fn field(&mut self) -> Option<(u8, Field)> {
        let start = self.at;
        let (tag, kind) = self.head()?;
        let data = self.at;
        self.skip_data(kind, 0)?;
        Some((
            tag,
            Field {
                kind,
                start,
                data,
                end: self.at,
            },
        ))
    }

    /// The integer data of a value of type `kind`.
    fn int_data(&mut self, kind: u8) -> Option<i64> {
        Some(match kind {
            ZERO => 0,
            INT1 => i64::from(self.byte()? as i8),
            INT2 => i64::from(i16::from_be_bytes(self.take(2)?.try_into().ok()?)),
            INT4 => i64::from(i32::from_be_bytes(self.take(4)?.try_into().ok()?)),
            INT8 => i64::from_be_bytes(self.take(8)?.try_into().ok()?),
            _ => return None,
        })
    }

    /// An integer value with its head, as a length: never negative.
    fn length(&mut self) -> Option<usize> {
        let (_, kind) = self.head()?;
        usize::try_from(self.int_data(kind)?).ok()
    }

    fn string_data(&mut self, kind: u8) -> Option<&'a [u8]> {
        let len = match kind {
            STRING1 => usize::from(self.byte()?),
            STRING4 => u32::from_be_bytes(self.take(4)?.try_into().ok()?) as usize,
            _ => return None,
        };
        self.take(len)
    }

    fn skip_data(&mut self, kind: u8, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        match kind {
            kind if is_int(kind) => {
                self.int_data(kind)?;
            }
            FLOAT => {
                self.take(4)?;
            }
            DOUBLE => {
                self.take(8)?;
            }
            STRING1 | STRING4 => {
                self.string_data(kind)?;
            }
            MAP | LIST => {
                let values = self.length()?;
                let values = if kind == MAP {
                    values.checked_mul(2)?
                } else {
                    values
                };
                // Each value takes a byte at least, so a length past the input ends the loop
                // early rather than spinning.
                for _ in 0..values {
                    let (_, kind) = self.head()?;
                    self.skip_data(kind, depth + 1)?;
                }
            }
            STRUCT_BEGIN => loop {
                let (_, kind) = self.head()?;
                if kind == STRUCT_END {
                    break;
                }
                self.skip_data(kind, depth + 1)?;
            },
            STRUCT_END => {}
            SIMPLE_LIST => {
                let (_, INT1) = self.head()? else {
                    return None;
                };
                let len = self.length()?;
                self.take(len)?;
            }
            _ => return None,
        }
        Some(())
    }
}

/// The integer in `field` of `bytes`.
pub fn int(bytes: &[u8], field: Field) -> Option<i64> {
    let mut reader = Reader::at(&bytes[..field.end], field.data);
    reader.int_data(field.kind)
}

/// The string in `field` of `bytes`, with any invalid UTF-8 replaced.
pub fn string(bytes: &[u8], field: Field) -> Option<String> {
    let mut reader = Reader::at(&bytes[..field.end], field.data);
    Some(String::from_utf8_lossy(reader.string_data(field.kind)?).into_owned())
}

/// The entries of a map<string, string> in `field` of `bytes`; entries of other types are
/// left out.
pub fn string_map(bytes: &[u8], field: Field) -> Option<Vec<(String, String)>> {
    if field.kind != MAP {
        return None;
    }
    let mut reader = Reader::at(&bytes[..field.end], field.data);
    let entries = reader.length()?;
    let mut map = Vec::new();
    for _ in 0..entries {
        let (key, value) = (reader.field()?.1, reader.field()?.1);
        if let (Some(key), Some(value)) = (string(bytes, key), string(bytes, value)) {
            map.push((key, value));
        }
    }
    Some(map)
}

fn put_head(out: &mut BytesMut, tag: u8, kind: u8) {
    if tag < 15 {
        out.put_u8(tag << 4 | kind);
    } else {
        out.put_u8(0xf0 | kind);
        out.put_u8(tag);
    }
}

/// An integer field, in the fewest bytes that hold it.
pub fn put_int(out: &mut BytesMut, tag: u8, value: i64) {
    if value == 0 {
        put_head(out, tag, ZERO);
    } else if let Ok(value) = i8::try_from(value) {
        put_head(out, tag, INT1);
        out.put_i8(value);
    } else if let Ok(value) = i16::try_from(value) {
        put_head(out, tag, INT2);
        out.put_i16(value);
    } else if let Ok(value) = i32::try_from(value) {
        put_head(out, tag, INT4);
        out.put_i32(value);
    } else {
        put_head(out, tag, INT8);
        out.put_i64(value);
    }
}

pub fn put_string(out: &mut BytesMut, tag: u8, value: &str) {
    match u8::try_from(value.len()) {
        Ok(len) => {
            put_head(out, tag, STRING1);
            out.put_u8(len);
        }
        Err(_) => {
            put_head(out, tag, STRING4);
            out.put_u32(value.len() as u32);
        }
    }
    out.put_slice(value.as_bytes());
}

/// A `vector<byte>` field (a simple list) holding `value`.
pub fn put_bytes(out: &mut BytesMut, tag: u8, value: &[u8]) {
    put_head(out, tag, SIMPLE_LIST);
    put_head(out, 0, INT1);
    put_int(out, 0, value.len() as i64);
    out.put_slice(value);
}

/// A map<string, string> field.
pub fn put_string_map(out: &mut BytesMut, tag: u8, entries: &[(&str, &str)]) {
    put_head(out, tag, MAP);
    put_int(out, 0, entries.len() as i64);
    for (key, value) in entries {
        put_string(out, 0, key);
        put_string(out, 1, value);
    }
}
