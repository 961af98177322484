//! Unit tests of the domain rules: no database.

use super::*;
