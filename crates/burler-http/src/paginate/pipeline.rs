//! Pipelined pages: a driver task requests and decodes pages ahead of the caller, up to a bound,
//! and hands them over strictly in page order through a bounded channel.
//!
//! The driver reserves a channel slot before it requests a page, so at most `window` pages are
//! in flight, decoding or waiting beyond the one the caller holds: memory stays bounded however
//! slow the caller is. Requests and their decoding run off the caller's task (on the driver's,
//! or on tasks of their own when several may be under way), so they overlap each other and the
//! caller's work. A request counts against `in_flight` only until
//! its body is read: when page URLs are known in advance, the next request goes out while the
//! previous page is still being decoded. Pages after the end of the data, or after an error, are
//! aborted and never reach the caller.
//!
//! Overlap needs the driver to run while the caller works. Tokio puts a task woken from a worker
//! into that worker's LIFO slot, which no other worker may take, and tells no idle worker: the
//! driver woken by the caller taking a page (a channel slot freed), or by a fetch task reading
//! its body (a network slot freed), would wait until that task yields, that is until the page is
//! written or decoded. So each yields once at that point, and the driver runs at once while the
//! yielding task goes on from the run queue, where an idle worker takes it.

use super::resume::{self, Credentials};
use super::{NextPage, Page, PageInfo, Paginator, RawPage};
use crate::client::HttpClient;
use crate::decode::{DecodeError, PageShape, Values};
use crate::error::{HttpError, body_excerpt, redact_url};
use crate::message::Request;
use bytes::Bytes;
use futures::Stream;
use reqwest::Url;
use serde::de::DeserializeOwned;
use std::collections::{HashSet, VecDeque};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::sync::mpsc::{self, OwnedPermit, Receiver, Sender};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Everything the driver and its fetch tasks share.
pub(crate) struct Plan {
    pub(crate) client: HttpClient,
    pub(crate) template: Request,
    /// The first page of a read from the start.
    pub(crate) first: Url,
    /// The first page this read requests (another one when it resumes).
    pub(crate) start: NextPage,
    /// The index of that page, for strategies whose page URLs are known in advance.
    pub(crate) start_index: u64,
    /// Whether page URLs are known in advance ([`Paginator::page_url`]).
    pub(crate) predictable: bool,
    pub(crate) paginator: Arc<dyn Paginator>,
    pub(crate) shape: Arc<PageShape>,
    pub(crate) prefetch: usize,
    pub(crate) in_flight: usize,
    pub(crate) refetch_truncated: u32,
}

impl Plan {
    /// Pages requested but not yet taken by the caller, at most.
    fn window(&self) -> usize {
        self.prefetch.max(self.in_flight).max(1)
    }

    /// Whether page fetches run on tasks of their own: the driver polls only the oldest fetch,
    /// so one that may wait behind another needs its own task.
    fn spawns_fetches(&self) -> bool {
        self.predictable && self.window() > 1
    }

    /// Whether each page waits for the caller to ask for it (no prefetch at all).
    fn on_demand(&self) -> bool {
        self.prefetch == 0 && self.in_flight <= 1
    }

    fn request_for(&self, target: &NextPage) -> Result<Request, HttpError> {
        let mut request = self.template.try_clone().ok_or_else(|| {
            HttpError::config("a paginated request needs a body that can be sent again")
        })?;
        *request.url_mut() = target.url.clone();
        if let Some(body) = &target.body {
            *request.as_reqwest_mut().body_mut() = Some(body.clone().into());
        }
        Ok(request)
    }
}

