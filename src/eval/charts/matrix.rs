//! The confusion matrix heatmap of the relationship classifier.

use super::*;

/// Confusion matrix as a heatmap: rows are the true classes, columns the predicted ones, each cell
/// the count and its share of the row (so a cell's shade reads as "of the pairs that really are
/// X, this share was called Y"). Works for any n × n with `labels` naming the classes in order; a
/// class with no pairs is a row of zeros marked n = 0.
pub fn confusion_matrix_chart<DB: DrawingBackend, S: AsRef<str>>(
    area: &DrawingArea<DB, Shift>,
    matrix: &[Vec<usize>],
    labels: &[S],
    title: &str,
) -> Result<()> {
    let n = labels.len();
    if n == 0 {
        return Err(Error::Invalid(
            "confusion matrix: no classes to label".into(),
        ));
    }
    if matrix.len() != n || matrix.iter().any(|row| row.len() != n) {
        return Err(Error::Invalid(format!(
            "confusion matrix: expected {n}×{n} counts for {n} class labels, found {} rows of {}",
            matrix.len(),
            matrix
                .iter()
                .map(|r| r.len().to_string())
                .collect::<Vec<_>>()
                .join("/")
        )));
    }
    let (plot, l) = frame(area, title, &[])?;
    let (w, h) = plot.dim_in_pixel();
    let label_style = l.font(LABEL_SIZE);
    let tick_style = l.font(TICK_SIZE);
    // Row labels get at most 28% of the width; longer names are shortened with an ellipsis.
    let max_label_w = w as i32 * 28 / 100;
    let mut row_labels = Vec::with_capacity(n);
    let mut label_w = 0;
    for name in labels {
        let fitted = fit_text(&plot, name.as_ref(), &label_style, max_label_w)?;
        label_w = label_w.max(plot.estimate_text_size(&fitted, &label_style).drawn()?.0 as i32);
        row_labels.push(fitted);
    }
    let support_w = plot.estimate_text_size("n = 00000", &tick_style).drawn()?.0 as i32;
    let label_h = l.px(LABEL_SIZE);
    // Left: the rotated "true class" title and the row labels; right: each row's support; bottom:
    // column labels and the "predicted class" title.
    let left = l.px(12.0) + label_h + l.px(10.0) + label_w + l.px(10.0);
    let right = support_w + l.px(16.0);
    let bottom = 2 * label_h + l.px(26.0);
    let side = (w as i32 - left - right).min(h as i32 - bottom - 6);
    if side < 24 * n as i32 {
        return Err(Error::Invalid(format!(
            "chart area {}×{} px is too small for a {n}×{n} confusion matrix",
            w, h
        )));
    }
    let cell = side / n as i32;
    let x0 = left + (w as i32 - left - right - cell * n as i32) / 2;
    let y0 = 4;
    let count_size = (cell as f64 / 4.0).clamp(TICK_SIZE * l.scale, 30.0);
    // Small cells show the count alone; the row share needs room for "100.0%".
    let show_share = plot.estimate_text_size("100.0%", &tick_style).drawn()?.0 as i32 <= cell - 8;
    for (r, row) in matrix.iter().enumerate() {
        let support: usize = row.iter().sum();
        for (c, &count) in row.iter().enumerate() {
            let share = if support == 0 {
                0.0
            } else {
                count as f64 / support as f64
            };
            // White → blue by the row share; an empty row stays white with grey text.
            let mix = |full: u8| (255.0 - (255.0 - full as f64) * share).round() as u8;
            let fill = RGBColor(mix(NEGATIVE.0), mix(NEGATIVE.1), mix(NEGATIVE.2));
            let (cx, cy) = (x0 + c as i32 * cell, y0 + r as i32 * cell);
            plot.draw(&Rectangle::new(
                [(cx, cy), (cx + cell, cy + cell)],
                fill.filled(),
            ))
            .drawn()?;
            plot.draw(&Rectangle::new(
                [(cx, cy), (cx + cell, cy + cell)],
                GRID.stroke_width(1),
            ))
            .drawn()?;
            let ink = if share > 0.55 {
                WHITE
            } else if support == 0 {
                REFERENCE
            } else {
                INK
            };
            let centre = (cx + cell / 2, cy + cell / 2);
            let big = TextStyle::from(("sans-serif", count_size, FontStyle::Bold).into_font())
                .color(&ink);
            if !show_share {
                plot.draw_text(
                    &count.to_string(),
                    &big.pos(Pos::new(HPos::Center, VPos::Center)),
                    centre,
                )
                .drawn()?;
                continue;
            }
            plot.draw_text(
                &count.to_string(),
                &big.pos(Pos::new(HPos::Center, VPos::Bottom)),
                (centre.0, centre.1 + 2),
            )
            .drawn()?;
            let pct = if support == 0 {
                "–".to_string()
            } else {
                format!("{:.1}%", 100.0 * share)
            };
            plot.draw_text(
                &pct,
                &tick_style
                    .color(&ink)
                    .pos(Pos::new(HPos::Center, VPos::Top)),
                (centre.0, centre.1 + 6),
            )
            .drawn()?;
        }
        let cy = y0 + r as i32 * cell + cell / 2;
        plot.draw_text(
            &row_labels[r],
            &label_style.pos(Pos::new(HPos::Right, VPos::Center)),
            (x0 - l.px(10.0), cy),
        )
        .drawn()?;
        plot.draw_text(
            &format!("n = {support}"),
            &tick_style
                .color(&REFERENCE)
                .pos(Pos::new(HPos::Left, VPos::Center)),
            (x0 + n as i32 * cell + l.px(8.0), cy),
        )
        .drawn()?;
    }
    let grid_bottom = y0 + n as i32 * cell;
    for (c, name) in labels.iter().enumerate() {
        let fitted = fit_text(&plot, name.as_ref(), &label_style, cell - 6)?;
        plot.draw_text(
            &fitted,
            &label_style.pos(Pos::new(HPos::Center, VPos::Top)),
            (x0 + c as i32 * cell + cell / 2, grid_bottom + l.px(8.0)),
        )
        .drawn()?;
    }
    plot.draw_text(
        "predicted class",
        &label_style.pos(Pos::new(HPos::Center, VPos::Top)),
        (x0 + n as i32 * cell / 2, grid_bottom + l.px(14.0) + label_h),
    )
    .drawn()?;
    plot.draw_text(
        "true class",
        &label_style
            .transform(FontTransform::Rotate270)
            .pos(Pos::new(HPos::Center, VPos::Top)),
        (l.px(12.0), y0 + n as i32 * cell / 2),
    )
    .drawn()
}

/// `text` as it fits in `max_width` pixels: whole, or cut with an ellipsis ("dupl…").
fn fit_text<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    style: &TextStyle,
    max_width: i32,
) -> Result<String> {
    let width =
        |t: &str| -> Result<i32> { Ok(area.estimate_text_size(t, style).drawn()?.0 as i32) };
    if width(text)? <= max_width {
        return Ok(text.to_string());
    }
    let chars: Vec<char> = text.chars().collect();
    for keep in (1..chars.len()).rev() {
        let cut: String = chars[..keep].iter().chain(['…'].iter()).collect();
        if width(&cut)? <= max_width {
            return Ok(cut);
        }
    }
    Ok("…".to_string())
}
