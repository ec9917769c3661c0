//! The built-in pagination strategies.

use super::{NextPage, PageInfo, Paginator, resume};
use crate::error::HttpError;
use reqwest::Url;
use serde_json::Value;

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

/// `?page=1`, `?page=2`, … until a page is empty, shorter than the page size, or the total is
/// reached. Page URLs are known in advance, so several can be in flight ([`Paged::in_flight`]).
///
/// [`Paged::in_flight`]: super::Paged::in_flight
#[derive(Debug, Clone)]
pub struct PageNumber {
    param: String,
    start: u64,
    size: Option<(String, usize)>,
    total: Option<Total>,
}

/// Where a body says how much data there is.
#[derive(Debug, Clone)]
enum Total {
    /// The number of records in all.
    Records(String),
    /// The number of pages in all.
    Pages(String),
}

impl PageNumber {
    /// Page numbers in query parameter `param`, starting at 1.
    pub fn new(param: &str) -> Self {
        Self {
            param: param.to_owned(),
            start: 1,
            size: None,
            total: None,
        }
    }

    /// The first page number (some APIs count from 0).
    pub fn start(mut self, first: u64) -> Self {
        self.start = first;
        self
    }

    /// Sends the page size in `param`; a shorter page is the last.
    pub fn page_size(mut self, param: &str, size: usize) -> Self {
        self.size = Some((param.to_owned(), size.max(1)));
        self
    }

    /// The body holds the number of records in all at `path` (with [`page_size`](Self::page_size)):
    /// pages past it are not requested.
    pub fn total_at(mut self, path: &str) -> Self {
        self.total = Some(Total::Records(path.to_owned()));
        self
    }

    /// The body holds the number of pages in all at `path`: pages past it are not requested.
    pub fn total_pages_at(mut self, path: &str) -> Self {
        self.total = Some(Total::Pages(path.to_owned()));
        self
    }

    fn number_of(&self, url: &Url) -> u64 {
        query_param(url, &self.param)
            .and_then(|p| p.parse::<u64>().ok())
            .unwrap_or(self.start)
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

    fn body_paths(&self) -> Vec<String> {
        match &self.total {
            Some(Total::Records(path) | Total::Pages(path)) => vec![path.clone()],
            None => Vec::new(),
        }
    }

    fn page_url(&self, first: &Url, index: u64) -> Option<Url> {
        let mut url = first.clone();
        let number = self.start.saturating_add(index);
        set_query_param(&mut url, &self.param, &number.to_string());
        Some(url)
    }

    fn page_count(&self, page: &PageInfo) -> Option<u64> {
        match &self.total {
            Some(Total::Pages(path)) => number_at(page, path),
            Some(Total::Records(path)) => {
                let size = self.size.as_ref()?.1 as u64;
                number_at(page, path).map(|total| total.div_ceil(size))
            }
            None => None,
        }
    }

    fn next(&self, page: &PageInfo) -> Result<Option<NextPage>, HttpError> {
        if self
            .size
            .as_ref()
            .is_some_and(|(_, size)| page.record_count() < *size)
        {
            return Ok(None);
        }
        let current = self.number_of(page.url());
        let index = current.saturating_sub(self.start);
        if self
            .page_count(page)
            .is_some_and(|count| index + 1 >= count)
        {
            return Ok(None);
        }
        let mut url = page.url().clone();
        set_query_param(&mut url, &self.param, &(current + 1).to_string());
        Ok(Some(NextPage::new(url)))
    }
}

/// A non-negative integer in the body (a number, or a string of digits).
fn number_at(page: &PageInfo, path: &str) -> Option<u64> {
    page.text(path)?.parse::<u64>().ok()
}

/// `?offset=0&limit=100`, `?offset=100&limit=100`, … until a page is shorter than `limit` or the
/// total is reached. Page URLs are known in advance, so several can be in flight.
#[derive(Debug, Clone)]
pub struct OffsetLimit {
    offset_param: String,
    limit_param: String,
    limit: usize,
    total: Option<String>,
}

impl OffsetLimit {
    /// Offset and limit in the named query parameters.
    pub fn new(offset_param: &str, limit_param: &str, limit: usize) -> Self {
        Self {
            offset_param: offset_param.to_owned(),
            limit_param: limit_param.to_owned(),
            limit: limit.max(1),
            total: None,
        }
    }

    /// The body holds the number of records in all at `path`: offsets past it are not requested.
    pub fn total_at(mut self, path: &str) -> Self {
        self.total = Some(path.to_owned());
        self
    }
}

impl Paginator for OffsetLimit {
    fn first(&self, mut url: Url) -> Url {
        set_query_param(&mut url, &self.offset_param, "0");
        set_query_param(&mut url, &self.limit_param, &self.limit.to_string());
        url
    }

    fn body_paths(&self) -> Vec<String> {
        self.total.iter().cloned().collect()
    }

    fn page_url(&self, first: &Url, index: u64) -> Option<Url> {
        let mut url = first.clone();
        let offset = index.saturating_mul(self.limit as u64);
        set_query_param(&mut url, &self.offset_param, &offset.to_string());
        Some(url)
    }

    fn page_count(&self, page: &PageInfo) -> Option<u64> {
        let total = number_at(page, self.total.as_deref()?)?;
        Some(total.div_ceil(self.limit as u64))
    }

    fn next(&self, page: &PageInfo) -> Result<Option<NextPage>, HttpError> {
        if page.record_count() < self.limit {
            return Ok(None);
        }
        let offset = query_param(page.url(), &self.offset_param)
            .and_then(|o| o.parse::<u64>().ok())
            .unwrap_or(0);
        let next = offset + page.record_count() as u64;
        let total = self.total.as_deref().and_then(|path| number_at(page, path));
        if total.is_some_and(|total| next >= total) {
            return Ok(None);
        }
        let mut url = page.url().clone();
        set_query_param(&mut url, &self.offset_param, &next.to_string());
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
    fn body_paths(&self) -> Vec<String> {
        vec![self.path.clone()]
    }

    fn next(&self, page: &PageInfo) -> Result<Option<NextPage>, HttpError> {
        let Some(cursor) = page.text(&self.path) else {
            return Ok(None);
        };
        let mut url = page.url().clone();
        set_query_param(&mut url, &self.param, &cursor);
        Ok(Some(NextPage::new(url).cursor(cursor)))
    }

    /// `{"cursor": "…"}`: a resumed read sends the first request with it.
    fn resume_point(&self, next: &NextPage) -> Value {
        resume::cursor_point(next)
    }

    fn resume_at(&self, first: &Url, point: &Value) -> Result<NextPage, HttpError> {
        let cursor = resume::read_cursor(first, point)?;
        let mut url = first.clone();
        set_query_param(&mut url, &self.param, cursor);
        Ok(NextPage::new(url).cursor(cursor))
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
    fn next(&self, page: &PageInfo) -> Result<Option<NextPage>, HttpError> {
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
    fn body_paths(&self) -> Vec<String> {
        vec![self.path.clone()]
    }

    fn next(&self, page: &PageInfo) -> Result<Option<NextPage>, HttpError> {
        match page.value(&self.path).and_then(|v| v.as_str()) {
            Some(target) if !target.is_empty() => {
                resolve(page, target).map(|url| Some(NextPage::new(url)))
            }
            _ => Ok(None),
        }
    }
}

fn resolve(page: &PageInfo, target: &str) -> Result<Url, HttpError> {
    page.url()
        .join(target)
        .map_err(|err| page.decode_error(format!("next page link {target:?} is not a URL: {err}")))
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
