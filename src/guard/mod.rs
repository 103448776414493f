//! Guard rails for runs nobody watches: a ceiling on what one run may write ([`blast`]) and a
//! refusal to plan from a read that looks wrong ([`baseline`]).

pub mod baseline;
pub mod blast;

pub use baseline::{read_sharing_checked, Baselines, GuardedReadError, ReadLooksWrong, ReadSize};
pub use blast::{check_limits, BlastRadius, Limit, LimitExceeded, OverLimit};
