//! nalgebra maths for LoRA (rank, factorizations, forward pass, counts, truncated SVD) and NF4.
