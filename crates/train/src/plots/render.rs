//! One figure, two files: `NAME.png` and `NAME.svg`, each written to a temp file and renamed
//! so a reader (a browser refreshing, a report) never sees half a plot.

use super::PlotError;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;
use std::sync::OnceLock;

/// A figure drawable on any plotters backend.
pub trait Figure {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>>;
}

/// Glyphs for every label, compiled in: plots look the same on any machine, with or without
/// system fonts (assets/fonts/README.md says what the subset holds).
const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-subset.ttf");

/// Registers the font as plotters' `sans-serif` once per process.
pub fn register_font() -> Result<(), PlotError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, FONT).is_ok()
    });
    ok.then_some(()).ok_or(PlotError::Font)
}

/// Whether the built-in font can draw `text` (ASCII and a few symbols, no CJK).
pub fn drawable(text: &str) -> bool {
    text.chars().all(|c| c.is_ascii_graphic() || c == ' ')
}

/// Writes `dir/NAME.png` and `dir/NAME.svg`.
pub fn save_figure(
    figure: &impl Figure,
    dir: &Path,
    name: &str,
    size: (u32, u32),
) -> Result<(), PlotError> {
    let png = render_png(figure, size)?;
    write(&dir.join(format!("{name}.png")), &png)?;
    let svg = render_svg(figure, size)?;
    write(&dir.join(format!("{name}.svg")), svg.as_bytes())
}

/// The figure as PNG bytes.
pub fn render_png(figure: &impl Figure, (w, h): (u32, u32)) -> Result<Vec<u8>, PlotError> {
    register_font()?;
    let mut rgb = vec![255u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        figure.draw(&root).map_err(draw_error)?;
        root.present().map_err(draw_error)?;
    }
    encode_png(w, h, rgb)
}

/// Draws `figure` over an RGB buffer that already holds pixels (a gallery's images).
pub fn draw_over(figure: &impl Figure, rgb: &mut [u8], size: (u32, u32)) -> Result<(), PlotError> {
    register_font()?;
    let root = BitMapBackend::<plotters::backend::RGBPixel>::with_buffer_and_format(rgb, size)
        .map_err(|e| PlotError::Draw(e.to_string()))?
        .into_drawing_area();
    figure.draw(&root).map_err(draw_error)?;
    root.present().map_err(draw_error)
}

/// The figure as an SVG document.
pub fn render_svg(figure: &impl Figure, size: (u32, u32)) -> Result<String, PlotError> {
    register_font()?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        figure.draw(&root).map_err(draw_error)?;
        root.present().map_err(draw_error)?;
    }
    Ok(svg)
}

pub fn encode_png(w: u32, h: u32, rgb: Vec<u8>) -> Result<Vec<u8>, PlotError> {
    let image = image::RgbImage::from_raw(w, h, rgb)
        .ok_or_else(|| PlotError::Draw("pixel buffer of the wrong size".into()))?;
    let mut png = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|e| PlotError::Draw(format!("PNG encoding: {e}")))?;
    Ok(png)
}

/// Writes a file of a plot or report atomically.
pub fn write(path: &Path, bytes: &[u8]) -> Result<(), PlotError> {
    inkstone_data::atomic::write_atomically(path, bytes).map_err(|source| PlotError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn draw_error<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> PlotError {
    PlotError::Draw(e.to_string())
}
