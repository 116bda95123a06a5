//! A sparkline as text, so it fits in a table cell: one block character per point.

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// The last `width` values, cleaned (negative and non-finite values read 0), oldest first.
pub fn tail<I>(values: I, width: usize) -> Vec<f64>
where
    I: ExactSizeIterator<Item = f64>,
{
    let skip = values.len().saturating_sub(width);
    values
        .skip(skip)
        .map(|v| if v.is_finite() { v.max(0.0) } else { 0.0 })
        .collect()
}

/// The largest of `values`, 0 when there are none.
pub fn peak(values: &[f64]) -> f64 {
    values.iter().copied().fold(0.0_f64, f64::max)
}

/// The last `width` values as bars scaled to their own maximum, padded on the left with
/// spaces when there are fewer points than columns.
pub fn spark<I>(values: I, width: usize) -> String
where
    I: ExactSizeIterator<Item = f64>,
{
    let tail = tail(values, width);
    let max = peak(&tail);
    scaled(&tail, width, max)
}

/// `values` (at most `width` of them, see [`tail`]) as bars on a scale whose full bar is
/// `max`, so that several sparklines drawn with one `max` compare at a glance; values above
/// `max` draw full bars. Padded on the left with spaces to `width`.
pub fn scaled(values: &[f64], width: usize, max: f64) -> String {
    let values = &values[values.len().saturating_sub(width)..];
    let mut out = String::with_capacity(width * 3);
    out.extend(std::iter::repeat_n(' ', width - values.len()));
    for v in values {
        let level = if max > 0.0 && max.is_finite() {
            (v / max * 7.0).round() as usize
        } else {
            0
        };
        out.push(BARS[level.min(7)]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_to_the_maximum_and_pads() {
        assert_eq!(spark([0.0, 1.0, 2.0].into_iter(), 5), "  ▁▅█");
        assert_eq!(spark([5.0; 10].into_iter(), 3), "███");
        assert_eq!(spark([0.0, 0.0].into_iter(), 2), "▁▁");
        assert_eq!(spark(std::iter::empty(), 4), "    ");
        assert_eq!(spark([1.0, f64::NAN].into_iter(), 2), "█▁");
    }

    #[test]
    fn a_shared_scale_keeps_small_traffic_small() {
        // Alone, 2 b/s would draw full bars; on a view scale of 14 it draws a low one.
        assert_eq!(scaled(&[2.0, 2.0], 3, 14.0), " ▂▂");
        assert_eq!(scaled(&[14.0, 7.0, 0.0], 3, 14.0), "█▅▁");
        // Above the scale (a value newer than the scale): a full bar, never a panic.
        assert_eq!(scaled(&[28.0], 1, 14.0), "█");
        assert_eq!(scaled(&[1.0, 2.0, 3.0], 2, 3.0), "▆█");
        assert_eq!(scaled(&[1.0], 2, 0.0), " ▁");
        assert_eq!(
            tail([1.0, -1.0, f64::INFINITY, 4.0].into_iter(), 3),
            [0.0, 0.0, 4.0]
        );
        assert_eq!(peak(&[]), 0.0);
    }
}
