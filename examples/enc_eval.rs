//! Test-split figures of a trained encoder file (issue 3), with the mean rank of the true pose:
//! for comparing shipped weights with a new recipe on the same fragments.
//! Run: cargo run --release --example enc_eval -- models/encoders.safetensors ../shared/data/tang2018
use choreo::corpus::{self, CorpusConfig};
use choreo::model::{self, data, train};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (enc, card) = model::load(std::path::Path::new(&args[1]), &candle_core::Device::Cpu)?;
    let (c, _) = corpus::load(std::path::Path::new(&args[2]), &CorpusConfig { fps: card.fps, ..CorpusConfig::default() })?;
    let len = enc.cfg.frames;
    let dances = data::prepare(&c, len)?;
    let names: Vec<(String, Option<choreo::corpus::Genre>)> = c.dances.iter().map(|d| (d.name.clone(), d.genre.clone())).collect();
    let (_, test) = data::split(&names)?;
    let frags = data::eval_fragments(&dances, &test, len);
    let delay = ((2.0 * c.fps).round() as usize, (4.0 * c.fps).round() as usize);
    let f = train::evaluate(&enc, &dances, &frags, delay, card.seed)?;
    println!("{}", serde_json::to_string_pretty(&f)?);
    Ok(())
}
