//! Topic names, topic filters and the ACL checks built on them (MQTT 3.1.1 §4.7).

/// A topic name a client may publish to: non-empty, no wildcards, no NUL (§4.7.3, §1.5.3).
pub fn is_valid_topic_name(topic: &str) -> bool {
    !topic.is_empty() && !topic.contains(['+', '#', '\0'])
}

/// A well-formed topic filter: `#` only as the whole last level, `+` only as a whole level.
pub fn is_valid_topic_filter(filter: &str) -> bool {
    if filter.is_empty() || filter.contains('\0') {
        return false;
    }
    let mut levels = filter.split('/').peekable();
    while let Some(level) = levels.next() {
        let last = levels.peek().is_none();
        match level {
            "#" if last => {}
            "+" => {}
            _ if level.contains(['+', '#']) => return false,
            _ => {}
        }
    }
    true
}

/// Whether `topic` (a valid topic name) matches `filter` (a valid filter).
pub fn filter_matches(filter: &str, topic: &str) -> bool {
    // §4.7.2: wildcards at the first level don't match topics starting with '$'.
    if topic.starts_with('$') && (filter.starts_with('+') || filter.starts_with('#')) {
        return false;
    }
    let mut topic_levels = topic.split('/');
    for f in filter.split('/') {
        match (f, topic_levels.next()) {
            ("#", _) => return true,
            ("+", Some(_)) => {}
            (f, Some(t)) if f == t => {}
            _ => return false,
        }
    }
    topic_levels.next().is_none()
}

/// Whether a device with this prefix may publish to `topic`: strictly under the prefix. An empty
/// prefix or one holding a wildcard grants nothing, so a registry mistake can't open every topic.
pub fn may_publish(prefix: &str, topic: &str) -> bool {
    is_valid_prefix(prefix) && is_valid_topic_name(topic) && topic.len() > prefix.len() && topic.starts_with(prefix)
}

/// Whether a device with this prefix may subscribe to `filter`: the filter's literal start is the
/// prefix, so its wildcards can only widen it below the prefix.
pub fn may_subscribe(prefix: &str, filter: &str) -> bool {
    is_valid_prefix(prefix)
        && is_valid_topic_filter(filter)
        && filter.len() > prefix.len()
        && filter.starts_with(prefix)
}

fn is_valid_prefix(prefix: &str) -> bool {
    !prefix.is_empty() && !prefix.contains(['+', '#', '\0'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters() {
        assert!(is_valid_topic_filter("a/+/c"));
        assert!(is_valid_topic_filter("a/#"));
        assert!(is_valid_topic_filter("#"));
        assert!(is_valid_topic_filter("+"));
        assert!(!is_valid_topic_filter("a/#/c"));
        assert!(!is_valid_topic_filter("a/b#"));
        assert!(!is_valid_topic_filter("a/+b"));
        assert!(!is_valid_topic_filter(""));
    }

    #[test]
    fn matching() {
        assert!(filter_matches("devices/d1/cmd/#", "devices/d1/cmd/light"));
        assert!(filter_matches("devices/d1/cmd/#", "devices/d1/cmd"));
        assert!(filter_matches("devices/d1/cmd/+", "devices/d1/cmd/light"));
        assert!(!filter_matches("devices/d1/cmd/+", "devices/d1/cmd/light/on"));
        assert!(!filter_matches("devices/d1/cmd/+", "devices/d1/cmd"));
        assert!(filter_matches("a/b", "a/b"));
        assert!(!filter_matches("a/b", "a/b/c"));
        assert!(!filter_matches("#", "$SYS/x"));
        assert!(filter_matches("+/+", "a/"));
    }

    #[test]
    fn acl() {
        let p = "devices/d1/";
        assert!(may_publish(p, "devices/d1/measures"));
        assert!(!may_publish(p, "devices/d1/"));
        assert!(!may_publish(p, "devices/d10/measures"));
        assert!(!may_publish(p, "devices/d2/measures"));
        assert!(!may_publish(p, "devices/d1/+"));
        assert!(!may_publish("", "anything"));
        assert!(!may_publish("devices/+/", "devices/+/x"));
        let s = "devices/d1/cmd/";
        assert!(may_subscribe(s, "devices/d1/cmd/#"));
        assert!(may_subscribe(s, "devices/d1/cmd/light"));
        assert!(!may_subscribe(s, "devices/d1/#"));
        assert!(!may_subscribe(s, "devices/+/cmd/#"));
        assert!(!may_subscribe(s, "#"));
    }
}
