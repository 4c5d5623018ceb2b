//! The CAPF wire protocol, from the bytes up: frames, elements, messages,
//! and the authentication content and checks.

#[macro_use]
mod codes;

pub mod auth;
pub mod element;
pub mod frame;
pub mod message;
