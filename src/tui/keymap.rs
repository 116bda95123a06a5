//! The keymap: every action, its scope, description and keys. The help screen and the footer
//! hints are generated from it, so they cannot drift from the bindings that really work.

use std::collections::{BTreeMap, HashMap};

use crossterm::event::{KeyCode, KeyEvent};
use thiserror::Error;

use super::keys::{KeyBinding, KeyParseError};

/// Where a binding applies. Keys are looked up in the scopes of the current context, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Anywhere outside popups.
    Global,
    /// Moving in lists and scrolling text.
    List,
    /// The networks view.
    Networks,
    /// The sortable, filterable tables: the ports, leases and forwards views.
    Tables,
    /// The ports view.
    Ports,
    /// The leases view.
    Leases,
    /// The forwards view.
    Forwards,
    /// Forms: the network wizard's steps and the macvtap form.
    Form,
    /// The wizard's review step.
    Review,
    /// Editing the filter of the ports or leases table.
    Filter,
    /// A confirmation popup.
    Confirm,
    /// The log view.
    Log,
    /// Other popups (help, port detail).
    Popup,
    /// The `why` report popup.
    Why,
}

impl Scope {
    /// Heading in the help screen.
    pub fn title(self) -> &'static str {
        match self {
            Scope::Global => "Global",
            Scope::List => "Lists",
            Scope::Networks => "Networks view",
            Scope::Tables => "Ports, leases and forwards views",
            Scope::Ports => "Ports view",
            Scope::Leases => "Leases view",
            Scope::Forwards => "Forwards view",
            Scope::Form => "Forms (wizard steps, macvtap form)",
            Scope::Review => "Wizard review",
            Scope::Filter => "Filter",
            Scope::Confirm => "Confirmation",
            Scope::Log => "Log view",
            Scope::Popup => "Popups",
            Scope::Why => "Why report (w)",
        }
    }
}

macro_rules! actions {
    ($($variant:ident $name:literal $scope:ident $hint:literal $desc:literal [$($key:expr),*];)*) => {
        /// Something the user can ask for with a key.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Action { $(#[doc = $desc] $variant,)* }

        impl Action {
            /// Every action, in help order.
            pub const ALL: &'static [Action] = &[$(Action::$variant,)*];

            /// Name in the config file's `[keys]` table.
            pub fn name(self) -> &'static str { match self { $(Action::$variant => $name,)* } }
            /// Scope the action belongs to.
            pub fn scope(self) -> Scope { match self { $(Action::$variant => Scope::$scope,)* } }
            /// Short label for the footer; empty means "not shown there".
            pub fn hint(self) -> &'static str { match self { $(Action::$variant => $hint,)* } }
            /// One-line description for the help screen.
            pub fn description(self) -> &'static str { match self { $(Action::$variant => $desc,)* } }
            fn default_keys(self) -> Vec<KeyBinding> { match self { $(Action::$variant => vec![$($key),*],)* } }
        }
    };
}

use KeyCode as K;
const fn k(code: KeyCode) -> KeyBinding {
    KeyBinding::plain(code)
}
const fn c(ch: char) -> KeyBinding {
    KeyBinding::ch(ch)
}

