//! `--save DIR`: a trained run as files an independent implementation can check — the
//! parameters at the start and the end, the evaluation batch, the gradient at the start, and
//! a manifest with the forward equations in words.

use std::path::Path;

use serde::Serialize;

use super::linalg::Real;
use super::model::{Engine, Model};
use super::run::{MAX_RUN_BYTES, Precision, RunConfig, RunResult, Trained, run};
use super::tasks::{Batch, Targets, TaskData};
use crate::error::{Error, Result};
use crate::init::npy;
use crate::output::{self, OutputDir, write_new};

/// The output kind of a saved run (the marker of [`crate::output`]).
pub const KIND: &str = "training";

/// One file of a saved run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SavedFile {
    /// File name.
    pub name: String,
    /// Array shape (C order).
    pub shape: Vec<usize>,
    /// NumPy dtype (`float32`, `float64`, `int64`).
    pub dtype: &'static str,
    /// What it holds.
    pub what: String,
}

/// `manifest.json` of a saved run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SaveManifest {
    /// Tool and version.
    pub generator: String,
    /// `vanilla` or `minimal`.
    pub cell: &'static str,
    /// The activation (`sigmoid` gates for the minimalRNN).
    pub activation: &'static str,
    /// Width `N`, input dimension `d`, output dimension `K`, sequence length `L`.
    pub sizes: Sizes,
    /// Readout steps (1-based).
    pub readout_steps: Vec<usize>,
    /// Accuracy counts the readout steps from this index on (0-based into `readout_steps`).
    pub scored_from: usize,
    /// The forward pass, readout and loss in words.
    pub equations: String,
    /// How the arrays are laid out.
    pub conventions: &'static str,
    /// Loss and accuracy on the saved evaluation batch, recomputed in float64 from the saved
    /// final parameters and inputs (`null` if not finite).
    pub test_loss: Option<f64>,
    /// As `test_loss` (`null` for regression).
    pub test_accuracy: Option<f64>,
    /// Loss on the evaluation batch at the saved initial parameters, in float64 (the loss
    /// whose gradient the `grad_*` files hold).
    pub initial_loss: f64,
    /// Mean training loss over the last evaluation interval.
    pub final_train_loss: Option<f64>,
    /// The files.
    pub files: Vec<SavedFile>,
    /// The run: configuration (task, seeds, optimizer, steps, ...), outcome, learning curve.
    pub run: RunResult,
}

/// Sizes of the saved network.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Sizes {
    /// Width `N`.
    pub width: usize,
    /// Input dimension `d`.
    pub input_dim: usize,
    /// Output dimension `K`.
    pub output_dim: usize,
    /// Sequence length `L`.
    pub seq_len: usize,
    /// Sequences in the evaluation batch.
    pub eval_batch: usize,
}

