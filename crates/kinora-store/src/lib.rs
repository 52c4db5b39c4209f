//! kinora-store
