//! tap-rest: an example burler tap over a REST shop API.
//!
//! The library half holds [`fixture`], the shop API the tap reads in its demo and tests,
//! served in-process so nothing needs the network.

pub mod fixture;
