//! The process allocator: mimalloc, asked for a plain block whenever one is aligned enough.
//!
//! The `mimalloc` crate's allocator asks for an aligned block every time, whatever the
//! alignment. mimalloc serves an aligned request over 1 KiB (a connection's read buffer, an
//! exchange's state) on its slow path, which over-allocates and marks the page so that each free
//! there also takes the slow path. Every mimalloc block is aligned to 8 bytes, so a layout that
//! asks for no more goes through `mi_malloc` like any C allocation.

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

use libmimalloc_sys::{
    mi_free, mi_malloc, mi_malloc_aligned, mi_realloc, mi_realloc_aligned, mi_zalloc,
    mi_zalloc_aligned,
};

/// The alignment of every block mimalloc hands out: its size classes are multiples of the word.
const BLOCK_ALIGN: usize = std::mem::size_of::<usize>();

pub struct MiMalloc;

type Plain = unsafe extern "C" fn(usize) -> *mut c_void;
type Aligned = unsafe extern "C" fn(usize, usize) -> *mut c_void;

/// A block for `layout` from `plain` when every block is aligned enough, else from `aligned`.
///
/// # Safety
/// `layout` has a non-zero size.
unsafe fn block(layout: Layout, plain: Plain, aligned: Aligned) -> *mut u8 {
    // SAFETY: both are mimalloc's, given a non-zero size (and a power-of-two alignment).
    unsafe {
        match layout.align() <= BLOCK_ALIGN {
            true => plain(layout.size()),
            false => aligned(layout.size(), layout.align()),
        }
        .cast()
    }
}

// SAFETY: each method passes the layout's size (never 0, as `GlobalAlloc` requires) to
// mimalloc, and asks for an aligned block whenever the layout wants more than every block has.
unsafe impl GlobalAlloc for MiMalloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: see the impl.
        unsafe { block(layout, mi_malloc, mi_malloc_aligned) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: see the impl.
        unsafe { block(layout, mi_zalloc, mi_zalloc_aligned) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` came from this allocator, so from mimalloc.
        unsafe { mi_free(ptr.cast::<c_void>()) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from this allocator with `layout`; `new_size` is not 0.
        unsafe {
            match layout.align() <= BLOCK_ALIGN {
                true => mi_realloc(ptr.cast(), new_size),
                false => mi_realloc_aligned(ptr.cast(), new_size, layout.align()),
            }
            .cast()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_block_has_the_alignment_its_layout_asks_for() {
        for align in [1, 2, 4, 8, 16, 64, 4096] {
            for size in [1, 3, 8, 24, 40, 1000, 3360, 16 * 1024, 65536, 1 << 20] {
                let layout = Layout::from_size_align(size, align).unwrap();
                // SAFETY: a non-zero size; each block is freed with its layout.
                unsafe {
                    let blocks = [MiMalloc.alloc(layout), MiMalloc.alloc_zeroed(layout)];
                    for block in blocks {
                        assert!(
                            !block.is_null() && (block as usize).is_multiple_of(align),
                            "{layout:?}"
                        );
                    }
                    assert!(
                        std::slice::from_raw_parts(blocks[1], size)
                            .iter()
                            .all(|b| *b == 0)
                    );
                    let grown = MiMalloc.realloc(blocks[0], layout, size * 3);
                    assert!(
                        !grown.is_null() && (grown as usize).is_multiple_of(align),
                        "{layout:?}"
                    );
                    MiMalloc.dealloc(grown, Layout::from_size_align(size * 3, align).unwrap());
                    MiMalloc.dealloc(blocks[1], layout);
                }
            }
        }
    }
}
