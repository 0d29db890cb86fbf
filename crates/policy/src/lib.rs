//! Authorization: who may call which operation, once the caller is proven.
//!
//! - [`requirements`]: scopes and roles (all-of / any-of), per route and per method;
//! - [`owner`]: the declarative object-level rule against BOLA;
//! - [`AuthorizeGuard`]: both, as a guard that runs after authentication.
//!
//! Least privilege is enforced at config load: an authenticated route must name what it
//! requires or say `any_authenticated: true`.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod cedar;
pub mod guard;
pub mod owner;
pub mod requirements;

pub use guard::AuthorizeGuard;
