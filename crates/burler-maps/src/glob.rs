//! Python's `fnmatch.fnmatch`, which singer-sdk uses to match `stream_maps` keys against stream
//! names: `*`, `?`, `[abc]`, `[a-z]`, `[!abc]`; case-sensitive, as on POSIX.

/// True when `name` matches `pattern`.
pub(crate) fn fnmatch(name: &str, pattern: &str) -> bool {
    let name: Vec<char> = name.chars().collect();
    let pattern: Vec<char> = pattern.chars().collect();
    matches_from(&name, &pattern)
}

fn matches_from(name: &[char], pattern: &[char]) -> bool {
    let Some((&p, rest)) = pattern.split_first() else {
        return name.is_empty();
    };
    match p {
        '*' => (0..=name.len()).any(|skip| matches_from(&name[skip..], rest)),
        '?' => !name.is_empty() && matches_from(&name[1..], rest),
        '[' => match class(rest) {
            Some((set, after)) => {
                name.first().is_some_and(|c| set.contains(*c)) && matches_from(&name[1..], after)
            }
            // An unclosed `[` is a literal, as in Python.
            None => name.first() == Some(&'[') && matches_from(&name[1..], rest),
        },
        c => name.first() == Some(&c) && matches_from(&name[1..], rest),
    }
}

struct CharClass {
    negated: bool,
    ranges: Vec<(char, char)>,
}

impl CharClass {
    fn contains(&self, c: char) -> bool {
        self.ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c)) != self.negated
    }
}

/// Parses a class after its `[`; returns it and the pattern after its `]`.
fn class(pattern: &[char]) -> Option<(CharClass, &[char])> {
    let negated = pattern.first() == Some(&'!');
    let mut i = usize::from(negated);
    let mut ranges = Vec::new();
    // A `]` right after `[` or `[!` is a member.
    let mut first = true;
    while i < pattern.len() {
        let c = pattern[i];
        if c == ']' && !first {
            return Some((CharClass { negated, ranges }, &pattern[i + 1..]));
        }
        first = false;
        if pattern.get(i + 1) == Some(&'-') && pattern.get(i + 2).is_some_and(|e| *e != ']') {
            ranges.push((c, pattern[i + 2]));
            i += 3;
        } else {
            ranges.push((c, c));
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::fnmatch;

    #[test]
    fn matches_like_python_fnmatch() {
        assert!(fnmatch("orders", "*"));
        assert!(fnmatch("orders", "ord*"));
        assert!(fnmatch("orders", "o?ders"));
        assert!(fnmatch("orders_2", "orders_[0-9]"));
        assert!(!fnmatch("orders_x", "orders_[0-9]"));
        assert!(fnmatch("orders_x", "orders_[!0-9]"));
        assert!(fnmatch("a[b", "a[b"));
        assert!(!fnmatch("Orders", "orders"));
        assert!(!fnmatch("orders", "ord"));
    }
}
