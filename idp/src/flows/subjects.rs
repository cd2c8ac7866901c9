//! The `sub` a client sees for a citizen (public or pairwise: see `domain::subject`).
use crate::domain::client::Client;
use crate::services::Services;

pub fn subject_for(svc: &Services, client: &Client, local_sub: &str) -> String {
    client.subject.sub_for(&svc.secrets.pairwise[..], local_sub)
}
