//! The personal calendar tokens and the one-time claims.
//!
//! A calendar token is two items written together: under the officer (`OFFICER#<id>`,
//! `CALENDAR`: the hash and when it was made) and under its hash (`CALENDAR#<hash>`: the
//! officer), so that the feed finds its officer with one `GetItem`. Replacing a token deletes
//! the old hash's item in the same transaction, conditioned on the officer's item still naming
//! it: two replacements at once cannot leave two live tokens.

use crate::items::{self, Reader, micros, n, s};
use crate::keys;
use crate::tx::{Commit, MAX_OPTIMISTIC_ATTEMPTS, Role, Write, backoff};
use crate::{DynamoStore, contention};
use cassiopee_domain::error::Result;
use cassiopee_domain::ids::OfficerId;
use cassiopee_domain::time::Instant;

impl DynamoStore {
    async fn current_calendar_hash(&self, o: &OfficerId) -> Result<Option<String>> {
        match self.get(&keys::officer_calendar(o)).await? {
            Some(item) => Ok(Some(Reader(&item).s("token_hash")?)),
            None => Ok(None),
        }
    }

    /// The condition that the officer's item still names `old` (or is still absent).
    fn officer_item_names(w: Write, old: &Option<String>) -> Write {
        match old {
            Some(h) => w.when_eq("token_hash", s(h.as_str())),
            None => w.when_absent(),
        }
    }

    pub(crate) async fn set_calendar_token_impl(
        &self,
        o: &OfficerId,
        hash: &str,
        now: Instant,
    ) -> Result<()> {
        for attempt in 0..MAX_OPTIMISTIC_ATTEMPTS {
            let old = self.current_calendar_hash(o).await?;
            let mut mine = items::keyed(&keys::officer_calendar(o));
            mine.insert("token_hash".into(), s(hash));
            mine.insert("created_at".into(), n(micros(now)));
            let mut by_hash = items::keyed(&keys::calendar_token(hash));
            by_hash.insert("officer_id".into(), s(o.as_str()));
            let mut writes = vec![
                Self::officer_item_names(Write::put(Role::Guard, mine), &old),
                Write::put(Role::Guard, by_hash).when_absent(),
            ];
            if let Some(old) = old.as_deref().filter(|h| *h != hash) {
                writes.push(Write::delete(Role::Guard, keys::calendar_token(old)));
            }
            if matches!(self.commit(writes, None).await?, Commit::Done) {
                return Ok(());
            }
            backoff(attempt).await;
        }
        Err(contention("set_calendar_token"))
    }

    pub(crate) async fn revoke_calendar_token_impl(&self, o: &OfficerId) -> Result<bool> {
        for attempt in 0..MAX_OPTIMISTIC_ATTEMPTS {
            let Some(old) = self.current_calendar_hash(o).await? else {
                return Ok(false);
            };
            let writes = vec![
                Write::delete(Role::Guard, keys::officer_calendar(o))
                    .when_eq("token_hash", s(old.as_str())),
                Write::delete(Role::Guard, keys::calendar_token(&old)),
            ];
            if matches!(self.commit(writes, None).await?, Commit::Done) {
                return Ok(true);
            }
            backoff(attempt).await;
        }
        Err(contention("revoke_calendar_token"))
    }

    pub(crate) async fn calendar_token_created_impl(
        &self,
        o: &OfficerId,
    ) -> Result<Option<Instant>> {
        match self.get(&keys::officer_calendar(o)).await? {
            Some(item) => Ok(Some(Reader(&item).instant("created_at")?)),
            None => Ok(None),
        }
    }

    pub(crate) async fn calendar_token_officer(&self, hash: &str) -> Result<Option<OfficerId>> {
        match self.get(&keys::calendar_token(hash)).await? {
            Some(item) => Ok(Some(OfficerId::from_stored(Reader(&item).s("officer_id")?))),
            None => Ok(None),
        }
    }

    pub(crate) async fn claim_once_impl(&self, key: &str, now: Instant) -> Result<bool> {
        let mut item = items::keyed(&keys::claim(key));
        item.insert("claimed_at".into(), n(micros(now)));
        self.write_one(Write::put(Role::Guard, item).when_absent())
            .await
    }
}