actions! {
    Quit "quit" Global "quit" "Quit switchyard (Ctrl-c always quits)" [c('q'), KeyBinding::ctrl('c')];
    Help "help" Global "help" "Show this help" [c('?')];
    NextView "next_view" Global "" "Next view" [k(K::Tab)];
    PrevView "prev_view" Global "" "Previous view" [k(K::BackTab)];
    ViewNetworks "view_networks" Global "" "Networks view" [c('1')];
    ViewPorts "view_ports" Global "" "Ports view" [c('2')];
    ViewLeases "view_leases" Global "" "Leases view" [c('3')];
    ViewHost "view_host" Global "" "Host view" [c('4')];
    ViewLog "view_log" Global "" "Log view" [c('5')];
    ViewForwards "view_forwards" Global "" "Forwards view" [c('6')];
    Freeze "freeze" Global "freeze" "Freeze or thaw the display" [c('f')];
    Faster "faster" Global "" "Refresh more often" [c('+'), c('=')];
    Slower "slower" Global "" "Refresh less often" [c('-')];
    Up "up" List "" "Move up" [k(K::Up), c('k')];
    Down "down" List "" "Move down" [k(K::Down), c('j')];
    PageUp "page_up" List "" "Page up" [k(K::PageUp)];
    PageDown "page_down" List "" "Page down" [k(K::PageDown)];
    First "first" List "" "First row" [k(K::Home), c('g')];
    Last "last" List "" "Last row" [k(K::End), c('G')];
    StartStop "start_stop" Networks "start/stop" "Start or stop the selected network" [c('s')];
    Autostart "autostart" Networks "autostart" "Toggle autostart of the selected network" [c('a')];
    Undefine "undefine" Networks "undefine" "Undefine the selected network (asks first)" [c('d')];
    Repair "repair" Networks "repair" "Repair drift of the selected network" [c('r')];
    ToggleXml "toggle_xml" Networks "xml" "Show the network's XML in the detail pane" [c('x')];
    NewNetwork "new_network" Networks "new" "Create a network with the wizard" [c('n')];
    EditNetwork "edit_network" Networks "" "Edit the selected network with the wizard" [c('e')];
    AttachMacvtap "attach_macvtap" Networks "" "Attach a macvtap for a guest (form)" [c('m')];
    Why "why" Networks "" "Why: where a guest's packet stops, and the fix" [c('w')];
    SortNext "sort" Tables "sort" "Sort by the next column" [c('o')];
    SortReverse "sort_reverse" Tables "" "Reverse the sort order" [c('O')];
    Filter "filter" Tables "filter" "Filter the rows by text" [c('/')];
    OpenDetail "open_detail" Ports "detail" "Open the selected port's detail" [k(K::Enter)];
    Detach "detach" Ports "" "Detach the selected macvtap (asks)" [c('D')];
    MovePort "move_port" Ports "" "Move the selected port to another network's bridge (asks)" [c('M')];
    PinLease "pin_lease" Leases "pin" "Pin the lease's address to its MAC (asks)" [c('p')];
    AddForward "add_forward" Forwards "add" "Add a port forward (form with review)" [c('a')];
    RemoveForward "remove_forward" Forwards "remove" "Remove the selected forward (asks)" [c('d')];
    TestForward "test_forward" Forwards "test" "Self-test the selected forward (outside, host, hairpin)" [c('t')];
    FieldNext "field_next" Form "next field" "Next field" [k(K::Tab)];
    FieldPrev "field_prev" Form "" "Previous field" [k(K::BackTab)];
    StepNext "step_next" Form "next" "Next step, if this one is valid; or apply" [k(K::Enter)];
    StepBack "step_back" Form "back" "Previous step; on the first, close" [k(K::Esc)];
    FieldToggle "field_toggle" Form "toggle" "Toggle a checkbox, pick a list entry" [c(' ')];
    ChoicePrev "choice_prev" Form "" "Previous choice (in a list ↑ works too)" [k(K::Left)];
    ChoiceNext "choice_next" Form "choose" "Next choice (in a list ↓ works too)" [k(K::Right)];
    FieldClear "field_clear" Form "" "Clear the text field" [KeyBinding::ctrl('u')];
    FieldDeleteWord "field_delete_word" Form "" "Delete the word before the cursor" [KeyBinding::ctrl('w')];
    Apply "apply" Review "apply" "Define and start (or apply the edit)" [c('y'), k(K::Enter)];
    ReviewBack "review_back" Review "back" "Back to the options" [k(K::Esc)];
    FilterApply "filter_apply" Filter "keep" "Keep the filter and leave it" [k(K::Enter)];
    FilterClear "filter_clear" Filter "clear" "Clear the filter and leave it" [k(K::Esc)];
    Confirm "confirm" Confirm "yes" "Confirm" [c('y')];
    Cancel "cancel" Confirm "no" "Cancel" [c('n'), k(K::Esc)];
    Close "close" Popup "close" "Close the popup" [k(K::Esc), c('q')];
    OpenEntry "open_entry" Log "open" "Show the whole log entry" [k(K::Enter)];
    WhyFix "why_fix" Why "run fix" "Run the fix shown (asks, showing its commands)" [c('f'), c('y')];
    WhyAgain "why_again" Why "again" "Back to the form: trace another destination" [k(K::Enter), c('e')];
}

