//! The heat map over rank × reg-param: one row per distinct rank, one column per distinct
//! reg-param, each cell the best mean over the other parameters, the best cell framed.

use alternator::tune::TuneReport;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{DESC, SMALL, TEXT, Ticks, err, font, titled, varying};
use crate::cmd::tune::fmt_metric;

/// Cells are at most this many pixels wide or high, so a small grid stays compact.
const MAX_CELL: u32 = 170;
/// ... and at least this wide and high, so each holds its value.
const MIN_CELL: (u32, u32) = (78, 46);
/// The chart's margins and label areas around the cells: left, right, top, bottom.
const FRAME: (u32, u32, u32, u32) = (68, 20, 0, 52);
/// The caption and note above the chart.
const TITLE_H: u32 = 56;

/// The heat map's content.
pub struct HeatMap {
    ranks: Vec<usize>,
    regs: Vec<f32>,
    /// (column = reg-param index, row = rank index, value)
    cells: Vec<(usize, usize, f64)>,
    /// The cell of the best configuration.
    best: Option<(usize, usize)>,
    larger_is_better: bool,
    caption: String,
    note: String,
}

impl HeatMap {
    /// The grid of `r`; `order` lists the configurations best first.
    pub fn new(r: &TuneReport, order: &[usize]) -> Self {
        let mut ranks: Vec<usize> = r.results.iter().map(|c| c.params.rank).collect();
        ranks.sort_unstable();
        ranks.dedup();
        let mut regs: Vec<f32> = r.results.iter().map(|c| c.params.reg_param).collect();
        regs.sort_by(f32::total_cmp);
        regs.dedup();
        let col = |g: f32| regs.iter().position(|&x| x.total_cmp(&g).is_eq());
        let row = |k: usize| ranks.iter().position(|&x| x == k);
        let mut cells = Vec::with_capacity(ranks.len() * regs.len());
        for y in 0..ranks.len() {
            for x in 0..regs.len() {
                let mut best = f64::NAN;
                for c in &r.results {
                    if row(c.params.rank) == Some(y)
                        && col(c.params.reg_param) == Some(x)
                        && r.metric.better(c.mean, best)
                    {
                        best = c.mean;
                    }
                }
                cells.push((x, y, best));
            }
        }
        let best = order
            .first()
            .and_then(|&i| r.results.get(i))
            .and_then(|b| Some((col(b.params.reg_param)?, row(b.params.rank)?)));
        let v = varying(r);
        let others: Vec<&str> =
            [(v.alpha, "alpha"), (v.max_iter, "max-iter"), (v.biases, "biases")]
                .into_iter()
                .filter_map(|(on, name)| on.then_some(name))
                .collect();
        let mut note = String::from("★ best · green better, red worse");
        if !others.is_empty() {
            note.push_str(&format!(" · each cell: best over {}", others.join(", ")));
        }
        HeatMap {
            ranks,
            regs,
            cells,
            best,
            larger_is_better: r.larger_is_better,
            caption: format!("{} by rank × reg-param", r.metric),
            note,
        }
    }

    /// The smallest panel (width, height) that holds the captions and cells of legible size.
    pub fn min_size(&self) -> anyhow::Result<(u32, u32)> {
        let text_w = |s: &str, size| font(size).box_size(s).map(|b| b.0).map_err(err);
        let title_w = text_w(&self.caption, super::CAPTION)?.max(text_w(&self.note, SMALL)?);
        let (nx, ny) = (self.regs.len() as u32, self.ranks.len() as u32);
        let w = (FRAME.0 + FRAME.1 + nx * MIN_CELL.0).max(title_w + 24).max(540);
        let h = TITLE_H + FRAME.2 + FRAME.3 + ny * MIN_CELL.1;
        Ok((w, h))
    }

