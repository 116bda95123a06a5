//! Small drawing helpers shared by the views.

pub mod chart;
pub mod spark;
pub mod table;

pub use spark::spark;
pub use table::{Column, DataTable};
