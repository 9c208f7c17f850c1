//! The tasks: padded digits (data shipped in the crate), first-input recall, copy memory and
//! the adding problem, each with its trivial baseline. Definitions: `theory/09-training.md`
//! §Tasks.
//!
//! Every task is a batch of sequences `x` of length `L` (a `L × B × d` array, C order), read
//! out at fixed steps `S` (1-based) with one target per readout step and sequence.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use super::linalg::Real;
use crate::error::{Error, Result};

/// The digits: 1,797 rows of 64 pixel counts (0..16) and a class (0..9); see
/// `data/digits/README.md` for origin, licence and how the file is made.
const DIGITS: &[u8] = include_bytes!("../../data/digits/digits.u8");
const DIGITS_ROWS: usize = 1797;

/// What fills the steps after the first input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Padding {
    /// Independent `N(0, 1)` entries at every step (the same scale as the normalised image).
    Noise,
    /// Zeros.
    Zero,
}

/// A task and its parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum Task {
    /// The 8×8 digit (64 inputs, normalised) at step 1, then `padding` steps of padding; the
    /// class is read out after the last step. `L = padding + 1`.
    Digits {
        /// Steps after the image (0: read out right after it).
        padding: usize,
        /// Noise or zeros.
        pad: Padding,
    },
    /// One of `classes` fixed random patterns (entries `N(0, 1)`, dimension `dim`) at step 1,
    /// then `padding` steps of padding; classify the pattern at the end. `L = padding + 1`.
    Recall {
        /// Steps after the pattern.
        padding: usize,
        /// Number of patterns (classes).
        classes: usize,
        /// Input dimension.
        dim: usize,
        /// Noise or zeros.
        pad: Padding,
    },
    /// Copy memory (Hochreiter & Schmidhuber 1997; the form of Arjovsky, Shah & Bengio 2016):
    /// 10 symbols from 1..8, `delay − 1` blanks, the delimiter 9, 10 blanks (`L = delay + 20`,
    /// inputs one-hot of dimension 10); the output at every step is the blank 0 except the last
    /// 10, which must reproduce the symbols (9 output classes 0..8).
    Copy {
        /// `T` of the standard form.
        delay: usize,
    },
    /// The adding problem (Hochreiter & Schmidhuber 1997; the form of Arjovsky et al. 2016):
    /// two input channels, values `U[0, 1]` and a marker that is 1 at one step of the first half
    /// and one of the second; the target at the last step is the sum of the two marked values.
    Adding {
        /// The sequence length `T`.
        length: usize,
    },
}

/// The loss at the readout steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LossKind {
    /// Softmax cross-entropy against a class.
    CrossEntropy,
    /// Squared error `‖y − target‖²`.
    SquaredError,
}

/// Targets of a batch, step-major: index `j·B + i` is readout step `S[j]` of sequence `i`
/// (times the output dimension `K` for values).
#[derive(Debug, Clone, PartialEq)]
pub enum Targets {
    /// Classes (`|S| × B`).
    Classes(Vec<u32>),
    /// Real targets (`|S| × B × K`).
    Values(Vec<f64>),
}

/// A batch of `batch` sequences: inputs `x` as an `L × B × d` array (C order).
#[derive(Debug, Clone, PartialEq)]
pub struct Batch<T> {
    /// Inputs, `L × B × d`.
    pub x: Vec<T>,
    /// Sequences in the batch (`B`).
    pub batch: usize,
    /// Targets at the readout steps.
    pub targets: Targets,
}

impl<T: Real> Batch<T> {
    /// The same batch in another float type.
    pub fn cast<U: Real>(&self) -> Batch<U> {
        Batch {
            x: self.x.iter().map(|v| U::of(v.f64())).collect(),
            batch: self.batch,
            targets: self.targets.clone(),
        }
    }
}

/// The trivial baseline of a task: what a model that ignores the memorised input achieves.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Baseline {
    /// Its loss (cross-entropy in nats, or mean squared error).
    pub loss: f64,
    /// Its accuracy (`None` for regression).
    pub accuracy: Option<f64>,
    /// What it is, in words.
    pub rule: &'static str,
}

