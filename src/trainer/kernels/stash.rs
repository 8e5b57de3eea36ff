//! A slot where one pass of a fused op leaves a buffer for a later pass (or for the next step):
//! `h` and `g·B` of an adapted projection, the LM head's softmax, the reused vocabulary buffer.
//! Typed at run time because the ops are generic over f32/f64; a buffer of another type or
//! length is treated as absent, and the caller recomputes or allocates.

use std::any::Any;
use std::sync::{Mutex, MutexGuard};

use super::real::Real;

#[derive(Default)]
pub struct Stash(Mutex<Option<Box<dyn Any + Send>>>);

impl Stash {
    pub const fn new() -> Self {
        Self(Mutex::new(None))
    }

    pub fn put<T: Real>(&self, v: Vec<T>) {
        *self.slot() = Some(Box::new(v));
    }

    /// Takes the buffer out when it holds `len` values of `T`.
    pub fn take<T: Real>(&self, len: usize) -> Option<Vec<T>> {
        let held = self.slot().take()?;
        held.downcast::<Vec<T>>().ok().map(|v| *v).filter(|v| v.len() == len)
    }

    /// Moves whatever is here into `other` (leaving this one empty).
    pub fn hand_to(&self, other: &Stash) {
        if let Some(held) = self.slot().take() {
            *other.slot() = Some(held);
        }
    }

    pub fn clear(&self) {
        self.slot().take();
    }

    fn slot(&self) -> MutexGuard<'_, Option<Box<dyn Any + Send>>> {
        // A panic elsewhere cannot leave a half-written `Option` behind: use it as it is.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_comes_back_only_with_its_type_and_length() {
        let s = Stash::new();
        s.put(vec![1f32, 2.0]);
        assert_eq!(s.take::<f32>(2), Some(vec![1.0, 2.0]));
        assert_eq!(s.take::<f32>(2), None, "taken once");
        s.put(vec![1f32, 2.0]);
        assert_eq!(s.take::<f64>(2), None, "wrong type");
        s.put(vec![1f32, 2.0]);
        assert_eq!(s.take::<f32>(3), None, "wrong length");
        let other = Stash::new();
        s.put(vec![3f64]);
        s.hand_to(&other);
        assert_eq!(s.take::<f64>(1), None);
        assert_eq!(other.take::<f64>(1), Some(vec![3.0]));
        other.put(vec![1f32]);
        other.clear();
        assert_eq!(other.take::<f32>(1), None);
    }
}
