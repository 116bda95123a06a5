//! Plain-text tables for the verbs: columns two spaces apart, as wide as their widest cell.

/// Rows of cells, each cell right-aligned or not, rendered with columns two spaces apart.
pub struct Table {
    rows: Vec<Vec<(String, bool)>>,
}

impl Table {
    pub fn new(header: Vec<(String, bool)>) -> Self {
        let rows = if header.is_empty() {
            Vec::new()
        } else {
            vec![header]
        };
        Table { rows }
    }

    pub fn push(&mut self, row: Vec<(String, bool)>) {
        self.rows.push(row);
    }

    pub fn render(&self) -> String {
        self.render_with(&mut Vec::new())
    }

    /// Render, widening `widths` (kept across calls, so a stream stays aligned) as needed.
    pub fn render_with(&self, widths: &mut Vec<usize>) -> String {
        for row in &self.rows {
            for (i, (cell, _)) in row.iter().enumerate() {
                let w = cell.chars().count();
                match widths.get_mut(i) {
                    Some(old) => *old = (*old).max(w),
                    None => widths.push(w),
                }
            }
        }
        let mut out = String::new();
        for row in &self.rows {
            let mut line = String::new();
            for (i, (cell, right)) in row.iter().enumerate() {
                let w = widths[i];
                if *right {
                    line.push_str(&format!("{cell:>w$}  "));
                } else {
                    line.push_str(&format!("{cell:<w$}  "));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_aligns_and_keeps_widths_across_renders() {
        let cell = |s: &str, r| (s.to_owned(), r);
        let mut t = Table::new(vec![cell("NAME", false), cell("RX", true)]);
        t.push(vec![cell("vnet0", false), cell("1.00 kbit/s", true)]);
        t.push(vec![cell("ve-a", false), cell("0 bit/s", true)]);
        assert_eq!(
            t.render(),
            "NAME            RX\nvnet0  1.00 kbit/s\nve-a       0 bit/s\n"
        );
        let mut widths = vec![8, 3];
        let mut t = Table::new(Vec::new());
        t.push(vec![cell("a", false), cell("1", true)]);
        assert_eq!(t.render_with(&mut widths), "a           1\n");
        assert_eq!(widths, [8, 3]);
    }
}
