//! Guard rails for runs nobody watches: a ceiling on what one run may write ([`blast`]) and a
//! refusal to plan from a read that looks wrong ([`baseline`]), and a cross-check of plex.tv's
//! two API families ([`deep`]).

pub mod baseline;
pub mod blast;
pub mod deep;

pub use baseline::{read_sharing_checked, Baselines, GuardedReadError, ReadLooksWrong, ReadSize};
pub use blast::{check_limits, BlastRadius, Limit, LimitExceeded, OverLimit};
pub use deep::{deep_check, DeepCheck, DeepCheckError, Disagreement};