/// A task ready to sample: sizes, readout steps and the fixed data.
#[derive(Debug, Clone)]
pub struct TaskData {
    /// The task.
    pub task: Task,
    /// Sequence length `L`.
    pub seq_len: usize,
    /// Input dimension `d`.
    pub input_dim: usize,
    /// Output dimension `K` (classes, or values).
    pub output_dim: usize,
    /// Readout steps `S` (1-based, increasing).
    pub readout: Vec<usize>,
    /// Accuracy counts readout steps `S[scored_from..]` (copy: the last 10).
    pub scored_from: usize,
    /// The loss.
    pub loss: LossKind,
    /// Mean second moment per input coordinate during the padding (or, for copy and adding,
    /// over the whole sequence): the `R` of the vanilla cell's theory.
    pub input_second_moment: f64,
    /// The trivial baseline on the evaluation batch's distribution.
    pub baseline: Baseline,
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    Digits {
        /// Normalised images, 64 per row, all 1,797 rows.
        images: Vec<f64>,
        labels: Vec<u32>,
        train: Vec<usize>,
        test: Vec<usize>,
        pad: Padding,
    },
    Recall {
        patterns: Vec<f64>,
        pad: Padding,
    },
    Copy,
    Adding,
}

/// The ChaCha8 stream `stream` of `seed` (the crate's convention, [`crate::sim::SimConfig::rng`]).
pub(crate) fn rng(seed: u64, stream: u64) -> ChaCha8Rng {
    use rand::SeedableRng;
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(stream);
    r
}

/// Largest sequence length accepted (bounds memory before anything is allocated).
pub const MAX_SEQ_LEN: usize = 100_000;

impl Task {
    /// The flag-style name (`digits`, `recall`, `copy`, `adding`).
    pub fn name(&self) -> &'static str {
        match self {
            Task::Digits { .. } => "digits",
            Task::Recall { .. } => "recall",
            Task::Copy { .. } => "copy",
            Task::Adding { .. } => "adding",
        }
    }

    /// Validates the parameters and prepares the data (`data_seed` fixes the recall
    /// patterns).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming `padding` (copy needs `T >= 1`, adding `T >= 2`,
    /// every task `L <= 100 000`), `classes` (2..=1000) or `dim` (1..=4096).
    pub fn build(&self, data_seed: u64) -> Result<TaskData> {
        let too_long = |t: usize, extra: usize| t.saturating_add(extra) > MAX_SEQ_LEN;
        match *self {
            Task::Digits { padding, pad } => {
                if too_long(padding, 1) {
                    return Err(Error::invalid("padding", padding as f64, "at most 99 999"));
                }
                Ok(digits(padding, pad))
            }
            Task::Recall {
                padding,
                classes,
                dim,
                pad,
            } => {
                if too_long(padding, 1) {
                    return Err(Error::invalid("padding", padding as f64, "at most 99 999"));
                }
                if !(2..=1000).contains(&classes) {
                    return Err(Error::invalid("classes", classes as f64, "2 to 1000"));
                }
                if !(1..=4096).contains(&dim) {
                    return Err(Error::invalid("dim", dim as f64, "1 to 4096"));
                }
                let mut r = rng(data_seed, 1);
                let patterns = (0..classes * dim)
                    .map(|_| r.sample::<f64, _>(StandardNormal))
                    .collect();
                let k = classes as f64;
                Ok(TaskData {
                    task: *self,
                    seq_len: padding + 1,
                    input_dim: dim,
                    output_dim: classes,
                    readout: vec![padding + 1],
                    scored_from: 0,
                    loss: LossKind::CrossEntropy,
                    input_second_moment: pad_moment(pad),
                    baseline: Baseline {
                        loss: k.ln(),
                        accuracy: Some(1.0 / k),
                        rule: "uniform prediction over the classes",
                    },
                    kind: Kind::Recall { patterns, pad },
                })
            }
            Task::Copy { delay } => {
                if delay == 0 || too_long(delay, 20) {
                    return Err(Error::invalid(
                        "padding",
                        delay as f64,
                        "at least 1 for copy (T of the standard form) and at most 99 980",
                    ));
                }
                let len = delay + 20;
                Ok(TaskData {
                    task: *self,
                    seq_len: len,
                    input_dim: 10,
                    output_dim: 9,
                    readout: (1..=len).collect(),
                    scored_from: len - 10,
                    loss: LossKind::CrossEntropy,
                    // One-hot of dimension 10 at every step.
                    input_second_moment: 0.1,
                    baseline: Baseline {
                        loss: 10.0 * 8f64.ln() / len as f64,
                        accuracy: Some(1.0 / 8.0),
                        rule: "blank until the delimiter, then uniform over the 8 symbols \
                               (loss 10 ln 8 / (T + 20); accuracy on the last 10 steps)",
                    },
                    kind: Kind::Copy,
                })
            }
            Task::Adding { length } => {
                if !(2..=MAX_SEQ_LEN).contains(&length) {
                    return Err(Error::invalid(
                        "padding",
                        length as f64,
                        "at least 2 for adding (the sequence length T) and at most 100 000",
                    ));
                }
                Ok(TaskData {
                    task: *self,
                    seq_len: length,
                    input_dim: 2,
                    output_dim: 1,
                    readout: vec![length],
                    scored_from: 0,
                    loss: LossKind::SquaredError,
                    input_second_moment: (1.0 / 3.0 + 2.0 / length as f64) / 2.0,
                    baseline: Baseline {
                        loss: 1.0 / 6.0,
                        accuracy: None,
                        rule: "predict 1 (the mean of the target): MSE = Var = 1/6 ≈ 0.167",
                    },
                    kind: Kind::Adding,
                })
            }
        }
    }
}