/// A page type the driver can produce from a response body: [`Page`] and [`RawPage`]. Sealed
/// (not nameable outside the crate).
pub trait Decode: Sized + Send + 'static {
    /// What the body decodes to, besides the values.
    type Content: Send;

    /// One pass over the body.
    fn decode(shape: &Arc<PageShape>, body: &Bytes)
    -> Result<(Self::Content, Values), DecodeError>;

    /// The page from its info and content.
    fn assemble(info: PageInfo, content: Self::Content) -> Self;

    /// What the strategy sees.
    fn info(&self) -> &PageInfo;

    /// The same, to set where a read resumes after this page.
    fn info_mut(&mut self) -> &mut PageInfo;
}

impl<T: DeserializeOwned + Send + 'static> Decode for Page<T> {
    type Content = Vec<T>;

    fn decode(shape: &Arc<PageShape>, body: &Bytes) -> Result<(Vec<T>, Values), DecodeError> {
        shape.decode(body).map(|d| (d.records, d.values))
    }

    fn assemble(info: PageInfo, records: Vec<T>) -> Self {
        Page { info, records }
    }

    fn info(&self) -> &PageInfo {
        &self.info
    }

    fn info_mut(&mut self) -> &mut PageInfo {
        &mut self.info
    }
}

impl Decode for RawPage {
    type Content = (Bytes, Arc<PageShape>);

    fn decode(
        shape: &Arc<PageShape>,
        body: &Bytes,
    ) -> Result<(Self::Content, Values), DecodeError> {
        let values = shape.count(body)?;
        Ok(((body.clone(), shape.clone()), values))
    }

    fn assemble(info: PageInfo, (body, shape): Self::Content) -> Self {
        RawPage { info, body, shape }
    }

    fn info(&self) -> &PageInfo {
        &self.info
    }

    fn info_mut(&mut self) -> &mut PageInfo {
        &mut self.info
    }
}

/// Requests one page and decodes it; a body whose JSON ends early is requested again. The
/// network permit is given back once the body is read, before decoding.
async fn fetch<P: Decode>(
    plan: Arc<Plan>,
    target: NextPage,
    number: u64,
    network: OwnedSemaphorePermit,
) -> Result<(P, Bytes), HttpError> {
    let mut refetches = 0;
    let mut network = Some(network);
    loop {
        let request = plan.request_for(&target)?;
        let method = request.method().clone();
        let response = plan.client.execute(request).await;
        if network.take().is_some() && plan.spawns_fetches() {
            // The freed slot woke the driver into this worker's LIFO slot, which no other worker
            // may take: yield, so the next request goes out before this page is decoded.
            tokio::task::yield_now().await;
        }
        let response = response?.error_for_status()?;
        let (url, status, headers, body) = response.into_parts();
        match P::decode(&plan.shape, &body) {
            Ok((content, values)) => {
                let info = PageInfo {
                    number,
                    method,
                    url,
                    status,
                    headers,
                    values,
                    resume: None,
                };
                return Ok((P::assemble(info, content), body));
            }
            Err(err) if err.is_truncated() && refetches < plan.refetch_truncated => {
                refetches += 1;
                tracing::warn!(
                    "{method} {}: the body ended early ({err}); requesting the page again ({refetches} of {})",
                    redact_url(&url),
                    plan.refetch_truncated
                );
            }
            Err(err) => {
                return Err(HttpError::Decode {
                    method,
                    url: redact_url(&url),
                    message: err.to_string(),
                    body_excerpt: body_excerpt(&body),
                });
            }
        }
    }
}

/// A spawned task that is aborted when dropped (pages past the end, a caller that went away).
struct Task<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for Task<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A page request on its way: the channel slot it will fill and the task fetching it.
struct Flight<P> {
    permit: OwnedPermit<Result<P, HttpError>>,
    fetch: Fetch<P>,
    url: Url,
    cursor: Option<String>,
}

