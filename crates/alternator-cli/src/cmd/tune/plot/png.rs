//! PNG output: plotters' bitmap backend drawing into memory, its text set with ab_glyph from
//! the embedded font, and the pixels encoded with the `png` crate.
//!
//! The text is drawn here rather than by plotters' own ab_glyph text path, which places each
//! glyph at its advance without its left side bearing (so "0.1: 0.9196" came out unevenly
//! spaced, with gaps after '.' and ':'), and rounds every glyph to a whole pixel.

use std::path::Path;

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};
use anyhow::Context;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind,
};

/// A bitmap backend whose text is drawn from one TrueType font.
pub struct Raster<'a> {
    inner: BitMapBackend<'a>,
    font: FontRef<'static>,
}

impl<'a> Raster<'a> {
    /// Draws into `rgb` (8-bit RGB, `w * h * 3` bytes) with the font in `font`.
    pub fn new(rgb: &'a mut [u8], size: (u32, u32), font: &'static [u8]) -> anyhow::Result<Self> {
        let font = FontRef::try_from_slice(font).context("the embedded font could not be read")?;
        Ok(Raster { inner: BitMapBackend::with_buffer(rgb, size), font })
    }
}

type Error = DrawingErrorKind<<BitMapBackend<'static> as DrawingBackend>::ErrorType>;

impl DrawingBackend for Raster<'_> {
    type ErrorType = <BitMapBackend<'static> as DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), Error> {
        self.inner.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), Error> {
        self.inner.present()
    }

    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> Result<(), Error> {
        self.inner.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), Error> {
        self.inner.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), Error> {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), Error> {
        self.inner.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), Error> {
        self.inner.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), Error> {
        self.inner.fill_polygon(vert, style)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), Error> {
        self.inner.blit_bitmap(pos, size, src)
    }

    /// Lays `text` out on one line (advances and kerning), anchors its
    /// box (ascent to descent) at `pos`, turns it with the style's rotation and blends each
    /// glyph's coverage into the pixels.
    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), Error> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        // plotters' SVG backend writes `font-size: size / 1.24` (the em); the same em here.
        let em = style.size() as f32 / 1.24;
        let scale = em * self.font.height_unscaled() / self.font.units_per_em().unwrap_or(2048.0);
        let font = self.font.as_scaled(PxScale::from(scale));
        let mut width = 0f32;
        let mut prev = None;
        let mut placed = Vec::with_capacity(text.len());
        for c in text.chars() {
            let id = font.glyph_id(c);
            if let Some(p) = prev {
                width += font.kern(p, id);
            }
            placed.push((id, width));
            width += font.h_advance(id);
            prev = Some(id);
        }
        let height = font.ascent() - font.descent();
        let anchor = style.anchor();
        let dx = match anchor.h_pos {
            HPos::Left => 0.0,
            HPos::Center => -width / 2.0,
            HPos::Right => -width,
        };
        let dy = match anchor.v_pos {
            VPos::Top => 0.0,
            VPos::Center => -height / 2.0,
            VPos::Bottom => -height,
        };
        let turn = style.transform();
        for (id, x) in placed {
            let glyph = id.with_scale_and_position(font.scale(), point(x + dx, font.ascent() + dy));
            let Some(outline) = self.font.outline_glyph(glyph) else { continue };
            let b = outline.px_bounds();
            let inner = &mut self.inner;
            let mut result = Ok(());
            outline.draw(|gx, gy, coverage| {
                if coverage <= 0.0 || result.is_err() {
                    return;
                }
                let (tx, ty) =
                    turn.transform(b.min.x as i32 + gx as i32, b.min.y as i32 + gy as i32);
                let c = BackendColor {
                    alpha: color.alpha * f64::from(coverage.min(1.0)),
                    rgb: color.rgb,
                };
                result = inner.draw_pixel((pos.0 + tx, pos.1 + ty), c);
            });
            result?;
        }
        Ok(())
    }
}

/// Writes 8-bit RGB pixels as a PNG file.
pub fn write(path: &Path, (w, h): (u32, u32), rgb: &[u8]) -> anyhow::Result<()> {
    let mut out = crate::paths::OutFile::create(path)?;
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header()?;
    writer.write_image_data(rgb)?;
    writer.finish()?;
    out.finish().with_context(|| format!("could not write {}", path.display()))?;
    Ok(())
}