    /// Draws the panel into `area`.
    pub fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> anyhow::Result<()> {
        let body = titled(area, &self.caption, &self.note)?;
        let (nx, ny) = (self.regs.len(), self.ranks.len());
        let (pw, ph) = body.dim_in_pixel();
        let avail = (pw.saturating_sub(FRAME.0 + FRAME.1), ph.saturating_sub(FRAME.2 + FRAME.3));
        let cell_w = (avail.0 / nx.max(1) as u32).min(MAX_CELL);
        let cell_h = (avail.1 / ny.max(1) as u32).min(MAX_CELL);
        let used = (FRAME.0 + FRAME.1 + cell_w * nx as u32, FRAME.2 + FRAME.3 + cell_h * ny as u32);
        let left = pw.saturating_sub(used.0) / 2;
        let body = body.shrink((left, 0), used);

        let centres = |n: usize| -> Vec<f64> { (0..n).map(|k| k as f64 + 0.5).collect() };
        let mut chart = ChartBuilder::on(&body)
            .margin_left(8)
            .margin_right(FRAME.1)
            .margin_top(FRAME.2)
            .margin_bottom(8)
            .x_label_area_size(FRAME.3 - 8)
            .y_label_area_size(FRAME.0 - 8)
            .build_cartesian_2d(
                Ticks { range: 0f64..nx as f64, ticks: centres(nx) },
                Ticks { range: 0f64..ny as f64, ticks: centres(ny) },
            )
            .map_err(err)?;
        let name = |v: &f64, n: usize, f: &dyn Fn(usize) -> String| {
            let k = v.floor();
            if k >= 0.0 && (k as usize) < n { f(k as usize) } else { String::new() }
        };
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("reg-param")
            .y_desc("rank")
            .axis_desc_style(font(DESC).color(&BLACK))
            .label_style(font(TEXT).color(&BLACK))
            .x_label_formatter(&|v| name(v, nx, &|k| self.regs[k].to_string()))
            .y_label_formatter(&|v| name(v, ny, &|k| self.ranks[k].to_string()))
            .draw()
            .map_err(err)?;

        let (lo, hi) = self
            .cells
            .iter()
            .map(|c| c.2)
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
        let span = if hi > lo { hi - lo } else { 1.0 };
        let size = (cell_w.min(cell_h * 2) / 5).clamp(12, 19);
        let centre = Pos::new(HPos::Center, VPos::Center);
        for &(x, y, val) in &self.cells {
            let (x0, y0) = (x as f64, y as f64);
            let t = if self.larger_is_better { (hi - val) / span } else { (val - lo) / span };
            let bg = if val.is_finite() { heat(t) } else { RGBColor(200, 200, 200) };
            let whole = [(x0, y0), (x0 + 1.0, y0 + 1.0)];
            chart
                .draw_series([
                    Rectangle::new(whole, bg.filled()),
                    Rectangle::new(whole, WHITE.stroke_width(1)),
                ])
                .map_err(err)?;
            let is_best = self.best == Some((x, y));
            let text = if val.is_finite() { fmt_metric(val) } else { "—".to_string() };
            let ink = ink_on(bg);
            let at = (x0 + 0.5, y0 + 0.5);
            let dy = if is_best { -(size as i32) / 2 - 1 } else { 0 };
            chart
                .draw_series(std::iter::once(
                    EmptyElement::at(at)
                        + Text::new(text, (0, dy), font(size).color(&ink).pos(centre)),
                ))
                .map_err(err)?;
            if is_best {
                let small = font(size.saturating_sub(2).max(12)).color(&ink).pos(centre);
                chart
                    .draw_series(std::iter::once(
                        EmptyElement::at(at) + Text::new("★ best", (0, size as i32 / 2 + 3), small),
                    ))
                    .map_err(err)?;
            }
        }
        if let Some((x, y)) = self.best {
            // A 4-pixel frame inside the cell, as filled bars: the SVG backend draws a
            // rectangle's outline 1 pixel wide whatever the stroke width.
            let (x0, y0) = (x as f64, y as f64);
            let (x1, y1) = (x0 + 1.0, y0 + 1.0);
            let tx = 4.0 / f64::from(cell_w.max(1));
            let ty = 4.0 / f64::from(cell_h.max(1));
            chart
                .draw_series(
                    [
                        [(x0, y0), (x0 + tx, y1)],
                        [(x1 - tx, y0), (x1, y1)],
                        [(x0, y0), (x1, y0 + ty)],
                        [(x0, y1 - ty), (x1, y1)],
                    ]
                    .map(|r| Rectangle::new(r, BLACK.filled())),
                )
                .map_err(err)?;
        }
        Ok(())
    }
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

/// Black or white, whichever reads better on `bg`.
fn ink_on(bg: RGBColor) -> RGBColor {
    let luma = 0.299 * f64::from(bg.0) + 0.587 * f64::from(bg.1) + 0.114 * f64::from(bg.2);
    if luma < 135.0 { WHITE } else { BLACK }
}
