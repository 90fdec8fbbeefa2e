//! `--plot`: learning curves (validation metric per iteration, one line per configuration)
//! and a rank × reg-param heat map of the mean validation metric, as one SVG.

use std::path::Path;

use alternator::tune::TuneReport;
use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;

use crate::common;

/// Checks that `path` names an SVG file.
pub fn check_path(path: &Path) -> anyhow::Result<()> {
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("svg") => Ok(()),
        Some("png") => common::usage(format!(
            "{}: PNG output is not built in (no font rasteriser); use an .svg file name",
            path.display()
        )),
        _ => common::usage(format!("{}: --plot needs a file name ending in .svg", path.display())),
    }
}

/// A configuration's legend label: rank and λ, plus α / iterations / biases when they vary.
pub fn label(r: &TuneReport, i: usize) -> String {
    let Some(c) = r.results.get(i) else { return String::new() };
    let p = &c.params;
    let varies = |f: &dyn Fn(&alternator::AlsParams) -> String| {
        r.results.iter().any(|o| f(&o.params) != f(p))
    };
    let mut s = format!("rank={} reg={}", p.rank, p.reg_param);
    if varies(&|q| q.alpha.to_string()) {
        s.push_str(&format!(" alpha={}", p.alpha));
    }
    if varies(&|q| q.max_iter.to_string()) {
        s.push_str(&format!(" iter={}", p.max_iter));
    }
    if varies(&|q| q.biases.to_string()) {
        s.push_str(&format!(" biases={}", p.biases));
    }
    s
}

/// Green (best) → yellow → red (worst) for `t ∈ [0, 1]`.
fn heat(t: f64) -> RGBColor {
    let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 1.0 };
    let lerp = |a: f64, b: f64, x: f64| (a + (b - a) * x).round() as u8;
    let (g, y, r) = ((26.0, 152.0, 80.0), (254.0, 224.0, 139.0), (215.0, 48.0, 39.0));
    if t < 0.5 {
        let x = t * 2.0;
        RGBColor(lerp(g.0, y.0, x), lerp(g.1, y.1, x), lerp(g.2, y.2, x))
    } else {
        let x = (t - 0.5) * 2.0;
        RGBColor(lerp(y.0, r.0, x), lerp(y.1, r.1, x), lerp(y.2, r.2, x))
    }
}

fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow::anyhow!("plotting failed: {e:?}")
}