fn pad_moment(pad: Padding) -> f64 {
    match pad {
        Padding::Noise => 1.0,
        Padding::Zero => 0.0,
    }
}

/// Splits and normalises the digits. The split is stratified and fixed: the `k`-th image of
/// each class (in file order, `k = 0, 1, …`) is a test image when `k ≡ 4 (mod 5)` — 355 test
/// and 1,442 training images, every class 34–36 times in the test set. (A plain `i mod 5`
/// split would be unbalanced: the file starts with the classes in cyclic order.) Pixels
/// `p/16` are standardised by the mean and standard deviation of all training pixels, so that
/// a normalised image has mean second moment 1 per coordinate, as the noise padding.
fn digits(padding: usize, pad: Padding) -> TaskData {
    let labels: Vec<u32> = (0..DIGITS_ROWS)
        .map(|r| u32::from(DIGITS[r * 65 + 64]))
        .collect();
    let mut seen = [0usize; 10];
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for (r, &c) in labels.iter().enumerate() {
        let k = seen[c as usize];
        seen[c as usize] += 1;
        if k % 5 == 4 {
            test.push(r)
        } else {
            train.push(r)
        }
    }
    let px = |r: usize, i: usize| f64::from(DIGITS[r * 65 + i]) / 16.0;
    let count = (train.len() * 64) as f64;
    let mean = train
        .iter()
        .flat_map(|&r| (0..64).map(move |i| px(r, i)))
        .sum::<f64>()
        / count;
    let var = train
        .iter()
        .flat_map(|&r| (0..64).map(move |i| (px(r, i) - mean).powi(2)))
        .sum::<f64>()
        / count;
    let sd = var.sqrt();
    let images = (0..DIGITS_ROWS)
        .flat_map(|r| (0..64).map(move |i| (px(r, i) - mean) / sd))
        .collect();
    // Baseline: predict the training class frequencies.
    let mut freq = [0.0f64; 10];
    for &r in &train {
        freq[labels[r] as usize] += 1.0 / train.len() as f64;
    }
    let loss = test
        .iter()
        .map(|&r| -freq[labels[r] as usize].ln())
        .sum::<f64>()
        / test.len() as f64;
    let best = (0..10)
        .max_by(|&a, &b| freq[a].total_cmp(&freq[b]))
        .unwrap_or(0) as u32;
    let acc = test.iter().filter(|&&r| labels[r] == best).count() as f64 / test.len() as f64;
    TaskData {
        task: Task::Digits { padding, pad },
        seq_len: padding + 1,
        input_dim: 64,
        output_dim: 10,
        readout: vec![padding + 1],
        scored_from: 0,
        loss: LossKind::CrossEntropy,
        input_second_moment: pad_moment(pad),
        baseline: Baseline {
            loss,
            accuracy: Some(acc),
            rule: "predict the training-set class frequencies (accuracy: the most frequent class)",
        },
        kind: Kind::Digits {
            images,
            labels,
            train,
            test,
            pad,
        },
    }
}

impl TaskData {
    /// Readout steps per sequence.
    pub fn readouts(&self) -> usize {
        self.readout.len()
    }

    /// The size of the evaluation batch for `eval_size` (digits: the whole test split).
    pub fn eval_batch_size(&self, eval_size: usize) -> usize {
        match &self.kind {
            Kind::Digits { test, .. } => test.len(),
            _ => eval_size,
        }
    }

    /// A training batch of `b` sequences drawn from `rng`.
    pub fn sample<T: Real>(&self, rng: &mut ChaCha8Rng, b: usize) -> Batch<T> {
        let mut batch = Batch {
            x: Vec::new(),
            batch: b,
            targets: Targets::Classes(Vec::new()),
        };
        self.fill(rng, b, None, &mut batch);
        batch
    }

