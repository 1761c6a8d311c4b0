//! The blocks behind the `malloc`/`free` exports of the C-ABI modules
//! (Fluent Bit's filter_wasm, Redpanda Connect's wasm processor). Their
//! hosts copy data into the module with `malloc` and release it with
//! `free(ptr)`, which has no size argument, so every block starts with its
//! total size. Each module keeps its own exports: what a failed allocation
//! must do (return null, or trap) depends on whether the host checks it.

use std::alloc::Layout;

/// The size prefix, also the blocks' alignment (a C `malloc` gives 8).
const HEADER: usize = 8;

/// A block of `size` usable bytes, or null when it cannot be allocated.
pub fn alloc_block(size: usize) -> *mut u8 {
    let Some(layout) = size.checked_add(HEADER).and_then(|total| Layout::from_size_align(total, HEADER).ok()) else {
        return std::ptr::null_mut();
    };
    // SAFETY: the layout has a non-zero size.
    let block = unsafe { std::alloc::alloc(layout) };
    if block.is_null() {
        return block;
    }
    // SAFETY: the block holds at least HEADER bytes, aligned for a usize.
    unsafe {
        block.cast::<usize>().write(layout.size());
        block.add(HEADER)
    }
}

/// Frees a block from [`alloc_block`]; null is ignored.
///
/// # Safety
/// `ptr` must be null or a pointer returned by [`alloc_block`] not yet freed.
pub unsafe fn free_block(ptr: *mut u8) {
    if ptr.is_null() {
        return;
    }
    // SAFETY: alloc_block put the block's total size HEADER bytes before `ptr`.
    unsafe {
        let block = ptr.sub(HEADER);
        let total = block.cast::<usize>().read();
        std::alloc::dealloc(block, Layout::from_size_align_unchecked(total, HEADER));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_aligned_writable_and_freed_by_pointer_alone() {
        for size in [0, 1, 7, 8, 4096, 1 << 20] {
            let ptr = alloc_block(size);
            assert!(!ptr.is_null());
            assert_eq!(ptr as usize % HEADER, 0);
            // SAFETY: the block has `size` writable bytes.
            unsafe {
                std::ptr::write_bytes(ptr, 0xAB, size);
                free_block(ptr);
            }
        }
        // SAFETY: null is ignored.
        unsafe { free_block(std::ptr::null_mut()) };
    }

    #[test]
    fn an_impossible_size_is_null_not_a_panic() {
        assert!(alloc_block(usize::MAX).is_null());
        assert!(alloc_block(usize::MAX - HEADER).is_null());
    }
}
