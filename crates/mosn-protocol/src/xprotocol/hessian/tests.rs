use super::*;

fn string_bytes(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    write_string(&mut out, text);
    out
}

#[test]
fn strings_of_every_length_class_round_trip() {
    for len in [0, 1, 31, 32, 1023, 1024, 65535, 65536, 200_000] {
        let text = "é".repeat(len);
        let bytes = string_bytes(&text);
        let mut reader = Reader::new(&bytes);
        assert_eq!(reader.string().as_deref(), Some(text.as_str()), "{len}");
        assert!(reader.bytes.is_empty(), "{len}: all consumed");
    }
}

#[test]
fn the_spec_examples_skip_whole() {
    // Each is one value followed by a marker byte that must be what is left.
    let values: &[&[u8]] = &[
        b"N",
        b"T",
        &[0x90],              // int 0
        &[0xc8, 0x00],        // int 0, two bytes
        &[0xd4, 0x00, 0x00],  // int 0, three bytes
        b"I\x00\x00\x01\x00", // int 256
        &[0xe0],              // long 0
        b"L\x00\x00\x00\x00\x00\x00\x01\x2c",
        b"D\x40\x28\x80\x00\x00\x00\x00\x00", // double 12.25
        &[0x5b],                              // double 0.0
        b"J\x00\x00\x00\xd0\x4b\x92\x84\xb8", // date
        &[0x23, 1, 2, 3],                     // binary of 3
        b"\x05hello",
        b"V\x04[int\x92\x90\x91", // typed fixed list [0, 1]
        &[0x79, 0x91],            // untyped fixed list of 1
        b"W\x90\x91Z",            // untyped variable list
        b"H\x91\x03fee\xa0\x03fie\xc9\x00\x03foeZ", // untyped map
        b"M\x09mypackage\x91\x03feeZ", // typed map
        b"C\x0bexample.Car\x92\x05color\x05model\x60\x03red\x08corvette", // class + object
        b"Q\x90",                 // reference
    ];
    for value in values {
        let mut bytes = value.to_vec();
        bytes.push(0xaa);
        let mut reader = Reader::new(&bytes);
        assert_eq!(reader.skip(), Some(()), "{value:x?}");
        assert_eq!(reader.bytes, [0xaa], "{value:x?}");
    }
}

#[test]
fn string_maps_keep_string_entries() {
    let bytes =
        b"H\x04path\x03a.B\x07timeout\xd4\x13\x88\x01l\xf8\x10\x01b\x54\x01n\x79\x90\x01k\x01vZ";
    let map = Reader::new(bytes).string_map().unwrap();
    let text = |k: &str, v: &str| (k.to_string(), v.to_string());
    assert_eq!(
        map,
        vec![
            text("path", "a.B"),
            text("timeout", "5000"),
            text("l", "16"),
            text("b", "true"),
            text("k", "v")
        ],
        "numbers and booleans as text; a list is left out"
    );
}

#[test]
fn truncated_or_hostile_input_ends_in_none() {
    let cases: &[&[u8]] = &[
        b"",
        b"S\xff\xff",     // longer than what follows
        b"I\x00",         // cut int
        b"X\xd7\xff\xff", // count larger than the input
        b"O\x90",         // object of an unknown class
        b"H\x01a",        // map with no end
        b"\x01\xff",      // bad UTF-8 lead byte
    ];
    for case in cases {
        assert_eq!(Reader::new(case).skip(), None, "{case:x?}");
    }
    // Nesting beyond the limit is refused, not followed down the stack.
    let deep = [0x79u8; 10_000];
    assert_eq!(Reader::new(&deep).skip(), None);
}
