//! Command summaries and group names in the interface languages (placeholder until the translated tables land).

pub fn summary(_lang: &str, _full_name: &str) -> Option<&'static str> {
    None
}

pub fn group_name(_lang: &str, _group: &str) -> Option<&'static str> {
    None
}