    /// Refills `batch` with `b` fresh sequences (reusing its memory).
    pub(crate) fn refill<T: Real>(&self, rng: &mut ChaCha8Rng, b: usize, batch: &mut Batch<T>) {
        self.fill(rng, b, None, batch);
    }

    /// The fixed evaluation batch: digits — the whole test split in order; the synthetic
    /// tasks — `eval_size` sequences. Padding noise and draws come from stream 2 of
    /// `data_seed`, so every run with the same `data_seed` evaluates on the same batch.
    pub fn eval_batch<T: Real>(&self, eval_size: usize, data_seed: u64) -> Batch<T> {
        let mut r = rng(data_seed, 2);
        let b = self.eval_batch_size(eval_size);
        let mut batch = Batch {
            x: Vec::new(),
            batch: b,
            targets: Targets::Classes(Vec::new()),
        };
        let rows = match &self.kind {
            Kind::Digits { test, .. } => Some(test.as_slice()),
            _ => None,
        };
        self.fill(&mut r, b, rows, &mut batch);
        batch
    }

    fn fill<T: Real>(
        &self,
        r: &mut ChaCha8Rng,
        b: usize,
        rows: Option<&[usize]>,
        out: &mut Batch<T>,
    ) {
        let (len, d) = (self.seq_len, self.input_dim);
        out.batch = b;
        out.x.clear();
        out.x.resize(len * b * d, T::zero());
        let x = &mut out.x;
        let at = |s: usize, j: usize, i: usize| (s * b + j) * d + i;
        let normal = |r: &mut ChaCha8Rng| T::of(r.sample::<f64, _>(StandardNormal));
        let mut classes = Vec::new();
        let mut values = Vec::new();
        match &self.kind {
            Kind::Digits {
                images,
                labels,
                train,
                pad,
                ..
            } => {
                for j in 0..b {
                    let row = match rows {
                        Some(rows) => rows[j],
                        None => train[r.random_range(0..train.len())],
                    };
                    classes.push(labels[row]);
                    for i in 0..64 {
                        x[at(0, j, i)] = T::of(images[row * 64 + i]);
                    }
                }
                if *pad == Padding::Noise {
                    for v in &mut x[b * d..] {
                        *v = normal(r);
                    }
                }
            }
            Kind::Recall { patterns, pad } => {
                let k = self.output_dim;
                for j in 0..b {
                    let c = r.random_range(0..k);
                    classes.push(c as u32);
                    for i in 0..d {
                        x[at(0, j, i)] = T::of(patterns[c * d + i]);
                    }
                }
                if *pad == Padding::Noise {
                    for v in &mut x[b * d..] {
                        *v = normal(r);
                    }
                }
            }
            Kind::Copy => {
                let delay = len - 20;
                // Targets step-major: blanks for steps 1..=T+10, then the symbols.
                let mut symbols = vec![0u32; 10 * b];
                for j in 0..b {
                    for s in 0..10 {
                        let sym = r.random_range(1..=8u32);
                        symbols[s * b + j] = sym;
                        x[at(s, j, sym as usize)] = T::one();
                    }
                    for s in 10..len {
                        let sym = if s == delay + 9 { 9 } else { 0 };
                        x[at(s, j, sym)] = T::one();
                    }
                }
                classes = vec![0u32; (len - 10) * b];
                classes.extend_from_slice(&symbols);
            }
            Kind::Adding => {
                let half = len / 2;
                for j in 0..b {
                    let first = r.random_range(0..half);
                    let second = r.random_range(half..len);
                    let mut sum = 0.0;
                    for s in 0..len {
                        let v: f64 = r.random();
                        x[at(s, j, 0)] = T::of(v);
                        if s == first || s == second {
                            x[at(s, j, 1)] = T::one();
                            sum += T::of(v).f64();
                        }
                    }
                    values.push(sum);
                }
            }
        }
        out.targets = match self.loss {
            LossKind::CrossEntropy => Targets::Classes(classes),
            LossKind::SquaredError => Targets::Values(values),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The embedded file is the UCI test set as scikit-learn ships it: 1,797 rows, pixel counts
    /// 0..16, the class counts UCI lists, and the FNV-1a hash of the bytes the generator script
    /// wrote (its SHA-256 is in data/digits/README.md).
    #[test]
    fn digits_data_is_the_uci_test_set() {
        assert_eq!(DIGITS.len(), 1797 * 65);
        let mut counts = [0usize; 10];
        for r in 0..1797 {
            assert!(DIGITS[r * 65..r * 65 + 64].iter().all(|&p| p <= 16));
            counts[DIGITS[r * 65 + 64] as usize] += 1;
        }
        assert_eq!(counts, [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
        assert_eq!(crate::output::fnv1a64(DIGITS), 0x7768_69cc_e379_5967);
    }

    #[test]
    fn digits_split_and_normalisation() {
        let t = Task::Digits {
            padding: 3,
            pad: Padding::Noise,
        }
        .build(0)
        .unwrap();
        let Kind::Digits {
            images,
            train,
            test,
            ..
        } = &t.kind
        else {
            panic!()
        };
        assert_eq!((train.len(), test.len()), (1442, 355));
        let Kind::Digits { labels, .. } = &t.kind else {
            panic!()
        };
        for c in 0..10 {
            let n = test.iter().filter(|&&r| labels[r] == c).count();
            assert!((34..=36).contains(&n), "class {c}: {n}");
        }
        let m2: f64 = train
            .iter()
            .flat_map(|&r| &images[r * 64..r * 64 + 64])
            .map(|v| v * v)
            .sum::<f64>()
            / (train.len() * 64) as f64;
        assert!((m2 - 1.0).abs() < 1e-12, "{m2}");
        let e = t.eval_batch::<f64>(0, 7);
        assert_eq!((e.batch, e.x.len()), (355, 4 * 355 * 64));
        assert_eq!(e, t.eval_batch::<f64>(0, 7));
        assert_ne!(e.x, t.eval_batch::<f64>(0, 8).x);
        assert!(t.baseline.accuracy.unwrap() > 0.08 && t.baseline.accuracy.unwrap() < 0.12);
        assert!((t.baseline.loss - 10f64.ln()).abs() < 0.01);
    }

    /// The standard copy sequence, symbol by symbol, and the adding problem's markers and sums.
    #[test]
    fn copy_and_adding_follow_the_standard_forms() {
        let t = Task::Copy { delay: 5 }.build(0).unwrap();
        assert_eq!((t.seq_len, t.readouts(), t.scored_from), (25, 25, 15));
        let b = t.sample::<f64>(&mut rng(1, 1), 3);
        let Targets::Classes(c) = &b.targets else {
            panic!()
        };
        for j in 0..3 {
            let sym = |s: usize| (0..10).find(|&i| b.x[(s * 3 + j) * 10 + i] == 1.0).unwrap();
            for s in 0..25 {
                assert_eq!(
                    b.x[(s * 3 + j) * 10..(s * 3 + j + 1) * 10]
                        .iter()
                        .sum::<f64>(),
                    1.0
                );
            }
            for s in 0..10 {
                assert!((1..=8).contains(&sym(s)));
                assert_eq!(c[(15 + s) * 3 + j] as usize, sym(s));
            }
            assert_eq!(sym(14), 9);
            for s in (10..14).chain(15..25) {
                assert_eq!(sym(s), 0);
            }
            for s in 0..15 {
                assert_eq!(c[s * 3 + j], 0);
            }
        }
        let t = Task::Adding { length: 10 }.build(0).unwrap();
        let b = t.sample::<f64>(&mut rng(1, 1), 50);
        let Targets::Values(v) = &b.targets else {
            panic!()
        };
        for (j, &target) in v.iter().enumerate() {
            let marks: Vec<usize> = (0..10)
                .filter(|&s| b.x[(s * 50 + j) * 2 + 1] == 1.0)
                .collect();
            assert_eq!(marks.len(), 2);
            assert!(marks[0] < 5 && marks[1] >= 5);
            let sum: f64 = marks.iter().map(|&s| b.x[(s * 50 + j) * 2]).sum();
            assert_eq!(sum, target);
        }
    }

    #[test]
    fn bad_parameters_are_named() {
        let e = Task::Copy { delay: 0 }.build(0).unwrap_err();
        assert!(e.to_string().contains("padding"));
        let e = Task::Adding { length: 1 }.build(0).unwrap_err();
        assert!(e.to_string().contains("padding"));
        let e = Task::Recall {
            padding: 1,
            classes: 1,
            dim: 4,
            pad: Padding::Zero,
        }
        .build(0)
        .unwrap_err();
        assert!(e.to_string().contains("classes"));
        let e = Task::Digits {
            padding: 200_000,
            pad: Padding::Zero,
        }
        .build(0)
        .unwrap_err();
        assert!(e.to_string().contains("padding"));
    }
}