/// A page fetch: on a task of its own when several may be under way, else run by the driver
/// itself (one task fewer to wake per page).
enum Fetch<P> {
    Spawned(Task<Result<(P, Bytes), HttpError>>),
    Inline(crate::BoxFuture<'static, Result<(P, Bytes), HttpError>>),
}

impl<P> Flight<P> {
    async fn join(&mut self) -> Result<(P, Bytes), HttpError> {
        let task = match &mut self.fetch {
            Fetch::Inline(fetch) => return fetch.await,
            Fetch::Spawned(task) => &mut task.0,
        };
        match task.await {
            Ok(outcome) => outcome,
            Err(err) => Err(HttpError::PageTask {
                url: redact_url(&self.url),
                message: err.to_string(),
            }),
        }
    }
}

/// The caller went away: stop.
struct Closed;

/// What the driver waited for.
enum Event<P> {
    /// The oldest page request finished.
    Done(Result<(P, Bytes), HttpError>),
    /// A request slot on the network came free.
    Network(OwnedSemaphorePermit),
}

/// Requests pages in order, up to the window, and hands them over in order.
struct Driver<P> {
    plan: Arc<Plan>,
    predictable: bool,
    queue: VecDeque<Flight<P>>,
    next: Option<NextPage>,
    issued: u64,
    page_count: Option<u64>,
    seen: HashSet<String>,
    previous: Option<Bytes>,
    ended: bool,
    demand: Option<Arc<Semaphore>>,
    /// Requests on the network at once (`in_flight` permits), held until a body is read.
    network: Arc<Semaphore>,
    /// A network permit taken while waiting, for the next request.
    spare: Option<OwnedSemaphorePermit>,
    /// What resume points leave out.
    credentials: Credentials,
}

impl<P: Decode> Driver<P> {
    fn new(plan: Arc<Plan>, demand: Option<Arc<Semaphore>>) -> Self {
        let plan_in_flight = plan.in_flight.max(1);
        Self {
            next: Some(plan.start.clone()),
            predictable: plan.predictable,
            issued: plan.start_index,
            credentials: Credentials::new(&plan.first),
            plan,
            queue: VecDeque::new(),
            page_count: None,
            seen: HashSet::new(),
            previous: None,
            ended: false,
            demand,
            network: Arc::new(Semaphore::new(plan_in_flight)),
            spare: None,
        }
    }

    async fn run(mut self, tx: Sender<Result<P, HttpError>>) {
        loop {
            if self.issue(&tx).await.is_err() {
                return;
            }
            let waits_for_network = self.can_issue() && self.spare.is_none();
            let network = self.network.clone();
            let Some(front) = self.queue.front_mut() else {
                return;
            };
            let event = tokio::select! {
                biased;
                outcome = front.join() => Event::Done(outcome),
                Ok(permit) = network.acquire_owned(), if waits_for_network => Event::Network(permit),
            };
            let outcome = match event {
                Event::Network(permit) => {
                    self.spare = Some(permit);
                    continue;
                }
                Event::Done(outcome) => outcome,
            };
            let Some(flight) = self.queue.pop_front() else {
                return;
            };
            let result = outcome.and_then(|(page, body)| self.accept(page, body, &flight));
            let failed = result.is_err();
            flight.permit.send(result);
            if failed || self.ended {
                // Pages still queued come after the last page or after an error: dropped, so
                // their requests are aborted.
                return;
            }
        }
    }

    /// Whether another page may be requested now (a network slot aside).
    fn can_issue(&self) -> bool {
        if self.ended {
            return false;
        }
        if self.predictable {
            self.queue.len() < self.plan.window()
                && self.page_count.is_none_or(|count| self.issued < count)
        } else {
            self.queue.is_empty() && self.next.is_some()
        }
    }

    /// A network slot, if one is free now.
    fn network_slot(&mut self) -> Option<OwnedSemaphorePermit> {
        self.spare
            .take()
            .or_else(|| self.network.clone().try_acquire_owned().ok())
    }

