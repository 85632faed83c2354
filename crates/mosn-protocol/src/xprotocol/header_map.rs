//! Bolt's header map: repeated `[u32 length][key][u32 length][value]`, a length of
//! 0xFFFFFFFF standing for a null string.

const NULL: u32 = u32::MAX;

/// Reads every entry of `bytes`; `None` when an entry runs past the end. A null key or value
/// reads as an empty string.
pub fn decode(mut bytes: &[u8]) -> Option<Vec<(String, String)>> {
    let mut headers = Vec::new();
    while !bytes.is_empty() {
        let key = take_string(&mut bytes)?;
        let value = take_string(&mut bytes)?;
        headers.push((key, value));
    }
    Some(headers)
}

fn take_string(bytes: &mut &[u8]) -> Option<String> {
    let (len, rest) = bytes.split_first_chunk::<4>()?;
    let len = u32::from_be_bytes(*len);
    if len == NULL {
        *bytes = rest;
        return Some(String::new());
    }
    let len = usize::try_from(len).ok()?;
    let (text, rest) = rest.split_at_checked(len)?;
    *bytes = rest;
    Some(String::from_utf8_lossy(text).into_owned())
}

#[cfg(test)]
pub fn encode(headers: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (key, value) in headers {
        for text in [key, value] {
            out.extend_from_slice(&(text.len() as u32).to_be_bytes());
            out.extend_from_slice(text.as_bytes());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_nulls_read_as_empty() {
        let bytes = encode(&[("service", "com.example.Echo:1.0"), ("k", "")]);
        let headers = decode(&bytes).unwrap();
        assert_eq!(
            headers[0],
            ("service".into(), "com.example.Echo:1.0".into())
        );
        assert_eq!(headers[1], ("k".into(), String::new()));
        let mut null = 1u32.to_be_bytes().to_vec();
        null.push(b'a');
        null.extend_from_slice(&NULL.to_be_bytes());
        assert_eq!(decode(&null).unwrap(), vec![("a".into(), String::new())]);
    }

    #[test]
    fn a_length_past_the_end_is_refused() {
        let mut bytes = encode(&[("service", "x")]);
        bytes.truncate(bytes.len() - 1);
        assert_eq!(decode(&bytes), None);
        assert_eq!(decode(&[0, 0, 0]), None);
        assert_eq!(decode(&[0xff, 0xff, 0xff, 0xfe, b'a']), None);
    }
}
