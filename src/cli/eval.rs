//! `eval`: the dance metrics of pose files against their song, or of every dance of a corpus
//! against its own song; with `--against CORPUS`, realism and diversity (FID_k, FID_g, Div_k,
//! Div_g) against that corpus's real dances and the real-versus-real floor.

use std::process::ExitCode;

use anyhow::bail;
use clap::Args;

use choreo::corpus::CorpusConfig;
use choreo::pipeline::{self, EvalConfig};

#[derive(Args)]
pub struct EvalArgs {
    #[command(flatten)]
    pub eval: EvalConfig,
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: EvalArgs) -> anyhow::Result<ExitCode> {
    let cfg = a.eval;
    cfg.validate().map_err(super::flag_error)?;
    let e = match (&cfg.corpus, &cfg.song) {
        (Some(root), _) => {
            let (c, _) = super::load_corpus(Some(root), &[], &CorpusConfig::default())?;
            pipeline::evaluate_corpus(&c, cfg.jump_px, cfg.against.as_deref())?
        }
        (None, Some(song)) => pipeline::evaluate_files(&cfg.poses, song, cfg.beats.as_deref(), cfg.offset, cfg.jump_px, cfg.against.as_deref())?,
        (None, None) => bail!("--song is needed with --poses"),
    };
    super::warn(&e.warnings);
    if a.json {
        println!("{}", serde_json::to_string_pretty(&e.json)?);
    } else {
        print!("{}", e.table);
    }
    Ok(ExitCode::SUCCESS)
}