/// A problem with keymap overrides from the config file.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KeymapError {
    /// The action name is not known.
    #[error("keys.{0}: unknown action (known: {known})", known = known_actions())]
    UnknownAction(String),
    /// The key name does not parse.
    #[error("keys.{action}: {source}")]
    BadKey {
        /// Action being bound.
        action: String,
        /// Why the key did not parse.
        source: KeyParseError,
    },
    /// Two actions active at the same time would share a key.
    #[error("keys.{action}: key {key} is already bound to {other}")]
    Conflict {
        /// Action being bound.
        action: String,
        /// The shared key.
        key: String,
        /// The action that already has it.
        other: String,
    },
}

fn known_actions() -> String {
    Action::ALL
        .iter()
        .map(|a| a.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Scopes that are consulted together; a key may appear only once within each group.
const CONTEXTS: &[&[Scope]] = &[
    &[Scope::Networks, Scope::List, Scope::Global],
    &[Scope::Tables, Scope::Ports, Scope::List, Scope::Global],
    &[Scope::Tables, Scope::Leases, Scope::List, Scope::Global],
    &[Scope::Tables, Scope::Forwards, Scope::List, Scope::Global],
    &[Scope::Form, Scope::List],
    &[Scope::Review, Scope::List],
    &[Scope::Popup, Scope::List],
    &[Scope::Why, Scope::Popup, Scope::List],
    &[Scope::Confirm],
    &[Scope::Filter],
];

/// Actions and their keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    keys: BTreeMap<Action, Vec<KeyBinding>>,
}

impl Default for Keymap {
    fn default() -> Self {
        Self {
            keys: Action::ALL.iter().map(|a| (*a, a.default_keys())).collect(),
        }
    }
}

impl Keymap {
    /// The default keymap with `overrides` (action name → key names) applied and checked.
    pub fn with_overrides(overrides: &BTreeMap<String, Vec<String>>) -> Result<Self, KeymapError> {
        let mut map = Self::default();
        for (name, keys) in overrides {
            let action = Action::ALL
                .iter()
                .copied()
                .find(|a| a.name() == name)
                .ok_or_else(|| KeymapError::UnknownAction(name.clone()))?;
            let parsed = keys
                .iter()
                .map(|k| KeyBinding::parse(k))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|source| KeymapError::BadKey {
                    action: name.clone(),
                    source,
                })?;
            map.keys.insert(action, parsed);
        }
        for name in overrides.keys() {
            map.check_conflicts(name)?;
        }
        Ok(map)
    }

    fn check_conflicts(&self, name: &str) -> Result<(), KeymapError> {
        for scopes in CONTEXTS {
            let mut seen: HashMap<KeyBinding, Action> = HashMap::new();
            let actions = Action::ALL.iter().filter(|a| scopes.contains(&a.scope()));
            for action in actions {
                for key in self.keys(*action) {
                    if let Some(other) = seen.insert(*key, *action) {
                        let (a, b) = if other.name() == name {
                            (other, *action)
                        } else {
                            (*action, other)
                        };
                        return Err(KeymapError::Conflict {
                            action: a.name().into(),
                            key: key.to_string(),
                            other: b.name().into(),
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// The keys of one action.
    pub fn keys(&self, action: Action) -> &[KeyBinding] {
        self.keys.get(&action).map_or(&[], Vec::as_slice)
    }

    /// The action a key triggers in the given scopes, searched in order.
    pub fn lookup(&self, scopes: &[Scope], ev: &KeyEvent) -> Option<Action> {
        let key = KeyBinding::from_event(ev);
        scopes.iter().find_map(|scope| {
            Action::ALL
                .iter()
                .copied()
                .find(|a| a.scope() == *scope && self.keys(*a).contains(&key))
        })
    }

    /// The keys of an action as shown to the user: "↑/k".
    pub fn key_label(&self, action: Action) -> String {
        let keys: Vec<String> = self.keys(action).iter().map(ToString::to_string).collect();
        if keys.is_empty() {
            "(unbound)".into()
        } else {
            keys.join("/")
        }
    }

    /// Footer hints for the given scopes: (first key, short label), in keymap order.
    pub fn hints(&self, scopes: &[Scope]) -> Vec<(String, &'static str)> {
        scopes
            .iter()
            .flat_map(|s| Action::ALL.iter().filter(move |a| a.scope() == *s))
            .filter(|a| !a.hint().is_empty())
            .filter_map(|a| self.keys(*a).first().map(|k| (k.to_string(), a.hint())))
            .collect()
    }

    /// Help lines grouped by scope: (scope, [(keys, description)]).
    pub fn help(&self) -> Vec<(Scope, Vec<(String, &'static str)>)> {
        let mut out: Vec<(Scope, Vec<(String, &'static str)>)> = Vec::new();
        for action in Action::ALL {
            let entry = (self.key_label(*action), action.description());
            match out.last_mut() {
                Some((scope, lines)) if *scope == action.scope() => lines.push(entry),
                _ => out.push((action.scope(), vec![entry])),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyModifiers;

    fn over(pairs: &[(&str, &str)]) -> BTreeMap<String, Vec<String>> {
        pairs
            .iter()
            .map(|(a, k)| (a.to_string(), vec![k.to_string()]))
            .collect()
    }

    #[test]
    fn defaults_have_no_conflicts() {
        let map = Keymap::default();
        for a in Action::ALL {
            map.check_conflicts(a.name())
                .expect("default keymap is consistent");
            assert!(!map.keys(*a).is_empty(), "{} has a key", a.name());
        }
    }

    #[test]
    fn lookup_respects_scope_order() {
        let map = Keymap::default();
        let esc = KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE);
        assert_eq!(map.lookup(&[Scope::Confirm], &esc), Some(Action::Cancel));
        assert_eq!(
            map.lookup(&[Scope::Popup, Scope::List], &esc),
            Some(Action::Close)
        );
        let j = KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE);
        assert_eq!(
            map.lookup(&[Scope::Ports, Scope::List, Scope::Global], &j),
            Some(Action::Down)
        );
        assert_eq!(map.lookup(&[Scope::Confirm], &j), None);
    }

    #[test]
    fn overrides_replace_keys_and_are_checked() {
        let map = Keymap::with_overrides(&over(&[("freeze", "F")])).expect("valid override");
        assert_eq!(map.keys(Action::Freeze), &[KeyBinding::ch('F')]);
        let unknown = Keymap::with_overrides(&over(&[("explode", "x")]));
        assert!(matches!(unknown, Err(KeymapError::UnknownAction(a)) if a == "explode"));
        let bad = Keymap::with_overrides(&over(&[("quit", "ctrl-")]));
        assert!(matches!(bad, Err(KeymapError::BadKey { action, .. }) if action == "quit"));
        let clash = Keymap::with_overrides(&over(&[("repair", "s")]));
        let msg = clash.expect_err("s is start_stop").to_string();
        assert!(
            msg.contains("keys.repair") && msg.contains("start_stop"),
            "{msg}"
        );
    }

    #[test]
    fn help_and_hints_follow_overrides() {
        let map = Keymap::with_overrides(&over(&[("help", "h")])).expect("valid");
        let help = map.help();
        let global = &help
            .iter()
            .find(|(s, _)| *s == Scope::Global)
            .expect("global")
            .1;
        assert!(global.contains(&("h".to_string(), Action::Help.description())));
        assert!(map
            .hints(&[Scope::Global])
            .contains(&("h".to_string(), "help")));
    }
}
