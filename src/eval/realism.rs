//! Realism and diversity of dances in the field's terms (FID_k, FID_g, Div_k, Div_g; see
//! [`super::features`] and [`super::fid`]) against a corpus's real dances, with the floor that real
//! dances reach: the corpus's test dances against its training dances (the fixed split of
//! [`crate::model::data::split`]). Generated dances are compared with the same training dances, so
//! both rows share one reference. FID from few windows is biased upwards (the floor uses every
//! 20-s window of the test dances; a handful of 30-s songs gives a handful of windows): compare
//! rows with similar window counts.

use serde::Serialize;

use super::features;
use super::fid;
use crate::corpus::Corpus;
use crate::pose::Sequence;

/// Feature vectors of a set of dances, one per window.
#[derive(Debug, Clone, Default)]
pub struct FeatureSet {
    pub kinetic: Vec<Vec<f64>>,
    pub geometric: Vec<Vec<f64>>,
}

impl FeatureSet {
    pub fn of<'a>(dances: impl IntoIterator<Item = &'a Sequence>) -> FeatureSet {
        let mut s = FeatureSet::default();
        for d in dances {
            for (k, g) in features::windows(d) {
                s.kinetic.push(k);
                s.geometric.push(g);
            }
        }
        s
    }
    pub fn len(&self) -> usize {
        self.kinetic.len()
    }
    pub fn is_empty(&self) -> bool {
        self.kinetic.is_empty()
    }
}

/// One set of dances against a reference set of real dances.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Realism {
    pub windows: usize,
    pub reference_windows: usize,
    pub fid_k: f64,
    pub fid_g: f64,
    pub div_k: f64,
    pub div_g: f64,
    /// The reference set's own diversity (same z-scoring).
    pub reference_div_k: f64,
    pub reference_div_g: f64,
}

/// FID and diversity of `set` against `reference` (NaN where a set has fewer than 2 windows).
pub fn realism(set: &FeatureSet, reference: &FeatureSet) -> Realism {
    let (fid_k, div_k, reference_div_k) = fid::fid_and_diversity(&set.kinetic, &reference.kinetic);
    let (fid_g, div_g, reference_div_g) = fid::fid_and_diversity(&set.geometric, &reference.geometric);
    Realism { windows: set.len(), reference_windows: reference.len(), fid_k, fid_g, div_k, div_g, reference_div_k, reference_div_g }
}

/// A corpus split into training and test feature sets for [`realism`].
#[derive(Debug, Clone)]
pub struct RealReference {
    pub train: FeatureSet,
    pub test: FeatureSet,
    pub train_dances: usize,
    pub test_dances: usize,
}

impl RealReference {
    /// Fails (with the split's message) on a corpus without a genre of 2 dances.
    pub fn of(corpus: &Corpus) -> Result<RealReference, crate::model::ModelError> {
        let names: Vec<(String, Option<crate::corpus::Genre>)> = corpus.dances.iter().map(|d| (d.name.clone(), d.genre.clone())).collect();
        let (train, test) = crate::model::data::split(&names)?;
        Ok(RealReference {
            train: FeatureSet::of(train.iter().map(|&i| &corpus.dances[i].poses)),
            test: FeatureSet::of(test.iter().map(|&i| &corpus.dances[i].poses)),
            train_dances: train.len(),
            test_dances: test.len(),
        })
    }
    /// The floor: real test dances against real training dances.
    pub fn floor(&self) -> Realism {
        realism(&self.test, &self.train)
    }
    /// Dances against the training dances.
    pub fn score(&self, dances: &[Sequence]) -> Realism {
        realism(&FeatureSet::of(dances), &self.train)
    }
}
