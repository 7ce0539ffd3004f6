use crate::layout::Layout;
use alloc::vec;
use alloc::vec::Vec;

/// Iterator that yields linear indices for strided tensor access.
///
/// Handles non-contiguous tensors (including those with negative strides from flip)
/// by computing the correct storage index for each logical element position.
pub struct StridedIter<'a> {
    storage_index: isize,
    multi_index: Vec<usize>,
    // inkstone patch: shape and strides copied out of the layout, and the innermost dimension
    // stepped without touching the others. The original looked both up through `Layout` and
    // `Shape::num_dims()` for every element, which made this iterator 40% of a CPU training
    // step (vendor/README.md).
    shape: Vec<usize>,
    strides: Vec<isize>,
    inner: usize,
    inner_len: usize,
    inner_stride: isize,
    remaining: usize,
    _layout: core::marker::PhantomData<&'a Layout>,
}

impl<'a> StridedIter<'a> {
    pub fn new(layout: &'a Layout) -> Self {
        let ndims = layout.num_dims();
        let shape: Vec<usize> = (0..ndims).map(|d| layout.shape()[d]).collect();
        let strides: Vec<isize> = layout.strides().to_vec();
        let (inner_len, inner_stride) = match ndims {
            0 => (1, 0),
            _ => (shape[ndims - 1], strides[ndims - 1]),
        };
        Self {
            storage_index: layout.start_offset() as isize,
            multi_index: vec![0; ndims],
            shape,
            strides,
            inner: 0,
            inner_len,
            inner_stride,
            remaining: layout.num_elements(),
            _layout: core::marker::PhantomData,
        }
    }
}

impl Iterator for StridedIter<'_> {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        if self.remaining == 0 {
            return None;
        }

        debug_assert!(
            self.storage_index >= 0,
            "StridedIter: negative storage index"
        );
        let idx = self.storage_index as usize;
        self.remaining -= 1;

        self.inner += 1;
        if self.inner < self.inner_len {
            self.storage_index += self.inner_stride;
            return Some(idx);
        }
        self.inner = 0;
        self.storage_index -= (self.inner_len as isize - 1) * self.inner_stride;
        let outer = self.shape.len().saturating_sub(1);
        for d in (0..outer).rev() {
            self.multi_index[d] += 1;
            if self.multi_index[d] < self.shape[d] {
                self.storage_index += self.strides[d];
                break;
            }
            self.multi_index[d] = 0;
            self.storage_index -= (self.shape[d] as isize - 1) * self.strides[d];
        }

        Some(idx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for StridedIter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use burn_std::Shape;

    #[test]
    fn test_contiguous_iteration() {
        let layout = Layout::contiguous(Shape::from(vec![2, 3]));
        let indices: Vec<_> = StridedIter::new(&layout).collect();
        assert_eq!(indices, vec![0, 1, 2, 3, 4, 5]);
    }

    #[test]
    fn test_transposed_iteration() {
        // Original: [[0, 1, 2], [3, 4, 5]] (shape [2, 3], strides [3, 1])
        // Transposed: [[0, 3], [1, 4], [2, 5]] (shape [3, 2], strides [1, 3])
        let layout = Layout::contiguous(Shape::from(vec![2, 3])).transpose(0, 1);
        let indices: Vec<_> = StridedIter::new(&layout).collect();
        assert_eq!(indices, vec![0, 3, 1, 4, 2, 5]);
    }

    #[test]
    fn test_narrowed_iteration() {
        // Original: [[0, 1, 2, 3], [4, 5, 6, 7]] (shape [2, 4])
        // Narrowed dim=1, start=1, len=2: [[1, 2], [5, 6]]
        let layout = Layout::contiguous(Shape::from(vec![2, 4])).narrow(1, 1, 2);
        let indices: Vec<_> = StridedIter::new(&layout).collect();
        assert_eq!(indices, vec![1, 2, 5, 6]);
    }
}
