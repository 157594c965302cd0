//! Warmup adaptation: Stan's ([`StanWarmup`]: dual averaging of the step size, the step-size
//! heuristic, and windowed estimation of the metric), nutpie's gradient-informed diagonal
//! ([`FisherWarmup`]) and its diagonal plus low rank ([`LowRankWarmup`]), all behind the
//! [`Warmup`] trait.

mod dual_averaging;
mod fisher;
mod low_rank;
mod step_size;
mod warmup;
mod welford;
mod windows;

pub use dual_averaging::{DualAveraging, DualAveragingOptions, dual_averaging};
pub use fisher::FisherWarmup;
pub use low_rank::{LowRankOptions, LowRankWarmup};
pub use step_size::{find_reasonable_epsilon, init_step_size};
pub use warmup::{StanWarmup, Warmup};
pub use welford::{MetricEstimator, WelfordCovariance, WelfordVariance};
pub use windows::WarmupWindows;