/// Trains `cfg` and writes the run into `dir` under the output contract of [`crate::output`]
/// (a new path, an empty directory, or an unmodified earlier `--save` output; refused before
/// any training). Returns the result and the manifest.
///
/// # Errors
/// As [`super::train`]; [`Error::OutputPath`] naming `--save`; [`Error::InvalidParameter`]
/// naming `batch` when the float64 evaluation of the export would exceed the memory bound;
/// [`Error::Io`].
pub fn train_and_save(
    cfg: &RunConfig,
    dir: &Path,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<(RunResult, SaveManifest)> {
    output::check_dir(dir, KIND, "save")?;
    let (task, model) = cfg.prepare()?;
    if 8usize.saturating_mul(model.workspace_elems(cfg.batch)) > MAX_RUN_BYTES {
        return Err(Error::invalid(
            "batch",
            cfg.batch as f64,
            "a batch whose float64 export pass fits in 6 GiB",
        ));
    }
    match cfg.precision {
        Precision::F32 => save::<f32>(cfg, &task, &model, dir, progress),
        Precision::F64 => save::<f64>(cfg, &task, &model, dir, progress),
    }
}

/// Column-major `rows × cols` as row-major (C order).
fn c_order<T: Copy>(data: &[T], rows: usize, cols: usize) -> Vec<T> {
    let mut out = Vec::with_capacity(data.len());
    for i in 0..rows {
        out.extend((0..cols).map(|j| data[i + j * rows]));
    }
    out
}

fn save<T: Real>(
    cfg: &RunConfig,
    task: &TaskData,
    model: &Model,
    dir: &Path,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<(RunResult, SaveManifest)> {
    let (result, Trained { initial, last }) = run::<T>(cfg, task, model, progress)?;
    let eval: Batch<T> = task.eval_batch(cfg.eval_size, cfg.data_seed);
    // The checks an independent implementation repeats: everything in float64 from the
    // values as saved.
    let e64: Batch<f64> = eval.cast();
    let up = |p: &[T]| p.iter().map(|v| v.f64()).collect::<Vec<f64>>();
    let mut engine = Engine::<f64>::new(model);
    let mut grad = vec![0.0; initial.len()];
    let at_init = engine.evaluate_chunked(&up(&initial), &e64, cfg.batch, Some(&mut grad));
    let at_end = engine.evaluate_chunked(&up(&last), &e64, cfg.batch, None);
    let finite = |v: f64| v.is_finite().then_some(v);

    let out = OutputDir::prepare(dir, KIND, "save")?;
    let stage = out.staging();
    let mut files = Vec::new();
    let mut put = |name: String,
                   bytes: Vec<u8>,
                   shape: Vec<usize>,
                   dtype: &'static str,
                   what: String|
     -> Result<()> {
        npy::write_bytes(&stage.join(&name), &bytes)?;
        files.push(SavedFile {
            name,
            shape,
            dtype,
            what,
        });
        Ok(())
    };
    let mut offset = 0;
    for t in model.tensors() {
        let r = offset..offset + t.len();
        offset += t.len();
        let shape = t.shape();
        for (prefix, data, what) in [
            ("initial", &initial[r.clone()], "at initialization"),
            ("final", &last[r.clone()], "after training"),
        ] {
            put(
                format!("{prefix}_{}.npy", t.name),
                T::npy_bytes(&c_order(data, t.rows, t.cols), &shape)?,
                shape.clone(),
                T::DTYPE,
                format!("{} {what}", t.name),
            )?;
        }
        put(
            format!("grad_{}.npy", t.name),
            npy::to_bytes(&c_order(&grad[r], t.rows, t.cols), &shape)?,
            shape.clone(),
            "float64",
            format!(
                "gradient of the mean evaluation loss with respect to {} at the initial \
                 parameters (float64)",
                t.name
            ),
        )?;
    }
    let (len, b, d) = (task.seq_len, eval.batch, task.input_dim);
    put(
        "eval_inputs.npy".into(),
        T::npy_bytes(&eval.x, &[len, b, d])?,
        vec![len, b, d],
        T::DTYPE,
        "evaluation inputs x[t, i, :] for step t+1 of sequence i".into(),
    )?;
    let ns = task.readout.len();
    match &eval.targets {
        Targets::Classes(c) => {
            let c: Vec<i64> = c.iter().map(|&v| i64::from(v)).collect();
            put(
                "eval_targets.npy".into(),
                npy::to_bytes_i64(&c, &[ns, b])?,
                vec![ns, b],
                "int64",
                "class of sequence i at readout step readout_steps[j], at [j, i]".into(),
            )?;
        }
        Targets::Values(v) => {
            let k = task.output_dim;
            put(
                "eval_targets.npy".into(),
                npy::to_bytes(v, &[ns, b, k])?,
                vec![ns, b, k],
                "float64",
                "target of sequence i at readout step readout_steps[j], at [j, i, :]".into(),
            )?;
        }
    }
    let manifest = SaveManifest {
        generator: format!("mfrnn {}", env!("CARGO_PKG_VERSION")),
        cell: model.cell.name(),
        activation: model.cell.activation().as_str(),
        sizes: Sizes {
            width: model.width,
            input_dim: d,
            output_dim: task.output_dim,
            seq_len: len,
            eval_batch: b,
        },
        readout_steps: task.readout.clone(),
        scored_from: task.scored_from,
        equations: model.equations(),
        conventions: "arrays in C order; a matrix M of shape (rows, cols) maps column vectors \
                      (M h); hidden states, pre-activations and biases are per sequence; \
                      accuracy is argmax (first maximum) of y_t equal to the class",
        test_loss: finite(at_end.loss),
        test_accuracy: at_end.accuracy(),
        initial_loss: at_init.loss,
        final_train_loss: result.final_train_loss,
        files,
        run: result.clone(),
    };
    let json = serde_json::to_string_pretty(&manifest).expect("serialisable");
    write_new(&stage.join("manifest.json"), json.as_bytes())?;
    out.commit()?;
    Ok((result, manifest))
}
