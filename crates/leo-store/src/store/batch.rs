//! [`Batch`]: records of several kinds for one writer role, appended in one transaction.

use std::fmt;
use std::marker::PhantomData;

#[cfg(doc)]
use super::WriterHandle;
use super::{AppendableBy, WriterRole};
use crate::codec::Event;

/// Events of several record kinds that role `R` appends in one transaction
/// ([`WriterHandle::append_mixed`]): one workflow operation is often several records (the
/// enforcer's apply is a label transition, a handoff and an artifact signature), and they
/// must be recorded together or not at all. [`Batch::push`] accepts only the record types
/// `R` may append, so the role restriction stays a compile-time property.
///
/// ```
/// use leo_store::{Batch, Enforcer, EnforcerHandle, Location, samples};
///
/// let dir = tempfile::tempdir()?;
/// let db: Location = format!("sqlite:{}", dir.path().join("leo.db").display()).parse()?;
/// let mut enforcer = EnforcerHandle::open(&db, None)?;
/// let mut apply = Batch::<Enforcer>::new();
/// apply
///     .push(samples::handoff("apply", 1)?)
///     .push(samples::artifact_signature("apply", 1)?);
/// assert_eq!(enforcer.append_mixed(apply.clone())?.len(), 2);
/// // A retry is recognised record by record, never appended twice.
/// assert!(enforcer.append_mixed(apply)?.iter().all(|r| r.duplicate));
/// assert_eq!(enforcer.size()?, 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// ```compile_fail
/// # fn f(e: leo_store::Event<leo_store::VerificationResult>) {
/// let mut batch = leo_store::Batch::<leo_store::Enforcer>::new();
/// batch.push(e); // only PLAN files verdicts
/// # }
/// ```
///
/// ```compile_fail
/// # fn f(e: leo_store::Event<leo_store::Record>) {
/// let mut batch = leo_store::Batch::<leo_store::Lead>::new();
/// batch.push(e); // an untyped record could be of any kind
/// # }
/// ```
pub struct Batch<R: WriterRole> {
    events: Vec<Event>,
    role: PhantomData<R>,
}

impl<R: WriterRole> Batch<R> {
    /// An empty batch.
    pub fn new() -> Self {
        Batch {
            events: Vec::new(),
            role: PhantomData,
        }
    }

    /// Adds an event; the receipts of [`WriterHandle::append_mixed`] follow push order.
    pub fn push<T: AppendableBy<R>>(&mut self, event: Event<T>) -> &mut Self {
        self.events.push(event.into_any());
        self
    }

    /// The events so far, in push order.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// How many events the batch holds.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether the batch holds no event.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    pub(super) fn into_events(self) -> Vec<Event> {
        self.events
    }
}

impl<R: WriterRole> Default for Batch<R> {
    fn default() -> Self {
        Batch::new()
    }
}

impl<R: WriterRole> Clone for Batch<R> {
    fn clone(&self) -> Self {
        Batch {
            events: self.events.clone(),
            role: PhantomData,
        }
    }
}

impl<R: WriterRole> fmt::Debug for Batch<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Batch")
            .field("role", &R::ROLE)
            .field("events", &self.events)
            .finish()
    }
}

impl<R: WriterRole, T: AppendableBy<R>> Extend<Event<T>> for Batch<R> {
    fn extend<I: IntoIterator<Item = Event<T>>>(&mut self, iter: I) {
        self.events.extend(iter.into_iter().map(Event::into_any));
    }
}
