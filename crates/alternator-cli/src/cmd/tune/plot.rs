//! `--plot`: learning curves (validation metric per iteration, one line per configuration),
//! their legend, and a rank × reg-param heat map of the mean validation metric, as one SVG or
//! PNG picture (the format follows the file name's extension).
//!
//! Text is measured (both formats) and rasterised (PNG) with DejaVu Sans, compiled into the
//! binary, so no system font is needed; the SVG names the generic `sans-serif` family and
//! leaves drawing the glyphs to its viewer.

mod heat;
mod png;

use std::io::Write;
use std::path::Path;
use std::sync::OnceLock;

use alternator::tune::TuneReport;
use plotters::coord::Shift;
use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, ValueFormatter};
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use self::heat::HeatMap;
use crate::common;

/// DejaVu Sans 2.37 (see `plot/font/LICENSE`).
static FONT: &[u8] = include_bytes!("plot/font/DejaVuSans.ttf");
/// The family the embedded font is registered as, and the one the SVG names.
const FAMILY: &str = "sans-serif";

/// Picture formats, chosen by the file name's extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Svg,
    Png,
}

fn format_of(path: &Path) -> Option<Format> {
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("svg") => Some(Format::Svg),
        Some("png") => Some(Format::Png),
        _ => None,
    }
}

/// Checks that `path` names an SVG or a PNG file.
pub fn check_path(path: &Path) -> anyhow::Result<()> {
    match format_of(path) {
        Some(_) => Ok(()),
        None => common::usage(format!(
            "{}: --plot takes a file name ending in .svg or .png",
            path.display()
        )),
    }
}

/// A configuration's legend label: rank and λ, plus α / iterations / biases when they vary.
pub fn label(r: &TuneReport, i: usize) -> String {
    let Some(c) = r.results.get(i) else { return String::new() };
    let p = &c.params;
    let mut s = format!("rank={} reg={}", p.rank, p.reg_param);
    let v = varying(r);
    if v.alpha {
        s.push_str(&format!(" alpha={}", p.alpha));
    }
    if v.max_iter {
        s.push_str(&format!(" iter={}", p.max_iter));
    }
    if v.biases {
        s.push_str(&format!(" biases={}", p.biases));
    }
    s
}

/// Which of the parameters outside the heat map's two axes take more than one value.
struct Varying {
    alpha: bool,
    max_iter: bool,
    biases: bool,
}

fn varying(r: &TuneReport) -> Varying {
    let differs = |f: &dyn Fn(&alternator::AlsParams) -> String| {
        r.results.first().is_some_and(|a| r.results.iter().any(|o| f(&o.params) != f(&a.params)))
    };
    Varying {
        alpha: differs(&|q| q.alpha.to_string()),
        max_iter: differs(&|q| q.max_iter.to_string()),
        biases: differs(&|q| q.biases.to_string()),
    }
}

/// Line colours: tab10 with its light members (orange, pink, olive, cyan) darkened, so each has
/// a contrast of at least 3.4:1 on white.
const PALETTE: [RGBColor; 10] = [
    RGBColor(0x1f, 0x77, 0xb4), // blue
    RGBColor(0xd9, 0x5f, 0x02), // dark orange
    RGBColor(0x2c, 0xa0, 0x2c), // green
    RGBColor(0xd6, 0x27, 0x28), // red
    RGBColor(0x94, 0x67, 0xbd), // purple
    RGBColor(0x8c, 0x56, 0x4b), // brown
    RGBColor(0xc5, 0x1b, 0x7d), // magenta
    RGBColor(0x7f, 0x7f, 0x7f), // grey
    RGBColor(0x80, 0x80, 0x00), // olive
    RGBColor(0x00, 0x83, 0x8f), // teal
];

/// How the configuration ranked `pos` (0 = best) is drawn: the palette in rank order, solid for
/// the first ten, then dashed, dotted and long-dashed; the best one thicker.
#[derive(Clone, Copy)]
struct Stroke {
    color: RGBColor,
    width: u32,
    dash: Option<(u32, u32)>,
}

fn stroke(pos: usize) -> Stroke {
    let dash = match (pos / PALETTE.len()) % 4 {
        0 => None,
        1 => Some((6, 4)),
        2 => Some((2, 4)),
        _ => Some((18, 6)),
    };
    Stroke { color: PALETTE[pos % PALETTE.len()], width: if pos == 0 { 4 } else { 2 }, dash }
}

const NOTE: RGBColor = RGBColor(0x44, 0x44, 0x44);

fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow::anyhow!("plotting failed: {e:?}")
}

/// Registers the embedded font (once per process).
fn font_ready() -> anyhow::Result<()> {
    static OK: OnceLock<bool> = OnceLock::new();
    let ok =
        *OK.get_or_init(|| plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok());
    anyhow::ensure!(ok, "the embedded font could not be read");
    Ok(())
}

