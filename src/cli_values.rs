//! Value parsers for the command line: numbers no run can use (NaN, infinities, negatives,
//! zero where at least one is needed) are refused while the arguments are parsed, with the
//! option named by clap, before anything is loaded.

fn number<T: std::str::FromStr>(text: &str) -> Result<T, String>
where
    T::Err: std::fmt::Display,
{
    text.trim().parse::<T>().map_err(|e| format!("{text:?} is not a number ({e})"))
}

/// A finite number above zero (learning rate, α, epochs).
pub fn positive(text: &str) -> Result<f64, String> {
    let v: f64 = number(text)?;
    match v.is_finite() && v > 0.0 {
        true => Ok(v),
        false => Err(format!("must be a finite number above 0, got {text}")),
    }
}

/// A finite number, zero or above (weight decay; gradient clipping, where 0 turns it off).
pub fn non_negative(text: &str) -> Result<f64, String> {
    let v: f64 = number(text)?;
    match v.is_finite() && v >= 0.0 {
        true => Ok(v),
        false => Err(format!("must be a finite number, 0 or above, got {text}")),
    }
}

/// A fraction in [0, 1) (dropout).
pub fn fraction(text: &str) -> Result<f32, String> {
    let v: f32 = number(text)?;
    match (0.0..1.0).contains(&v) {
        true => Ok(v),
        false => Err(format!("must be at least 0 and below 1, got {text}")),
    }
}

/// A count of at least one (rank, batch, steps, threads).
pub fn at_least_one(text: &str) -> Result<usize, String> {
    match number::<usize>(text)? {
        0 => Err("must be at least 1".into()),
        n => Ok(n),
    }
}

/// A sequence length: at least two tokens (one input, one target).
pub fn sequence_length(text: &str) -> Result<usize, String> {
    match number::<usize>(text)? {
        n if n < 2 => Err(format!("must be at least 2 (one token in, one to predict), got {n}")),
        n => Ok(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuse_what_no_run_can_use() {
        for bad in ["nan", "NaN", "inf", "-inf", "-16", "0", "abc", ""] {
            assert!(positive(bad).is_err(), "{bad}");
        }
        assert_eq!(positive(" 2e-4 "), Ok(2e-4));
        assert!(non_negative("-1").is_err() && non_negative("inf").is_err());
        assert_eq!(non_negative("0"), Ok(0.0));
        assert!(fraction("1").is_err() && fraction("-0.1").is_err() && fraction("nan").is_err());
        assert_eq!(fraction("0.05"), Ok(0.05));
        assert!(at_least_one("0").is_err() && at_least_one("-3").is_err());
        assert_eq!(at_least_one("8"), Ok(8));
        assert!(sequence_length("1").is_err());
    }
}
