//! The built-in pagination strategies.

use super::json_path::{lookup, lookup_text};
use super::{NextPage, Page, Paginator};
use crate::error::HttpError;
use reqwest::Url;

/// Sets query parameter `name` to `value`: replaced where it stands, else appended.
pub fn set_query_param(url: &mut Url, name: &str, value: &str) {
    let mut found = false;
    let mut pairs: Vec<(String, String)> = Vec::new();
    for (key, old) in url.query_pairs() {
        if key != name {
            pairs.push((key.into_owned(), old.into_owned()));
        } else if !found {
            found = true;
            pairs.push((key.into_owned(), value.to_owned()));
        }
    }
    if !found {
        pairs.push((name.to_owned(), value.to_owned()));
    }
    url.query_pairs_mut().clear().extend_pairs(pairs);
}

fn query_param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// `?page=1`, `?page=2`, … until a page is empty or shorter than the page size.
#[derive(Debug, Clone)]
pub struct PageNumber {
    param: String,
    start: u64,
    size: Option<(String, usize)>,
}

impl PageNumber {
    /// Page numbers in query parameter `param`, starting at 1.
    pub fn new(param: &str) -> Self {
        Self {
            param: param.to_owned(),
            start: 1,
            size: None,
        }
    }

    /// The first page number (some APIs count from 0).
    pub fn start(mut self, first: u64) -> Self {
        self.start = first;
        self
    }

    /// Sends the page size in `param`; a shorter page is the last.
    pub fn page_size(mut self, param: &str, size: usize) -> Self {
        self.size = Some((param.to_owned(), size));
        self
    }
}

impl Paginator for PageNumber {
    fn first(&self, mut url: Url) -> Url {
        set_query_param(&mut url, &self.param, &self.start.to_string());
        if let Some((param, size)) = &self.size {
            set_query_param(&mut url, param, &size.to_string());
        }
        url
    }

    fn next(&self, page: &Page) -> Result<Option<NextPage>, HttpError> {
        if self
            .size
            .as_ref()
            .is_some_and(|(_, size)| page.records().len() < *size)
        {
            return Ok(None);
        }
        let current = query_param(page.url(), &self.param)
            .and_then(|p| p.parse::<u64>().ok())
            .unwrap_or(self.start);
        let mut url = page.url().clone();
        set_query_param(&mut url, &self.param, &(current + 1).to_string());
        Ok(Some(NextPage::new(url)))
    }
}

/// `?offset=0&limit=100`, `?offset=100&limit=100`, … until a page is shorter than `limit`.
#[derive(Debug, Clone)]
pub struct OffsetLimit {
    offset_param: String,
    limit_param: String,
    limit: usize,
}

impl OffsetLimit {
    /// Offset and limit in the named query parameters.
    pub fn new(offset_param: &str, limit_param: &str, limit: usize) -> Self {
        Self {
            offset_param: offset_param.to_owned(),
            limit_param: limit_param.to_owned(),
            limit: limit.max(1),
        }
    }
}

impl Paginator for OffsetLimit {
    fn first(&self, mut url: Url) -> Url {
        set_query_param(&mut url, &self.offset_param, "0");
        set_query_param(&mut url, &self.limit_param, &self.limit.to_string());
        url
    }

    fn next(&self, page: &Page) -> Result<Option<NextPage>, HttpError> {
        if page.records().len() < self.limit {
            return Ok(None);
        }
        let offset = query_param(page.url(), &self.offset_param)
            .and_then(|o| o.parse::<usize>().ok())
            .unwrap_or(0);
        let mut url = page.url().clone();
        set_query_param(
            &mut url,
            &self.offset_param,
            &(offset + page.records().len()).to_string(),
        );
        Ok(Some(NextPage::new(url)))
    }
}

/// A cursor (next token) read from the body at a path and sent back in a query parameter;
/// stops when the cursor is absent, null or empty.
#[derive(Debug, Clone)]
pub struct Cursor {
    param: String,
    path: String,
}

impl Cursor {
    /// Reads the cursor at `path` (e.g. `meta.next_cursor`), sends it as `param`.
    pub fn new(param: &str, path: &str) -> Self {
        Self {
            param: param.to_owned(),
            path: path.to_owned(),
        }
    }
}

impl Paginator for Cursor {
    fn next(&self, page: &Page) -> Result<Option<NextPage>, HttpError> {
        let Some(cursor) = lookup_text(page.body(), &self.path) else {
            return Ok(None);
        };
        let mut url = page.url().clone();
        set_query_param(&mut url, &self.param, &cursor);
        Ok(Some(NextPage::new(url).cursor(cursor)))
    }
}

/// The `Link: <…>; rel="next"` response header (GitHub style).
#[derive(Debug, Clone, Default)]
pub struct LinkHeader {
    _private: (),
}

impl LinkHeader {
    /// Follows `rel="next"` links.
    pub fn new() -> Self {
        Self::default()
    }
}

/// The `rel="next"` target of a `Link` header value.
pub fn next_link(header: &str) -> Option<&str> {
    header.split(',').find_map(|link| {
        let (target, params) = link.split_once(';')?;
        let is_next = params.split(';').any(|param| {
            let param = param.trim().replace(' ', "");
            param == "rel=\"next\"" || param == "rel=next"
        });
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        is_next.then_some(target)
    })
}

impl Paginator for LinkHeader {
    fn next(&self, page: &Page) -> Result<Option<NextPage>, HttpError> {
        let Some(target) = page.header("link").and_then(next_link) else {
            return Ok(None);
        };
        resolve(page, target).map(|url| Some(NextPage::new(url)))
    }
}

/// The next page's URL in the body at a path (e.g. `next` or `links.next`); relative URLs
/// are resolved against the current page.
#[derive(Debug, Clone)]
pub struct NextUrl {
    path: String,
}

impl NextUrl {
    /// Reads the next URL at `path`.
    pub fn new(path: &str) -> Self {
        Self {
            path: path.to_owned(),
        }
    }
}

impl Paginator for NextUrl {
    fn next(&self, page: &Page) -> Result<Option<NextPage>, HttpError> {
        match lookup(page.body(), &self.path).and_then(|v| v.as_str()) {
            Some(target) if !target.is_empty() => {
                resolve(page, target).map(|url| Some(NextPage::new(url)))
            }
            _ => Ok(None),
        }
    }
}

fn resolve(page: &Page, target: &str) -> Result<Url, HttpError> {
    page.url().join(target).map_err(|err| HttpError::Decode {
        method: reqwest::Method::GET,
        url: crate::error::redact_url(page.url()),
        message: format!("next page link {target:?} is not a URL: {err}"),
        body_excerpt: String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_next_link_among_several() {
        let header =
            r#"<https://api.test/x?page=1>; rel="prev", <https://api.test/x?page=3>; rel="next""#;
        assert_eq!(next_link(header), Some("https://api.test/x?page=3"));
        assert_eq!(
            next_link(r#"<https://api.test/x?page=1>; rel="last""#),
            None
        );
    }

    #[test]
    fn replaces_query_params() {
        let mut url = Url::parse("http://h/x?page=1&q=a").unwrap();
        set_query_param(&mut url, "page", "2");
        assert_eq!(url.query(), Some("page=2&q=a"));
        set_query_param(&mut url, "n", "1");
        assert_eq!(url.query(), Some("page=2&q=a&n=1"));
    }
}