/// Text sizes (plotters' units: the em is size / 1.24 pixels).
const CAPTION: u32 = 23;
const DESC: u32 = 17;
const SMALL: u32 = 16;
const TEXT: u32 = 15;

fn font(size: u32) -> FontDesc<'static> {
    FontDesc::new(FontFamily::Name(FAMILY), f64::from(size), FontStyle::Normal)
}

/// A linear `f64` axis whose ticks (and grid lines) are exactly `ticks`.
struct Ticks {
    range: std::ops::Range<f64>,
    ticks: Vec<f64>,
}

impl Ranged for Ticks {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, (a, b): (i32, i32)) -> i32 {
        let t = (v - self.range.start) / (self.range.end - self.range.start);
        (f64::from(a) + f64::from(b - a) * t).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        // Bold points only: no light grid lines.
        if hint.weight().allow_light_points() { Vec::new() } else { self.ticks.clone() }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.range.clone()
    }
}

impl ValueFormatter<f64> for Ticks {
    fn format(v: &f64) -> String {
        v.to_string()
    }
}

/// The configurations best first: the report's ranking, then any it left out.
fn order(r: &TuneReport) -> Vec<usize> {
    let mut o: Vec<usize> = r.ranking.iter().copied().filter(|&i| i < r.results.len()).collect();
    for i in 0..r.results.len() {
        if !o.contains(&i) {
            o.push(i);
        }
    }
    o
}

/// Legend rows drawn at most; the rest are summarised in one line.
const MAX_LEGEND_ROWS: usize = 60;
const LEGEND_ROW: u32 = 20;
const LEGEND_TOP: u32 = 64;

/// The picture's geometry, and the legend's text.
struct Layout {
    size: (u32, u32),
    curves_w: u32,
    legend_w: u32,
    legend: Vec<String>,
    /// How many configurations (best first) have a curve and a legend row.
    drawn: usize,
    heat: HeatMap,
}

impl Layout {
    fn new(r: &TuneReport, order: &[usize]) -> anyhow::Result<Self> {
        let mut legend: Vec<String> = order
            .iter()
            .enumerate()
            .map(|(pos, &i)| {
                let mean = r.results.get(i).map_or(f64::NAN, |c| c.mean);
                let best = if pos == 0 { " (best)" } else { "" };
                format!("{}: {}{best}", label(r, i), super::fmt_metric(mean))
            })
            .collect();
        let summarised = legend.len() > MAX_LEGEND_ROWS;
        if summarised {
            let more = legend.len() - (MAX_LEGEND_ROWS - 1);
            legend.truncate(MAX_LEGEND_ROWS - 1);
            legend.push(format!("… and {more} more, not drawn (see the table)"));
        }
        let drawn = if summarised { legend.len() - 1 } else { legend.len() };
        let f = font(TEXT);
        let mut text_w = f.box_size("configurations, best first").map_err(err)?.0;
        for l in &legend {
            text_w = text_w.max(f.box_size(l).map_err(err)?.0);
        }
        let legend_w = text_w + 60;
        let heat = HeatMap::new(r, order);
        let (heat_w, heat_h) = heat.min_size()?;
        let height = (LEGEND_TOP + LEGEND_ROW * legend.len() as u32 + 20).max(heat_h).max(560);
        let curves_w = 720;
        Ok(Layout {
            size: (curves_w + legend_w + heat_w, height),
            curves_w,
            legend_w,
            legend,
            drawn,
            heat,
        })
    }
}

/// Draws the curves and the heat map of `r` into `path`, an SVG or a PNG file.
pub fn draw(r: &TuneReport, path: &Path) -> anyhow::Result<()> {
    font_ready()?;
    let order = order(r);
    let layout = Layout::new(r, &order)?;
    match format_of(path) {
        Some(Format::Png) => {
            let (w, h) = layout.size;
            let mut rgb = vec![0u8; w as usize * h as usize * 3];
            {
                let root = png::Raster::new(&mut rgb, (w, h), FONT)?.into_drawing_area();
                render(r, &order, &layout, &root)?;
                root.present().map_err(err)?;
            }
            png::write(path, (w, h), &rgb)
        }
        Some(Format::Svg) => {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, layout.size).into_drawing_area();
                render(r, &order, &layout, &root)?;
                root.present().map_err(err)?;
            }
            let mut out = crate::paths::OutFile::create(path)?;
            out.write_all(svg.as_bytes()).map_err(|e| alternator::Error::io(path, e))?;
            Ok(out.finish()?)
        }
        None => anyhow::bail!("{}: not an .svg or .png file name", path.display()),
    }
}