    async fn issue(&mut self, tx: &Sender<Result<P, HttpError>>) -> Result<(), Closed> {
        while self.can_issue() {
            let Some(network) = self.network_slot() else {
                return Ok(());
            };
            if let Some(demand) = &self.demand {
                demand.acquire().await.map_err(|_| Closed)?.forget();
            }
            let permit = tx.clone().reserve_owned().await.map_err(|_| Closed)?;
            let target = match self.target() {
                Ok(Some(target)) => target,
                Ok(None) => {
                    self.ended = true;
                    return Ok(());
                }
                Err(err) => {
                    permit.send(Err(err));
                    self.ended = true;
                    return Ok(());
                }
            };
            self.issued += 1;
            let (url, cursor) = (target.url.clone(), target.cursor.clone());
            let future = Box::pin(fetch::<P>(self.plan.clone(), target, self.issued, network));
            let fetch = if self.plan.spawns_fetches() {
                Fetch::Spawned(Task(tokio::spawn(future)))
            } else {
                Fetch::Inline(future)
            };
            self.queue.push_back(Flight {
                permit,
                fetch,
                url,
                cursor,
            });
        }
        Ok(())
    }

    /// The next page to request; a page requested before is a loop.
    fn target(&mut self) -> Result<Option<NextPage>, HttpError> {
        if self.predictable {
            let url = match self.issued {
                0 => Some(self.plan.first.clone()),
                index => self.plan.paginator.page_url(&self.plan.first, index),
            };
            return Ok(url.map(NextPage::new));
        }
        let Some(next) = self.next.take() else {
            return Ok(None);
        };
        if !self.seen.insert(next.key()) {
            return Err(HttpError::PaginationLoop {
                url: redact_url(&next.url),
                cursor: next.cursor,
            });
        }
        Ok(Some(next))
    }

    /// Checks a fetched page (loop, end of data), finds the next one and where a read resumes
    /// to fetch it.
    fn accept(&mut self, mut page: P, body: Bytes, flight: &Flight<P>) -> Result<P, HttpError> {
        let info = page.info();
        let records = info.record_count();
        if records > 0 && self.previous.as_ref() == Some(&body) {
            return Err(HttpError::PaginationLoop {
                url: redact_url(info.url()),
                cursor: flight.cursor.clone(),
            });
        }
        self.previous = Some(body);
        self.credentials.learn(&flight.url, info.url());
        if let Some(count) = self.plan.paginator.page_count(info) {
            self.page_count = Some(count);
        }
        let next = self.plan.paginator.next(info)?.filter(|_| records > 0);
        let resume = next.as_ref().map(|next| self.resume_point(info, next));
        page.info_mut().resume = resume;
        match next {
            Some(next) if !self.predictable => self.next = Some(next),
            Some(_) => {}
            None => self.ended = true,
        }
        Ok(page)
    }

    /// Where a read resumes to fetch `next`, the page after `page`.
    fn resume_point(&self, page: &PageInfo, next: &NextPage) -> serde_json::Value {
        if self.predictable {
            // Pages are numbered from 1 in the whole read, so this page's number is the index
            // of the next one.
            return resume::index_point(page.number());
        }
        let mut stored = next.clone();
        stored.url = self.credentials.strip(&next.url);
        self.plan.paginator.resume_point(&stored)
    }
}

/// A stream of pages, fetched ahead by a driver task started at the first poll. Dropping it
/// stops the driver and aborts the requests in flight.
pub struct PageStream<P> {
    state: State<P>,
}

enum State<P> {
    NotStarted(Box<Result<Plan, HttpError>>),
    Running {
        rx: Receiver<Result<P, HttpError>>,
        _driver: Task<()>,
        demand: Option<Arc<Semaphore>>,
        asked: bool,
        /// A page received and held over one yield (see [`PageStream::poll_next`]).
        held: Option<P>,
    },
    Done,
}

impl<P> std::fmt::Debug for PageStream<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match self.state {
            State::NotStarted(_) => "not started",
            State::Running { .. } => "running",
            State::Done => "done",
        };
        f.debug_struct("PageStream").field("state", &state).finish()
    }
}

