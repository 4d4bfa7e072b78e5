//! A `<canvas>` drawn by one of [`crate::eval::charts`]' functions through plotters-canvas, redrawn
//! whenever a signal the drawing reads changes. Charts are drawn on the page's main thread:
//! plotters measures text through the DOM's canvas.

use leptos::prelude::*;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters_canvas::CanvasBackend;

/// A chart canvas; `draw` reads signals (tracked) and draws on the area.
#[component]
pub fn Chart<F>(
    /// `data-testid` of the canvas.
    testid: &'static str,
    /// Width in pixels.
    #[prop(default = 640)]
    width: u32,
    /// Height in pixels.
    #[prop(default = 380)]
    height: u32,
    /// The drawing.
    draw: F,
) -> impl IntoView
where
    F: Fn(&DrawingArea<CanvasBackend, Shift>) -> crate::Result<()> + 'static,
{
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    Effect::new(move |_| {
        let Some(c) = canvas.get() else { return };
        let Some(backend) = CanvasBackend::with_canvas_object(c) else {
            return;
        };
        let area = backend.into_drawing_area();
        let _ = area.fill(&WHITE);
        if let Err(e) = draw(&area) {
            let _ = area.fill(&WHITE);
            let _ = crate::eval::charts::message_chart(&area, "chart", &e.to_string());
        }
        let _ = area.present();
    });
    view! {
        <canvas
            node_ref=canvas
            width=width
            height=height
            data-testid=testid
            class="chart"
        ></canvas>
    }
}
