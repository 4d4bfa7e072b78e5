//! Incidents: the rows of an ITSM export (ServiceNow, Jira, ...), the raw material pairs are generated
//! from.

use serde::{Deserialize, Serialize};

/// One incident. Only `id` and some text are required; everything else is optional because real
/// exports differ (GitBugs has no category and no links).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    /// Ticket number or id, unique in the file (`number`, `id`, ...).
    pub id: String,
    /// The title the user typed.
    pub short_description: String,
    /// The long text; may be empty.
    pub description: String,
    /// Category (e.g. "Network"); `None` when the export has no such column or the cell is empty.
    pub category: Option<String>,
    /// Subcategory (e.g. "VPN").
    pub subcategory: Option<String>,
    /// The team the ticket was assigned to.
    pub assignment_group: Option<String>,
    /// Resolution / close notes. Same category + same resolution means "same problem".
    pub resolution: Option<String>,
    /// Ids this incident duplicates.
    pub duplicate_of: Vec<String>,
    /// Ids of the incidents that caused this one (a cause → effect link).
    pub caused_by: Vec<String>,
    /// Ids of related incidents (symmetric).
    pub related_to: Vec<String>,
}

impl Incident {
    /// The text that is embedded and paired: the title, then the description on the next line when
    /// there is one and it does not merely repeat the title.
    pub fn text(&self) -> String {
        let title = self.short_description.trim();
        let body = self.description.trim();
        if body.is_empty() || body == title {
            title.to_string()
        } else if title.is_empty() {
            body.to_string()
        } else {
            format!("{title}\n{body}")
        }
    }
}
