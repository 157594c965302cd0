//! The posteriordb models in Rust, one file each, written with the public API as a user would;
//! each file's doc comment holds the Stan program it implements. The runner finds a model by
//! posteriordb's `model_name`, so a posterior that reuses a model with other data runs too.

use infer::prelude::*;

mod ark;
mod arma11;
mod blr;
mod diamonds;
mod earn_height;
mod eight_schools_noncentered;
mod garch11;
mod gp_pois_regr;
mod hmm;
mod hmm_drive_0;
mod hmm_example;
mod kidscore_interaction;
mod kidscore_mom_work;
mod kidscore_momhsiq;
mod kilpisjarvi;
mod logearn_interaction_z;
mod logmesquite_logvash;
mod low_dim_gauss_mix;
mod mesquite;
mod nes;
mod one_comp_mm_elim_abs;
mod regression;

/// A model built from its data, ready for [`Sampler::sample_model`].
pub type Built = Box<dyn Model + Sync>;

fn boxed<M: Model + Sync + 'static>(m: Result<M, StanDataError>) -> Result<Built, StanDataError> {
    m.map(|m| Box::new(m) as Built)
}

/// The implementation of posteriordb's `model_name` with its data; `None` for a model that is
/// not implemented here (the runner reports it as unsupported).
pub fn build(model_name: &str, data: &StanData) -> Option<Result<Built, StanDataError>> {
    Some(match model_name {
        "eight_schools_noncentered" => boxed(
            eight_schools_noncentered::EightSchoolsNoncentered::new(data),
        ),
        "gp_pois_regr" => boxed(gp_pois_regr::GpPoisRegr::new(data)),
        "one_comp_mm_elim_abs" => boxed(one_comp_mm_elim_abs::OneCompMmElimAbs::new(data)),
        "arK" => boxed(ark::ArK::new(data)),
        "arma11" => boxed(arma11::Arma11::new(data)),
        "garch11" => boxed(garch11::Garch11::new(data)),
        "low_dim_gauss_mix" => boxed(low_dim_gauss_mix::LowDimGaussMix::new(data)),
        "hmm_example" => boxed(hmm_example::HmmExample::new(data)),
        "hmm_drive_0" => boxed(hmm_drive_0::HmmDrive0::new(data)),
        "blr" => boxed(blr::Blr::new(data)),
        "diamonds" => boxed(diamonds::Diamonds::new(data)),
        "earn_height" => boxed(earn_height::new(data)),
        "kidscore_interaction" => boxed(kidscore_interaction::new(data)),
        "kidscore_mom_work" => boxed(kidscore_mom_work::new(data)),
        "kidscore_momhsiq" => boxed(kidscore_momhsiq::new(data)),
        "kilpisjarvi" => boxed(kilpisjarvi::Kilpisjarvi::new(data)),
        "logearn_interaction_z" => boxed(logearn_interaction_z::new(data)),
        "logmesquite_logvash" => boxed(logmesquite_logvash::new(data)),
        "mesquite" => boxed(mesquite::new(data)),
        "nes" => boxed(nes::new(data)),
        _ => return None,
    })
}
