//! A sparkline as text, so it fits in a table cell: one block character per point.

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// The last `width` values as bars scaled to their own maximum, padded on the left with
/// spaces when there are fewer points than columns.
pub fn spark<I>(values: I, width: usize) -> String
where
    I: ExactSizeIterator<Item = f64>,
{
    let skip = values.len().saturating_sub(width);
    let tail: Vec<f64> = values
        .skip(skip)
        .map(|v| if v.is_finite() { v.max(0.0) } else { 0.0 })
        .collect();
    let max = tail.iter().copied().fold(0.0_f64, f64::max);
    let mut out = String::with_capacity(width * 3);
    out.extend(std::iter::repeat_n(' ', width - tail.len()));
    for v in tail {
        let level = if max > 0.0 {
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
}
