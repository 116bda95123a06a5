//! Guided creation: the network wizard (new and edit), the macvtap attachment form and the
//! lease pin confirmation.
//!
//! Data flows one way: fields → [`NetworkDraft`] → `build_definition`/`validate` (problems
//! mapped back onto the fields) → the definition as XML → the backend's plan (preview) →
//! the confirmed command → its progress and result. Everything here is pure state driven by
//! keys; the App sends the commands the wizard asks for and hands it their results.

pub mod apply;
pub mod attach;
pub mod build;
pub mod check;
pub mod context;
pub mod draft;
pub mod edit;
pub mod field;
pub mod forward;
pub mod network;
pub mod pin;
pub mod review;
pub mod steps;
pub mod view_attach;
pub mod view_form;
pub mod view_forward;
pub mod view_network;
pub mod why;

pub use attach::{AttachForm, AttachOutcome, AttachState, TapNetwork};
pub use check::Checked;
pub use context::{Seed, WizardContext};
pub use draft::NetworkDraft;
pub use edit::Change;
pub use field::FieldId;
pub use forward::{ForwardContext, ForwardForm, ForwardOutcome, ForwardState};
pub use network::{ApplyState, EditBase, NetworkWizard, Outcome, Preview, Resolution};
pub use pin::pin_confirm;
pub use steps::{NetMode, Step, TapMode};