fn render<DB: DrawingBackend>(
    r: &TuneReport,
    order: &[usize],
    layout: &Layout,
    root: &DrawingArea<DB, Shift>,
) -> anyhow::Result<()> {
    root.fill(&WHITE).map_err(err)?;
    let (curves, rest) = root.split_horizontally(layout.curves_w);
    let (legend, heat_area) = rest.split_horizontally(layout.legend_w);
    draw_curves(r, &order[..layout.drawn.min(order.len())], &curves)?;
    draw_legend(layout, &legend)?;
    layout.heat.draw(&heat_area)
}

/// A panel's caption and, under it, a smaller note; returns the area below both.
fn titled<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    caption: &str,
    note: &str,
) -> anyhow::Result<DrawingArea<DB, Shift>> {
    let (w, _) = area.dim_in_pixel();
    let mid = (w / 2) as i32;
    let centre = Pos::new(HPos::Center, VPos::Center);
    area.draw(&Text::new(caption.to_string(), (mid, 18), font(CAPTION).color(&BLACK).pos(centre)))
        .map_err(err)?;
    if !note.is_empty() {
        area.draw(&Text::new(note.to_string(), (mid, 42), font(SMALL).color(&NOTE).pos(centre)))
            .map_err(err)?;
    }
    Ok(area.split_vertically(56).1)
}

/// The y range of the curves and what falls outside it.
struct YRange {
    lo: f64,
    hi: f64,
    /// e.g. "iteration 1 clipped at the top: 2.95–3.71"
    note: String,
}

/// Fits the y axis to the curves from the second iteration on (with 3+ iterations), and takes
/// in the earlier values only when they lie within half that span of it: iteration 1 is usually
/// far off and would squash the differences that matter. Whatever is left out is clipped at the
/// edge and named in the note.
fn y_range(curves: &[&[f64]], max_it: usize) -> YRange {
    let skip = usize::from(max_it >= 3);
    let values = |from: usize, to: usize| -> Vec<(usize, f64)> {
        curves
            .iter()
            .flat_map(|c| c.iter().copied().enumerate().skip(from).take(to - from))
            .filter(|(_, v)| v.is_finite())
            .collect()
    };
    let mut core = values(skip, usize::MAX);
    if core.is_empty() {
        core = values(0, usize::MAX);
    }
    if core.is_empty() {
        return YRange { lo: 0.0, hi: 1.0, note: String::new() };
    }
    let (mut lo, mut hi) = core
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &(_, v)| (a.min(v), b.max(v)));
    let span = (hi - lo).max(hi.abs() * 1e-3).max(1e-9);
    let (band_lo, band_hi) = (lo - 0.5 * span, hi + 0.5 * span);
    let mut above: Vec<(usize, f64)> = Vec::new();
    let mut below: Vec<(usize, f64)> = Vec::new();
    for (t, v) in values(0, skip) {
        if v > band_hi {
            above.push((t, v));
        } else if v < band_lo {
            below.push((t, v));
        } else {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    let pad = ((hi - lo) * 0.04).max(span * 0.02);
    let mut notes = Vec::new();
    for (side, vals) in [("top", &above), ("bottom", &below)] {
        if vals.is_empty() {
            continue;
        }
        let (a, b) = vals
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &(_, v)| (a.min(v), b.max(v)));
        let range = if a == b {
            super::fmt_metric(a)
        } else {
            format!("{}–{}", super::fmt_metric(a), super::fmt_metric(b))
        };
        let arrow = if side == "top" { '↑' } else { '↓' };
        notes.push(format!("{arrow} iteration 1 clipped at the {side}: {range}"));
    }
    YRange { lo: lo - pad, hi: hi + pad, note: notes.join("; ") }
}