/// Draws the curves and the heat map of `r` into the SVG file `path`.
pub fn draw(r: &TuneReport, path: &Path) -> anyhow::Result<()> {
    let n = r.results.len();
    let legend_rows = n.min(40);
    let height = (520 + legend_rows.saturating_sub(12) * 18) as u32;
    let root = SVGBackend::new(path, (1300, height)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let (left, right) = root.split_horizontally(760);
    let metric = r.metric.to_string();
    let finite = |v: &f64| v.is_finite();

    // Learning curves.
    let max_it = r.results.iter().map(|c| c.mean_curve.len()).max().unwrap_or(1).max(1);
    // The first iteration is usually far off: with 3+ iterations the axis starts from the
    // second, so the differences that matter stay visible (earlier points are clipped).
    let skip = usize::from(max_it >= 3);
    let vals: Vec<f64> = r
        .results
        .iter()
        .flat_map(|c| c.mean_curve.iter().skip(skip).copied())
        .filter(finite)
        .collect();
    let (mut lo, mut hi) =
        vals.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    if !lo.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.05).max(1e-6);
    let folds = if r.folds > 1 { format!(", mean of {} folds", r.folds) } else { String::new() };
    let mut chart = ChartBuilder::on(&left)
        .caption(format!("validation {metric} per iteration{folds}"), ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(1f64..(max_it.max(2) as f64), (lo - pad)..(hi + pad))
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("iteration")
        .y_desc(metric.as_str())
        .x_labels(max_it.clamp(2, 20))
        .x_label_formatter(&|x| format!("{}", x.round() as i64))
        .draw()
        .map_err(err)?;
    let best = r.ranking.first().copied();
    for (i, c) in r.results.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let width = if Some(i) == best { 3 } else { 1 };
        let pts: Vec<(f64, f64)> = c
            .mean_curve
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_finite())
            .map(|(t, &v)| ((t + 1) as f64, v))
            .collect();
        let mut name = label(r, i);
        if Some(i) == best {
            name.push_str(" (best)");
        }
        chart
            .draw_series(LineSeries::new(pts, color.stroke_width(width)))
            .map_err(err)?
            .label(name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(3))
            });
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(err)?;

    // Heat map over rank × reg-param: the best mean over the other dimensions.
    let mut ranks: Vec<usize> = r.results.iter().map(|c| c.params.rank).collect();
    ranks.sort_unstable();
    ranks.dedup();
    let mut regs: Vec<f32> = r.results.iter().map(|c| c.params.reg_param).collect();
    regs.sort_by(f32::total_cmp);
    regs.dedup();
    let cell = |ri: usize, gi: usize| -> f64 {
        let mut best = f64::NAN;
        for c in &r.results {
            if Some(&c.params.rank) == ranks.get(ri)
                && Some(&c.params.reg_param) == regs.get(gi)
                && r.metric.better(c.mean, best)
            {
                best = c.mean;
            }
        }
        best
    };
    let (nx, ny) = (regs.len() as i32, ranks.len() as i32);
    let mut hchart = ChartBuilder::on(&right)
        .caption(format!("{metric} by rank × reg-param"), ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d((0..nx).into_segmented(), (0..ny).into_segmented())
        .map_err(err)?;
    let regs_l = regs.clone();
    let ranks_l = ranks.clone();
    hchart
        .configure_mesh()
        .disable_mesh()
        .x_desc("reg-param")
        .y_desc("rank")
        .x_labels(regs.len())
        .y_labels(ranks.len())
        .x_label_formatter(&move |v| match v {
            SegmentValue::CenterOf(i) => {
                regs_l.get(*i as usize).map(|x| x.to_string()).unwrap_or_default()
            }
            _ => String::new(),
        })
        .y_label_formatter(&move |v| match v {
            SegmentValue::CenterOf(i) => {
                ranks_l.get(*i as usize).map(|x| x.to_string()).unwrap_or_default()
            }
            _ => String::new(),
        })
        .draw()
        .map_err(err)?;
    let cells: Vec<(i32, i32, f64)> = (0..ny)
        .flat_map(|y| (0..nx).map(move |x| (x, y)))
        .map(|(x, y)| (x, y, cell(y as usize, x as usize)))
        .collect();
    let fin: Vec<f64> = cells.iter().map(|c| c.2).filter(finite).collect();
    let (clo, chi) =
        fin.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    let span = if chi > clo { chi - clo } else { 1.0 };
    for &(x, y, v) in &cells {
        let t = if r.larger_is_better { (chi - v) / span } else { (v - clo) / span };
        let color = if v.is_finite() { heat(t) } else { RGBColor(200, 200, 200) };
        hchart
            .draw_series(std::iter::once(Rectangle::new(
                [
                    (SegmentValue::Exact(x), SegmentValue::Exact(y)),
                    (SegmentValue::Exact(x + 1), SegmentValue::Exact(y + 1)),
                ],
                color.filled(),
            )))
            .map_err(err)?;
        hchart
            .draw_series(std::iter::once(Text::new(
                super::fmt_metric(v),
                (SegmentValue::CenterOf(x), SegmentValue::CenterOf(y)),
                ("sans-serif", 16).into_font().color(&BLACK).pos(
                    plotters::style::text_anchor::Pos::new(
                        plotters::style::text_anchor::HPos::Center,
                        plotters::style::text_anchor::VPos::Center,
                    ),
                ),
            )))
            .map_err(err)?;
    }
    root.present().map_err(err)?;
    Ok(())
}
