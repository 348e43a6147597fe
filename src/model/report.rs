//! What `choreo train` prints: a line per epoch and the table of test figures, with the
//! untrained encoders and a random ranking beside the trained ones.

use std::fmt;
use std::path::Path;

use super::eval::Figures;
use super::train::{EpochFigures, TrainReport};

impl fmt::Display for EpochFigures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.test {
            Some(t) => write!(
                f,
                "epoch {:>3}  loss {:.4}  test: match {:.2} delayed {:.2} other {:.2} acc {:.3} R@1 {:.3} R@10 {:.3} genreP@10 {:.3} rank {:.3}  ({:.1} s)",
                self.epoch, self.loss, t.matching_distance, t.delayed_distance, t.other_distance, t.correlation_accuracy, t.recall_at_1, t.recall_at_10, t.genre_precision_at_10, t.mean_rank, self.seconds
            )?,
            None => write!(f, "epoch {:>3}  loss {:.4}  ({:.1} s)", self.epoch, self.loss, self.seconds)?,
        }
        if let Some(v) = &self.val {
            write!(f, "  val: R@10 {:.3} rank {:.3}", v.recall_at_10, v.mean_rank)?;
        }
        Ok(())
    }
}

impl TrainReport {
    /// The test dances, the table of figures and a closing line naming `out`; one line each,
    /// every line ending in a newline.
    pub fn summary(&self, out: &Path) -> String {
        let (card, b) = (&self.card, &self.baselines);
        let t = &card.test_figures;
        let mut s = format!("test dances: {}\n", card.test_dances.join(", "));
        if !card.val_dances.is_empty() {
            s += &format!("validation dances: {}; kept epoch {}\n", card.val_dances.join(", "), card.kept_epoch);
        }
        s += &format!("{:<22} {:>8} {:>8} {:>8} {:>8} {:>12} {:>7} {:>7} {:>10} {:>6}\n", "test figures", "match", "delayed", "other", "acc(d<1)", "acc(best t)", "R@1", "R@10", "genreP@10", "rank");
        let row = |name: &str, f: &Figures| {
            format!(
                "{:<22} {:>8.3} {:>8.3} {:>8.3} {:>8.3} {:>6.3}@{:<5.2} {:>7.3} {:>7.3} {:>10.3} {:>6.3}\n",
                name, f.matching_distance, f.delayed_distance, f.other_distance, f.correlation_accuracy, f.best_threshold_accuracy, f.best_threshold, f.recall_at_1, f.recall_at_10, f.genre_precision_at_10, f.mean_rank
            )
        };
        s += &row("trained", t);
        s += &row("untrained (same seed)", &b.untrained);
        s += &format!("{:<22} {:>8} {:>8} {:>8} {:>8} {:>12} {:>7.3} {:>7.3} {:>10.3}\n", "random ranking", "", "", "", "", "", b.random_recall_at_1, b.random_recall_at_10, b.random_genre_precision_at_10);
        s += &row("trained (train set)", &card.train_figures);
        if let Some(v) = &card.val_figures {
            s += &row("trained (validation)", v);
        }
        s += &format!("{} fragments in the test set; trained in {:.0} s; wrote {}\n", t.fragments, card.train_seconds, out.display());
        s
    }
}