/// Splits the polyline `pts` into the runs inside `lo ≤ y ≤ hi`, cutting segments at the edges.
fn clip(pts: &[(f64, f64)], lo: f64, hi: f64) -> Vec<Vec<(f64, f64)>> {
    let mut runs: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut cur: Vec<(f64, f64)> = Vec::new();
    if let [p] = pts {
        if (lo..=hi).contains(&p.1) {
            runs.push(vec![*p]);
        }
        return runs;
    }
    for w in pts.windows(2) {
        let ((px, py), (x, y)) = (w[0], w[1]);
        let dy = y - py;
        // The part of the segment inside the band, as parameters t0 ≤ t1 in [0, 1].
        let (t0, t1) = if dy == 0.0 {
            if (lo..=hi).contains(&py) { (0.0, 1.0) } else { (1.0, 0.0) }
        } else {
            let (ta, tb) = ((lo - py) / dy, (hi - py) / dy);
            let (enter, leave) = if dy > 0.0 { (ta, tb) } else { (tb, ta) };
            (enter.max(0.0), leave.min(1.0))
        };
        if t0 > t1 {
            if !cur.is_empty() {
                runs.push(std::mem::take(&mut cur));
            }
            continue;
        }
        let at = |t: f64| (px + (x - px) * t, py + dy * t);
        if cur.is_empty() {
            cur.push(at(t0));
        }
        cur.push(at(t1));
        if t1 < 1.0 {
            runs.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        runs.push(cur);
    }
    runs
}

/// Ticks on the iteration axis: every iteration, or the multiples of 2, 5, 10, 20, 50, … that
/// give at most 12 ticks (and 1, unless it would crowd 2).
fn iteration_ticks(max_it: usize) -> Vec<f64> {
    let step = [1, 2, 5]
        .iter()
        .flat_map(|&m| (0..12).map(move |e| m * 10usize.pow(e)))
        .filter(|&s| max_it / s <= 12)
        .min()
        .unwrap_or(max_it);
    let mut t = if step == 2 { vec![] } else { vec![1.0] };
    t.extend((step..=max_it).step_by(step).filter(|&k| k > 1).map(|k| k as f64));
    t
}

/// The curves of the configurations in `shown` (best first).
fn draw_curves<DB: DrawingBackend>(
    r: &TuneReport,
    shown: &[usize],
    area: &DrawingArea<DB, Shift>,
) -> anyhow::Result<()> {
    let metric = r.metric.to_string();
    let curves: Vec<&[f64]> =
        shown.iter().filter_map(|&i| r.results.get(i)).map(|c| c.mean_curve.as_slice()).collect();
    let max_it = curves.iter().map(|c| c.len()).max().unwrap_or(1).max(1);
    let y = y_range(&curves, max_it);
    let folds = if r.folds > 1 { format!(", mean of {} folds", r.folds) } else { String::new() };
    let body = titled(area, &format!("validation {metric} per iteration{folds}"), &y.note)?;
    let x_hi = max_it.max(2) as f64;
    let ticks = iteration_ticks(max_it.max(2));
    let span = y.hi - y.lo;
    let decimals = ((-(span / 8.0).log10()).ceil().max(0.0) as usize).min(6);
    let dir = if r.larger_is_better { "larger is better" } else { "smaller is better" };
    let mut chart = ChartBuilder::on(&body)
        .margin_left(8)
        .margin_right(16)
        .margin_bottom(8)
        .x_label_area_size(44)
        .y_label_area_size(72)
        .build_cartesian_2d(Ticks { range: 1f64..x_hi, ticks }, y.lo..y.hi)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("iteration")
        .y_desc(format!("{metric} ({dir})"))
        .axis_desc_style(font(DESC).color(&BLACK))
        .label_style(font(TEXT).color(&BLACK))
        .bold_line_style(BLACK.mix(0.12))
        .light_line_style(TRANSPARENT)
        .y_labels(8)
        .x_label_formatter(&|x| format!("{}", x.round() as i64))
        .y_label_formatter(&|v| format!("{v:.decimals$}"))
        .draw()
        .map_err(err)?;
    // Worst first, so the better curves (and the best, thickest) are drawn on top.
    for (pos, &i) in shown.iter().enumerate().rev() {
        let Some(c) = r.results.get(i) else { continue };
        let s = stroke(pos);
        let style = s.color.stroke_width(s.width);
        let pts: Vec<(f64, f64)> = c
            .mean_curve
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_finite())
            .map(|(t, &v)| ((t + 1) as f64, v))
            .collect();
        for run in clip(&pts, y.lo, y.hi) {
            if run.len() == 1 {
                chart.draw_series(std::iter::once(Circle::new(run[0], 3, style.filled())))
            } else if let Some((on, off)) = s.dash {
                chart.draw_series(DashedLineSeries::new(run, on, off, style))
            } else {
                chart.draw_series(LineSeries::new(run, style))
            }
            .map_err(err)?;
        }
    }
    Ok(())
}

fn draw_legend<DB: DrawingBackend>(
    layout: &Layout,
    area: &DrawingArea<DB, Shift>,
) -> anyhow::Result<()> {
    let left = Pos::new(HPos::Left, VPos::Center);
    area.draw(&Text::new(
        "configurations, best first",
        (8, LEGEND_TOP as i32 - 6),
        font(TEXT).color(&NOTE).pos(left),
    ))
    .map_err(err)?;
    for (pos, text) in layout.legend.iter().enumerate() {
        let y = (LEGEND_TOP + LEGEND_ROW * (pos as u32 + 1)) as i32 - 4;
        if pos < layout.drawn {
            let s = stroke(pos);
            let style = s.color.stroke_width(s.width);
            let line = vec![(8, y), (40, y)];
            match s.dash {
                Some((on, off)) => area.draw(&DashedPathElement::new(line, on, off, style)),
                None => area.draw(&PathElement::new(line, style)),
            }
            .map_err(err)?;
        }
        area.draw(&Text::new(text.clone(), (48, y), font(TEXT).color(&BLACK).pos(left)))
            .map_err(err)?;
    }
    Ok(())
}