impl<P: Decode> PageStream<P> {
    pub(crate) fn new(plan: Result<Plan, HttpError>) -> Self {
        Self {
            state: State::NotStarted(Box::new(plan)),
        }
    }

    /// Starts the driver; an error (a request that could not be built, no runtime) is the
    /// stream's only item.
    fn start(&mut self) -> Option<HttpError> {
        let State::NotStarted(plan) = std::mem::replace(&mut self.state, State::Done) else {
            return None;
        };
        let plan = match *plan {
            Ok(plan) => plan,
            Err(err) => return Some(err),
        };
        if tokio::runtime::Handle::try_current().is_err() {
            return Some(HttpError::config(
                "paginated requests must be polled inside a tokio runtime",
            ));
        }
        let (tx, rx) = mpsc::channel(plan.window());
        let demand = plan.on_demand().then(|| Arc::new(Semaphore::new(0)));
        let driver = Driver::<P>::new(Arc::new(plan), demand.clone());
        self.state = State::Running {
            rx,
            _driver: Task(tokio::spawn(driver.run(tx))),
            demand,
            asked: false,
            held: None,
        };
        None
    }
}

// Pages are moved out of the channel, never pinned in place.
impl<P> Unpin for PageStream<P> {}

impl<P: Decode> Stream for PageStream<P> {
    type Item = Result<P, HttpError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if matches!(this.state, State::NotStarted(_)) {
            if let Some(err) = this.start() {
                return Poll::Ready(Some(Err(err)));
            }
        }
        let State::Running {
            rx,
            demand,
            asked,
            held,
            ..
        } = &mut this.state
        else {
            return Poll::Ready(None);
        };
        if let Some(page) = held.take() {
            return Poll::Ready(Some(Ok(page)));
        }
        if let (Some(demand), false) = (demand.as_ref(), *asked) {
            demand.add_permits(1);
            *asked = true;
        }
        match rx.poll_recv(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Ok(page))) if demand.is_none() => {
                // Taking the page freed a channel slot, which woke the driver into this worker's
                // LIFO slot, where no other worker may take it: it would wait until the caller
                // is done with the page. Yield once, so the driver requests the next page now
                // and the caller goes on from the run queue (on another worker if one is idle).
                *held = Some(page);
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            Poll::Ready(Some(item)) => {
                *asked = false;
                if item.is_err() {
                    this.state = State::Done;
                }
                Poll::Ready(Some(item))
            }
            Poll::Ready(None) => {
                this.state = State::Done;
                Poll::Ready(None)
            }
        }
    }
}

/// The records of a [`PageStream`], one by one, in page order.
pub struct Records<T> {
    pages: PageStream<Page<T>>,
    current: std::vec::IntoIter<T>,
}

impl<T> std::fmt::Debug for Records<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Records")
            .field("pages", &self.pages)
            .field("left_on_page", &self.current.len())
            .finish()
    }
}

impl<T: DeserializeOwned + Send + 'static> Records<T> {
    pub(crate) fn new(pages: PageStream<Page<T>>) -> Self {
        Self {
            pages,
            current: Vec::new().into_iter(),
        }
    }

    /// The pages instead (the records of the page in hand are dropped).
    pub fn into_pages(self) -> PageStream<Page<T>> {
        self.pages
    }
}

// Records are moved out of the page, never pinned in place.
impl<T> Unpin for Records<T> {}

impl<T: DeserializeOwned + Send + 'static> Stream for Records<T> {
    type Item = Result<T, HttpError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(record) = this.current.next() {
                return Poll::Ready(Some(Ok(record)));
            }
            match Pin::new(&mut this.pages).poll_next(cx) {
                Poll::Ready(Some(Ok(page))) => this.current = page.into_records().into_iter(),
                Poll::Ready(Some(Err(err))) => return Poll::Ready(Some(Err(err))),
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}
